// Matrix message text (matrix::message_text): the body, and the HTML formatted_body with
// mention pills, rich-reply quotes and character references, as any client or federated
// server may send them. It never throws; the text is trimmed; every mention is a user id
// ("@local:server"), listed once; from valid UTF-8 comes valid UTF-8 without NUL, so what
// is stored can always be shown and sent again as JSON.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/matrix/message_text.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/text_checks.h"

using namespace scribe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const bool html = in.ConsumeBool();
  nlohmann::json content = nlohmann::json::object();
  content["msgtype"] = "m.text";
  const std::string body = in.ConsumeRandomLengthString(4096);
  const std::string formatted = in.ConsumeRemainingBytesAsString();
  content["body"] = body;
  if (html) {
    content["format"] = "org.matrix.custom.html";
    content["formatted_body"] = formatted;
  }
  const std::string shown = body + "\n----\n" + formatted;

  std::vector<Person> mentions;
  const std::string text = matrix::message_text(content, mentions);
  FUZZ_CHECK(text.empty() || (!std::isspace(static_cast<unsigned char>(text.front())) &&
                              !std::isspace(static_cast<unsigned char>(text.back()))),
             shown);
  for (std::size_t i = 0; i < mentions.size(); ++i) {
    const std::string& id = mentions[i].id;
    FUZZ_CHECK(id.size() >= 3 && id.front() == '@' && id.find(':') != std::string::npos, shown);
    for (std::size_t k = 0; k < i; ++k) FUZZ_CHECK(mentions[k].id != id, shown);
  }
  if (fuzz::valid_utf8(body) && fuzz::valid_utf8(formatted)) {
    FUZZ_CHECK(fuzz::valid_utf8(text), shown);
    if (body.find('\0') == std::string::npos && formatted.find('\0') == std::string::npos) {
      FUZZ_CHECK(text.find('\0') == std::string::npos, shown);
    }
    for (const Person& p : mentions) FUZZ_CHECK(fuzz::valid_utf8(p.id), shown);
  }
  return 0;
}
