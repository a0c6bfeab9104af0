// Slack in Socket Mode for end-to-end tests: the real `scribe serve` with an app-level token
// and no public URL; apps.connections.open is answered by SlackStandIn and the WebSockets
// are served by SocketModeStandIn (TLS with a CA made by the test, trusted by the process
// through SSL_CERT_FILE). SlackModesE2E runs one test body in each mode, HTTP and Socket
// Mode: its `slack_->command()` goes over whichever the parameter names.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "adapters/slack/form.h"
#include "e2e/fixture.h"
#include "support/socket_mode_standin.h"

namespace scribe::testing {

enum class SlackMode { kHttp, kSocket };

inline std::string mode_name(const ::testing::TestParamInfo<SlackMode>& info) {
  return info.param == SlackMode::kHttp ? "Http" : "SocketMode";
}

// The fields of a slash command's form body as Socket Mode carries them: a JSON object.
inline nlohmann::json form_fields(const std::string& form_body) {
  const slack::FormResult form = slack::parse_form(form_body);
  if (!form) throw std::runtime_error("bad form body: " + form.error);
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& [key, value] : *form.form) fields[key] = value;
  return fields;
}

// Adds Socket Mode to a Scribe fixture: call enable_socket_mode() before the first start.
class SocketModeSupport {
 public:
  static constexpr const char* kAppToken = "xapp-1-A0STANDIN-e2e-app-token";

  // The environment of a Scribe whose Slack ingress is Socket Mode; `http_too`: the
  // signing secret stays, so /slack/* works as well.
  void enable_socket_mode(std::map<std::string, std::string>& env, bool http_too) {
    api_.serve_socket_mode(kAppToken, [this] { return sockets_.next_url(); });
    env["SCRIBE_SLACK_APP_TOKEN"] = kAppToken;
    env["SCRIBE_SLACK_API_URL"] = api_.base_url();
    env["SSL_CERT_FILE"] = sockets_.ca_file();
    if (!http_too) env["SCRIBE_SLACK_SIGNING_SECRET"] = "";
  }

  // Sends a slash command's fields as an envelope on the newest connection and returns the
  // acknowledgement (throws when none comes).
  nlohmann::json socket_command_ack(const std::string& form_body, std::string envelope_id = "") {
    const std::string id =
        sockets_.send_envelope(-1, "slash_commands", form_fields(form_body), envelope_id);
    if (id.empty()) throw std::runtime_error("no Socket Mode connection is open");
    const auto ack = sockets_.wait_for_ack(id);
    if (!ack) throw std::runtime_error("envelope " + id + " was not acknowledged");
    return *ack;
  }

  // The reply of a slash command sent over Socket Mode: the acknowledgement's payload.
  nlohmann::json socket_command(const std::string& form_body) {
    const nlohmann::json ack = socket_command_ack(form_body);
    if (!ack.contains("payload")) {
      throw std::runtime_error("acknowledgement without a payload: " + ack.dump());
    }
    return ack["payload"];
  }

  SlackStandIn api_{""};
  SocketModeStandIn sockets_;
};

class SlackModesE2E : public ScribeE2E,
                      public SocketModeSupport,
                      public ::testing::WithParamInterface<SlackMode> {
 protected:
  void SetUp() override {
    if (GetParam() == SlackMode::kSocket) enable_socket_mode(env_, /*http_too=*/false);
    ScribeE2E::SetUp();
  }

  void started() override {
    if (GetParam() != SlackMode::kSocket) return;
    // Both connections up (Scribe's own gauge), so a command finds one.
    ASSERT_TRUE(wait_for_metric("scribe_slack_socket_connections", [](long long n) {
      return n >= 2;
    })) << scribe_->logs();
    slack_->send_through([this](const std::string& body) { return socket_command(body); });
  }
};

}  // namespace scribe::testing
