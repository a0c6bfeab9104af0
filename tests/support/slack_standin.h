// SlackStandIn: a local stand-in for the Slack Web API, for tests. An HTTP/1.1 server
// (keep-alive) on 127.0.0.1 and an ephemeral port, run on a thread of its own, that records
// every call and answers the methods Scribe uses as Slack would: chat.postMessage,
// chat.update, conversations.history, conversations.replies, users.info, conversations.open
// (a direct conversation "D<user id>"), chat.getPermalink. Tests can script failures
// (429 + Retry-After, 500, Slack errors), a slow API and an outage. Thread-safe.
//
// A call is decided when it arrives: a postMessage answered ok has posted its message even
// if the client gives up waiting (set_delay), as on Slack.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace scribe::testing {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One request as the stand-in received it.
struct SlackCall {
  std::string http_method;  // "POST", "GET"
  std::string path;         // "/api/chat.postMessage", without the query
  HeaderList headers;       // names in lower case
  std::string body;
  nlohmann::json json;                        // the body parsed as JSON; null when it is not
  std::map<std::string, std::string> params;  // query, form body and JSON top-level scalars
  std::chrono::steady_clock::time_point arrived;
  unsigned status = 0;  // what the stand-in answered

  std::string method() const;                        // "chat.postMessage"
  std::string header(std::string_view name) const;   // "" when absent; any case
  std::string param(const std::string& name) const;  // "" when absent
};

struct SlackStandInUser {
  std::string id;            // "U0ALICE"
  std::string name;          // handle: "alice"
  std::string real_name;     // "Alice Liddell"
  std::string display_name;  // may be empty
  std::string tz = "UTC";    // "Europe/Berlin"
  int tz_offset = 0;         // seconds east of UTC
};

// The permalink the stand-in's chat.getPermalink gives a message.
std::string standin_permalink(const std::string& channel, const std::string& ts);

class SlackStandIn {
 public:
  // `token`: the bot token calls must carry ("Authorization: Bearer <token>"); others are
  // answered not_authed / invalid_auth. Empty: any token is accepted.
  explicit SlackStandIn(std::string token = "xoxb-standin");
  ~SlackStandIn();  // closes every connection and stops the thread
  SlackStandIn(const SlackStandIn&) = delete;
  SlackStandIn& operator=(const SlackStandIn&) = delete;

  std::uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:<port>/api": SCRIBE_SLACK_API_URL
  const std::string& token() const;

  // A message conversations.history / .replies can return. `thread_ts`: the thread's parent
  // when the message is a reply. Posted messages are added the same way (user "UBOTSCRIBE").
  void add_message(const std::string& channel, const std::string& ts, const std::string& user,
                   const std::string& text, const std::string& thread_ts = "");
  // Gives the message (added before) Slack's "files" array, e.g.
  // [{"id":"F1","name":"graph.png","mimetype":"image/png","permalink":"https://…"}].
  void add_files(const std::string& channel, const std::string& ts, nlohmann::json files);
  void add_user(SlackStandInUser user);
  // Socket Mode: apps.connections.open, called with `app_token` (other tokens: invalid_auth),
  // answers {"ok":true,"url": next_url()} (see SocketModeStandIn).
  void serve_socket_mode(std::string app_token, std::function<std::string()> next_url);

  // The next `n` calls, whatever their method, get this answer. An empty body for 429 is
  // {"ok":false,"error":"ratelimited"}. E.g. fail_next(1, 429, "", {{"Retry-After", "2"}}).
  void fail_next(int n, unsigned status, std::string body = {}, HeaderList headers = {});
  // The next `n` calls get 200 {"ok":false,"error":<error>} ("channel_not_found").
  void fail_next_error(int n, const std::string& error);
  // Every answer waits this long first (a slow Slack); other connections are not held up.
  void set_delay(std::chrono::milliseconds delay);
  enum class DownMode {
    kRefuse,  // connections are closed at once, requests unanswered and not recorded
    k503,     // 503 {"ok":false,"error":"service_unavailable"}, recorded
  };
  void set_down(bool down, DownMode mode = DownMode::kRefuse);

  std::vector<SlackCall> calls() const;
  // `method` as "chat.postMessage" or "/api/chat.postMessage".
  std::vector<SlackCall> calls_to(std::string_view method) const;
  // Waits until at least `n` calls to `method` were recorded; false on timeout.
  bool wait_for_calls(std::string_view method, std::size_t n,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // The payloads of chat.postMessage calls answered ok, in order, each with the "ts" given.
  std::vector<nlohmann::json> posted_messages() const;
  // Connections and requests dropped while down (kRefuse).
  std::size_t refused() const;
  // Connections accepted so far (a keep-alive client reuses one).
  std::size_t connections() const;

  struct Impl;  // opaque; Boost.Beast stays in the .cpp

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace scribe::testing
