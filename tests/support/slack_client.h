// SlackClient: sends slash commands to a Scribe the way Slack does: form-encoded,
// signed with the signing secret and the current (or a chosen) timestamp.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/http_client.h"

namespace scribe::testing {

struct SlackUser {
  std::string id = "U0ALICE";
  std::string name = "alice";
};

class SlackClient {
 public:
  SlackClient(std::string base_url, std::string signing_secret);

  // The form body Slack would send for `command text` in `channel`.
  static std::string form_body(const std::string& command, const std::string& text,
                               const std::string& channel, const SlackUser& user);

  // The headers Slack sends with `body`: Content-Type, X-Slack-Request-Timestamp (`timestamp`,
  // default: now) and X-Slack-Signature, as "Name: value" lines without CRLF.
  std::vector<std::string> signed_headers(
      const std::string& body, std::optional<std::chrono::system_clock::time_point> timestamp = {},
      const std::string& content_type = "application/x-www-form-urlencoded") const;

  // Signs with `timestamp` (default: now) and posts the body as-is.
  HttpResult post_signed(const std::string& body,
                         std::optional<std::chrono::system_clock::time_point> timestamp = {},
                         const std::string& content_type = "application/x-www-form-urlencoded");
  HttpResult post(const std::string& body, const std::vector<std::string>& headers);
  // From now on, sign with `t` where no timestamp is given (a Scribe on a test clock checks
  // timestamps against that clock); nullopt: the real time again.
  void sign_at(std::optional<std::chrono::system_clock::time_point> t) { sign_at_ = t; }

  // Where command() sends its form body instead of POSTing it signed (Socket Mode: as an
  // envelope, the reply being the acknowledgement's payload); it returns the reply or
  // throws. Unset: HTTP.
  using Transport = std::function<nlohmann::json(const std::string& form_body)>;
  void send_through(Transport transport) { transport_ = std::move(transport); }

  // Sends `command text`; expects a 200 JSON reply and returns it (throws otherwise).
  nlohmann::json command(const std::string& command, const std::string& text,
                         const std::string& channel = "C0INCIDENT", const SlackUser& user = {});

 private:
  std::string url_;
  std::string secret_;
  std::optional<std::chrono::system_clock::time_point> sign_at_;
  HttpClient http_;
  Transport transport_;
};

}  // namespace scribe::testing
