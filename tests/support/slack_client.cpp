#include "support/slack_client.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <stdexcept>

#include <fmt/format.h>

#include "adapters/slack/signature.h"
#include "util/percent.h"

namespace scribe::testing {

SlackClient::SlackClient(std::string base_url, std::string signing_secret)
    : url_(std::move(base_url) + "/slack/commands"), secret_(std::move(signing_secret)) {}

std::string SlackClient::form_body(const std::string& command, const std::string& text,
                                   const std::string& channel, const SlackUser& user) {
  // Slack gives every invocation a trigger_id of its own (Scribe treats a repeated one as a
  // replay), so two identical commands typed in the same second are still two requests.
  static std::atomic<std::uint64_t> triggers{0};
  static const std::uint64_t process_salt =
      static_cast<std::uint64_t>(::getpid()) * 1'000'003u ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return fmt::format(
      "token=legacy&team_id=T0TEAM&team_domain=acme&channel_id={}&channel_name=incident"
      "&user_id={}&user_name={}&command={}&text={}"
      "&response_url=https%3A%2F%2Fhooks.slack.invalid%2Fcommands%2F1&trigger_id={}.{}.e2e",
      form_encode(channel), form_encode(user.id), form_encode(user.name), form_encode(command),
      form_encode(text), process_salt, triggers.fetch_add(1));
}

std::vector<std::string> SlackClient::signed_headers(
    const std::string& body, std::optional<std::chrono::system_clock::time_point> timestamp,
    const std::string& content_type) const {
  const auto when = timestamp.value_or(std::chrono::system_clock::now());
  const std::string ts = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count());
  return {"Content-Type: " + content_type, "X-Slack-Request-Timestamp: " + ts,
          "X-Slack-Signature: " + slack::compute_signature(secret_, ts, body)};
}

HttpResult SlackClient::post_signed(const std::string& body,
                                    std::optional<std::chrono::system_clock::time_point> timestamp,
                                    const std::string& content_type) {
  return post(body, signed_headers(body, timestamp ? timestamp : sign_at_, content_type));
}

HttpResult SlackClient::post(const std::string& body, const std::vector<std::string>& headers) {
  return http_.request("POST", url_, headers, body);
}

nlohmann::json SlackClient::command(const std::string& command, const std::string& text,
                                    const std::string& channel, const SlackUser& user) {
  if (transport_) return transport_(form_body(command, text, channel, user));
  const HttpResult r = post_signed(form_body(command, text, channel, user));
  if (r.status != 200) {
    throw std::runtime_error(
        fmt::format("{} {} -> HTTP {} {} {}", command, text, r.status, r.error, r.body));
  }
  return nlohmann::json::parse(r.body);
}

}  // namespace scribe::testing
