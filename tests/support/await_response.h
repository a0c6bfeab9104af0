// Tests: the answer of an asynchronous HTTP handler, waited for (the handler may answer on
// its own thread or on a store thread). Fails the test, and answers 599, when no answer
// comes within `limit`: a handler that never answers must not hang the suite.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <utility>

#include <gtest/gtest.h>

#include "net/http_message.h"

namespace scribe::test {

inline HttpResponse await_response(const std::function<void(Respond)>& call,
                                   std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto answered = std::make_shared<std::promise<HttpResponse>>();
  std::future<HttpResponse> answer = answered->get_future();
  call([answered](HttpResponse r) { answered->set_value(std::move(r)); });
  if (answer.wait_for(limit) != std::future_status::ready) {
    ADD_FAILURE() << "the handler did not answer within " << limit.count() << " s";
    return HttpResponse{599, "text/plain", "no answer", {}};
  }
  return answer.get();
}

}  // namespace scribe::test
