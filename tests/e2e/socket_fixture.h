// Slack in Socket Mode for end-to-end tests: the real `scribe serve` with an app-level token
// and no public URL; apps.connections.open is answered by SlackStandIn and the WebSockets
// are served by SocketModeStandIn (TLS with a CA made by the test, trusted by the process
// through SSL_CERT_FILE). SlackModesE2E runs one test body in each mode, HTTP and Socket
// Mode: its `slack_->command()` goes over whichever the parameter names. SlackModes<Fixture>
// gives any fixture derived from ScribeE2E (or SlackE2E) the same two modes, with helpers
// that deliver an Events API body or an interactivity payload over the parameter's mode.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "adapters/slack/form.h"
#include "e2e/fixture.h"
#include "support/socket_mode_standin.h"
#include "util/percent.h"

namespace scribe::testing {

enum class SlackMode { kHttp, kSocket };

inline std::string mode_name(const ::testing::TestParamInfo<SlackMode>& info) {
  return info.param == SlackMode::kHttp ? "Http" : "SocketMode";
}

// A failing test names its mode rather than "4-byte object <01-00 00-00>".
inline void PrintTo(SlackMode mode, std::ostream* os) {
  *os << (mode == SlackMode::kHttp ? "Http" : "SocketMode");
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
  // signing secret stays, so /slack/* works as well. `web_api`: the stand-in that serves
  // apps.connections.open and every other Web API call (default: api_, which accepts any
  // token).
  void enable_socket_mode(std::map<std::string, std::string>& env, bool http_too,
                          SlackStandIn* web_api = nullptr) {
    SlackStandIn& api = web_api != nullptr ? *web_api : api_;
    api.serve_socket_mode(kAppToken, [this] { return sockets_.next_url(); });
    env["SCRIBE_SLACK_APP_TOKEN"] = kAppToken;
    env["SCRIBE_SLACK_API_URL"] = api.base_url();
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

// How Scribe took a delivery from Slack: over HTTP the response, in Socket Mode the
// acknowledgement of the envelope.
struct SlackDelivery {
  bool acknowledged = false;  // HTTP: 200; Socket Mode: the envelope was acknowledged
  long status = 0;            // HTTP: the status; Socket Mode: 0
  std::string body;           // HTTP: the response body; Socket Mode: the payload's dump or ""
  nlohmann::json ack;         // Socket Mode: the acknowledgement; null over HTTP
};

// Fixture (ScribeE2E or a fixture derived from it) run in the Slack mode of the test's
// parameter: HTTP as the fixture is, or Socket Mode only (no signing secret, no /slack/*).
// In Socket Mode the stand-in Web API of a SlackE2E fixture also serves
// apps.connections.open, so the calls a scenario checks and the connections come from one
// Slack. `slack_->command()`, deliver_event() and deliver_interaction() go over the mode.
template <typename Fixture>
class SlackModes : public Fixture,
                   public SocketModeSupport,
                   public ::testing::WithParamInterface<SlackMode> {
  static_assert(std::is_base_of_v<ScribeE2E, Fixture>);

 protected:
  bool socket_mode() const { return this->GetParam() == SlackMode::kSocket; }

  void SetUp() override {
    if (socket_mode()) enable_socket_mode(this->env_, /*http_too=*/false, web_api());
    Fixture::SetUp();
  }

  void started() override {
    Fixture::started();
    if (!socket_mode()) return;
    // Both connections up (Scribe's own gauge), so a command finds one.
    ASSERT_TRUE(this->wait_for_metric("scribe_slack_socket_connections", [](long long n) {
      return n >= 2;
    })) << this->scribe_->logs();
    this->slack_->send_through([this](const std::string& body) { return socket_command(body); });
  }

  // An Events API body (`event_callback`) as Slack delivers it in this mode: a POST to
  // /slack/events signed with the signing secret, or an `events_api` envelope. `retry`: the
  // how-many-th time Slack sends it again (HTTP: X-Slack-Retry-Num; Socket Mode: a new
  // envelope, as Slack redelivers there). Returns once Scribe answered or acknowledged.
  SlackDelivery deliver_event(const nlohmann::json& body, int retry = 0) {
    if (socket_mode()) return deliver_envelope("events_api", body);
    std::vector<std::string> headers;
    if (retry > 0) {
      headers = {"X-Slack-Retry-Num: " + std::to_string(retry),
                 "X-Slack-Retry-Reason: http_timeout"};
    }
    return from_http(
        this->post_signed_to("/slack/events", body.dump(), "application/json", headers));
  }

  // An interactivity payload (a button click) as Slack delivers it in this mode: a signed
  // form POST `payload=<JSON>` to /slack/interactivity, or an `interactive` envelope.
  SlackDelivery deliver_interaction(const nlohmann::json& payload) {
    if (socket_mode()) return deliver_envelope("interactive", payload);
    return from_http(this->post_signed_to("/slack/interactivity",
                                          "payload=" + form_encode(payload.dump()),
                                          "application/x-www-form-urlencoded"));
  }

 private:
  SlackStandIn* web_api() {
    if constexpr (std::is_base_of_v<SlackE2E, Fixture>) {
      return &this->standin_;
    } else {
      return &api_;
    }
  }

  static SlackDelivery from_http(const HttpResult& r) {
    SlackDelivery d;
    d.status = r.status;
    d.acknowledged = r.status == 200;
    d.body = r.body;
    return d;
  }

  SlackDelivery deliver_envelope(const std::string& type, const nlohmann::json& payload) {
    SlackDelivery d;
    const std::string id = sockets_.send_envelope(-1, type, payload);
    EXPECT_FALSE(id.empty()) << "no Socket Mode connection is open";
    if (id.empty()) return d;
    const std::optional<nlohmann::json> ack = sockets_.wait_for_ack(id);
    EXPECT_TRUE(ack.has_value()) << type << " envelope " << id << " was not acknowledged\n"
                                 << this->scribe_->logs();
    if (!ack) return d;
    d.acknowledged = true;
    d.ack = *ack;
    if (ack->contains("payload")) d.body = (*ack)["payload"].dump();
    return d;
  }
};

class SlackModesE2E : public SlackModes<ScribeE2E> {};

inline const auto kBothSlackModes = ::testing::Values(SlackMode::kHttp, SlackMode::kSocket);

}  // namespace scribe::testing
