#include "support/slack_standin.h"

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "util/percent.h"
#include "util/strings.h"
#include "util/utf8.h"

namespace scribe::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

constexpr std::string_view kApiPrefix = "/api/";
constexpr std::string_view kBotUser = "UBOTSCRIBE";
constexpr std::size_t kMaxBlocks = 50;
constexpr std::size_t kMaxSectionChars = 3000;
// Slack refuses blocks of about this many characters in all (msg_blocks_too_long).
constexpr std::size_t kMaxBlocksChars = 13000;

void parse_params(std::string_view s, std::map<std::string, std::string>& out) {
  while (!s.empty()) {
    const auto amp = s.find('&');
    const std::string_view pair = s.substr(0, amp);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      out[percent_decode(pair.substr(0, eq), true)] =
          eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    s.remove_prefix(amp + 1);
  }
}

// "1700000000.000100" as comparable numbers.
std::pair<long long, long long> ts_key(const std::string& ts) {
  const auto dot = ts.find('.');
  try {
    const long long seconds = std::stoll(ts.substr(0, dot));
    const long long micros = dot == std::string::npos ? 0 : std::stoll(ts.substr(dot + 1));
    return {seconds, micros};
  } catch (const std::exception&) {
    return {0, 0};
  }
}

struct Answer {
  unsigned status = 200;
  std::string body;
  HeaderList headers;
};

Answer slack_ok(json body) {
  body["ok"] = true;
  return {200, body.dump(), {}};
}

Answer slack_error(std::string_view error) {
  return {200, json{{"ok", false}, {"error", error}}.dump(), {}};
}

struct StoredMessage {
  std::string channel;
  std::string ts;
  std::string user;
  std::string text;
  std::string thread_ts;    // empty for a top-level message
  json files = nullptr;     // Slack's "files" array, when the message has any
  json metadata = nullptr;  // what chat.postMessage was given as "metadata"

  // Slack shows message metadata only to a reader that asks (include_all_metadata).
  json to_json(bool with_metadata = false) const {
    json m = {{"type", "message"}, {"user", user}, {"text", text}, {"ts", ts}};
    if (!thread_ts.empty()) m["thread_ts"] = thread_ts;
    if (!files.is_null()) m["files"] = files;
    if (with_metadata && !metadata.is_null()) m["metadata"] = metadata;
    return m;
  }
};

struct Scripted {
  int remaining = 0;
  Answer answer;
};

// The text Slack would count in one block; an error name when the block is malformed.
std::optional<std::string> check_block(const json& block, std::size_t& chars) {
  if (!block.is_object() || !block.contains("type") || !block["type"].is_string()) {
    return "invalid_blocks";
  }
  const std::string type = block["type"];
  if (type == "section") {
    if (!block.contains("text") || !block["text"].is_object() ||
        !block["text"].value("text", json()).is_string()) {
      return "invalid_blocks";
    }
    const std::string text = block["text"]["text"];
    if (text.empty() || count_code_points(text) > kMaxSectionChars) return "invalid_blocks";
    chars += count_code_points(text);
  } else if (type == "context" || type == "actions") {
    if (!block.contains("elements") || !block["elements"].is_array() || block["elements"].empty()) {
      return "invalid_blocks";
    }
    std::set<std::string> action_ids;
    for (const auto& element : block["elements"]) {
      if (!element.is_object()) return "invalid_blocks";
      if (element.contains("text") && element["text"].is_string()) {
        chars += count_code_points(element["text"].get<std::string>());
      }
      if (element.contains("action_id")) {
        if (!action_ids.insert(element["action_id"].dump()).second) return "invalid_blocks";
      }
    }
    if (type == "actions" && block["elements"].size() > 25) return "invalid_blocks";
  }
  return std::nullopt;
}

}  // namespace

std::string SlackCall::method() const {
  return path.starts_with(kApiPrefix) ? path.substr(kApiPrefix.size()) : path;
}

std::string SlackCall::header(std::string_view name) const {
  const std::string key = lower(name);
  for (const auto& [n, v] : headers) {
    if (n == key) return v;
  }
  return {};
}

std::string SlackCall::param(const std::string& name) const {
  const auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

struct SlackStandIn::Impl {
  explicit Impl(std::string bot_token) : token(std::move(bot_token)) {}

  // ---- state shared with the test's threads, guarded by `mu` ----
  mutable std::mutex mu;
  mutable std::condition_variable changed;
  const std::string token;
  std::vector<SlackCall> calls;
  std::vector<StoredMessage> messages;
  std::vector<json> posted;  // chat.postMessage payloads answered ok, with their "ts"
  std::map<std::string, SlackStandInUser> users;
  std::deque<Scripted> scripted;
  std::chrono::milliseconds delay{0};
  bool down = false;
  DownMode down_mode = DownMode::kRefuse;
  std::size_t refused = 0;
  std::size_t connections = 0;
  std::string app_token;  // Socket Mode; empty: apps.connections.open is unknown
  std::function<std::string()> next_socket_url;
  std::uint64_t next_ts = 1;

  // ---- the server; only its thread touches these (and the destructor after the join) ----
  // Declared before `ioc`: connections still open when the io_context is destroyed
  // unregister themselves here.
  std::set<tcp::socket*> open_sockets;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::uint16_t port = 0;
  std::thread thread;

  // Whether the stand-in is down and drops connections; counts the drop.
  bool refusing() {
    std::lock_guard lock(mu);
    if (!down || down_mode != DownMode::kRefuse) return false;
    ++refused;
    return true;
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!acceptor.is_open()) co_return;
        continue;
      }
      if (refusing()) {
        socket.close(ec);
        continue;
      }
      {
        std::lock_guard lock(mu);
        ++connections;
      }
      asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    tcp::socket* const registered = &socket;
    open_sockets.insert(registered);
    struct Unregister {
      Impl* impl;
      tcp::socket* socket;
      ~Unregister() { impl->open_sockets.erase(socket); }
    } unregister{this, registered};

    beast::flat_buffer buffer;
    for (;;) {
      boost::system::error_code ec;
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      co_await http::async_read(socket, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      const http::request<http::string_body> request = parser.release();
      if (refusing()) break;  // went down while this connection was idle

      std::chrono::milliseconds wait{0};
      Answer answer = handle(request, wait);
      if (wait.count() > 0) {
        asio::steady_timer timer(ioc, wait);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }

      http::response<http::string_body> response{static_cast<http::status>(answer.status),
                                                 request.version()};
      response.set(http::field::server, "slack-standin");
      response.set(http::field::content_type, "application/json; charset=utf-8");
      for (const auto& [name, value] : answer.headers) response.set(name, value);
      response.body() = std::move(answer.body);
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      co_await http::async_write(socket, response, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !response.keep_alive()) break;
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  // Records the call and decides its answer; `wait` is how long to hold it back.
  Answer handle(const http::request<http::string_body>& request, std::chrono::milliseconds& wait) {
    SlackCall call;
    call.arrived = std::chrono::steady_clock::now();
    call.http_method = std::string(request.method_string());
    const std::string_view target = request.target();
    const auto question = target.find('?');
    call.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) parse_params(target.substr(question + 1), call.params);
    for (const auto& field : request) {
      call.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
    }
    call.body = request.body();
    call.json = json::parse(call.body, nullptr, /*allow_exceptions=*/false);
    if (call.json.is_discarded()) {
      call.json = nullptr;
      if (call.header("content-type").starts_with("application/x-www-form-urlencoded")) {
        parse_params(call.body, call.params);
      }
    } else if (call.json.is_object()) {
      for (const auto& [key, value] : call.json.items()) {
        if (value.is_string()) {
          call.params[key] = value.get<std::string>();
        } else if (value.is_primitive() && !value.is_null()) {
          call.params[key] = value.dump();
        }
      }
    }

    std::lock_guard lock(mu);
    wait = delay;
    Answer answer;
    if (down) {
      answer = {503, json{{"ok", false}, {"error", "service_unavailable"}}.dump(), {}};
    } else if (!scripted.empty()) {
      answer = scripted.front().answer;
      if (--scripted.front().remaining <= 0) scripted.pop_front();
    } else {
      answer = route(call);
    }
    call.status = answer.status;
    calls.push_back(std::move(call));
    changed.notify_all();
    return answer;
  }

  // Slack's behaviour for one call; `mu` is held.
  Answer route(const SlackCall& call) {
    if (!call.path.starts_with(kApiPrefix))
      return {404, "not found", {{"Content-Type", "text/plain"}}};
    if (call.method() == "apps.connections.open" && !app_token.empty()) {
      // Only the app-level token opens connections; a bot token is the wrong type.
      const std::string authorization = call.header("authorization");
      if (authorization.empty()) return slack_error("not_authed");
      if (authorization != "Bearer " + app_token) return slack_error("invalid_auth");
      if (call.http_method != "POST") return slack_error("invalid_request");
      return slack_ok(json{{"url", next_socket_url()}});
    }
    if (!token.empty()) {
      const std::string authorization = call.header("authorization");
      if (authorization.empty()) return slack_error("not_authed");
      if (authorization != "Bearer " + token) return slack_error("invalid_auth");
    }
    const std::string method = call.method();
    if (method == "chat.postMessage") return post_message(call);
    if (method == "chat.update") return update_message(call);
    if (method == "chat.postEphemeral") return post_ephemeral(call);
    if (method == "conversations.history") return history(call);
    if (method == "conversations.replies") return replies(call);
    if (method == "users.info") return user_info(call);
    if (method == "conversations.open") return open_conversation(call);
    if (method == "chat.getPermalink") return permalink(call);
    return {404, json{{"ok", false}, {"error", "unknown_method"}}.dump(), {}};
  }

  // conversations.open {"users": "U…"}: the same direct conversation "D<user>" each time.
  Answer open_conversation(const SlackCall& call) {
    const std::string who = call.param("users");
    if (who.empty()) return slack_error("users_list_not_supplied");
    if (who.find(',') != std::string::npos) return slack_error("not_implemented");
    return slack_ok({{"channel", {{"id", "D" + who}}}});
  }

  std::string make_ts() {
    const std::uint64_t n = next_ts++;
    return fmt::format("{}.{:06}", 1700000000 + n / 10000, (n % 10000) * 100);
  }

  // Slack's checks of a message's text and blocks; the error, or nullopt when it is fine.
  static std::optional<std::string> check_content(const SlackCall& call) {
    const bool has_text = !call.param("text").empty();
    const bool has_blocks = call.json.contains("blocks");
    if (!has_text && !has_blocks) return "no_text";
    if (has_blocks) {
      const json& blocks = call.json["blocks"];
      if (!blocks.is_array() || blocks.size() > kMaxBlocks) return "invalid_blocks";
      std::size_t chars = 0;
      for (const auto& block : blocks) {
        if (auto error = check_block(block, chars)) return error;
      }
      if (chars > kMaxBlocksChars) return "msg_blocks_too_long";
    }
    return std::nullopt;
  }

  Answer post_message(const SlackCall& call) {
    if (!call.json.is_object()) return slack_error("invalid_arguments");
    const std::string channel = call.param("channel");
    if (channel.empty()) return slack_error("channel_not_found");
    if (auto error = check_content(call)) return slack_error(*error);
    const std::string ts = make_ts();
    const std::string thread_ts = call.param("thread_ts");
    messages.push_back({channel, ts, std::string(kBotUser), call.param("text"), thread_ts});
    if (call.json.contains("metadata")) messages.back().metadata = call.json["metadata"];
    json payload = call.json;
    payload["ts"] = ts;
    posted.push_back(std::move(payload));
    json message = messages.back().to_json();
    message["bot_id"] = "B0SCRIBE";
    return slack_ok({{"channel", channel}, {"ts", ts}, {"message", std::move(message)}});
  }

  // chat.postEphemeral: shown to one user only; Slack keeps no message of it.
  Answer post_ephemeral(const SlackCall& call) {
    if (!call.json.is_object()) return slack_error("invalid_arguments");
    if (call.param("channel").empty()) return slack_error("channel_not_found");
    if (call.param("user").empty()) return slack_error("user_not_found");
    if (auto error = check_content(call)) return slack_error(*error);
    return slack_ok({{"message_ts", make_ts()}});
  }

  // chat.update: replaces the text of a message the stand-in knows.
  Answer update_message(const SlackCall& call) {
    if (!call.json.is_object()) return slack_error("invalid_arguments");
    const std::string channel = call.param("channel");
    const std::string ts = call.param("ts");
    if (channel.empty()) return slack_error("channel_not_found");
    if (auto error = check_content(call)) return slack_error(*error);
    const auto it = std::find_if(messages.begin(), messages.end(), [&](const StoredMessage& m) {
      return m.channel == channel && m.ts == ts;
    });
    if (it == messages.end()) return slack_error("message_not_found");
    it->text = call.param("text");
    return slack_ok({{"channel", channel}, {"ts", ts}, {"text", it->text}});
  }

  bool known_channel(const std::string& channel) const {
    return std::any_of(messages.begin(), messages.end(),
                       [&](const StoredMessage& m) { return m.channel == channel; });
  }

  // Keeps the messages within oldest/latest (exclusive unless inclusive=true), then `limit`.
  static json select(std::vector<const StoredMessage*> found, const SlackCall& call,
                     bool newest_first) {
    const std::string oldest = call.param("oldest");
    const std::string latest = call.param("latest");
    const bool inclusive = call.param("inclusive") == "true" || call.param("inclusive") == "1";
    std::erase_if(found, [&](const StoredMessage* m) {
      const auto key = ts_key(m->ts);
      if (!oldest.empty() && (inclusive ? key < ts_key(oldest) : key <= ts_key(oldest))) {
        return true;
      }
      return !latest.empty() && (inclusive ? key > ts_key(latest) : key >= ts_key(latest));
    });
    std::sort(found.begin(), found.end(), [&](const StoredMessage* a, const StoredMessage* b) {
      return newest_first ? ts_key(a->ts) > ts_key(b->ts) : ts_key(a->ts) < ts_key(b->ts);
    });
    std::size_t limit = found.size();
    try {
      if (!call.param("limit").empty()) limit = std::stoul(call.param("limit"));
    } catch (const std::exception&) {
    }
    const bool has_more = found.size() > limit;
    if (has_more) found.resize(limit);
    const bool with_metadata =
        call.param("include_all_metadata") == "true" || call.param("include_all_metadata") == "1";
    json out = json::array();
    for (const auto* m : found) out.push_back(m->to_json(with_metadata));
    return {{"messages", std::move(out)}, {"has_more", has_more}};
  }

  Answer history(const SlackCall& call) {
    const std::string channel = call.param("channel");
    if (!known_channel(channel)) return slack_error("channel_not_found");
    std::vector<const StoredMessage*> found;
    for (const auto& m : messages) {
      if (m.channel == channel && (m.thread_ts.empty() || m.thread_ts == m.ts)) found.push_back(&m);
    }
    return slack_ok(select(std::move(found), call, /*newest_first=*/true));
  }

  Answer replies(const SlackCall& call) {
    const std::string channel = call.param("channel");
    const std::string ts = call.param("ts");
    if (!known_channel(channel)) return slack_error("channel_not_found");
    const auto it = std::find_if(messages.begin(), messages.end(), [&](const StoredMessage& m) {
      return m.channel == channel && m.ts == ts;
    });
    if (it == messages.end()) return slack_error("thread_not_found");
    const std::string parent = it->thread_ts.empty() ? it->ts : it->thread_ts;
    std::vector<const StoredMessage*> found;
    for (const auto& m : messages) {
      if (m.channel == channel && (m.ts == parent || m.thread_ts == parent)) found.push_back(&m);
    }
    return slack_ok(select(std::move(found), call, /*newest_first=*/false));
  }

  // As Slack forms them: the workspace's domain, the channel, "p" and the ts without its dot.
  Answer permalink(const SlackCall& call) {
    const std::string channel = call.param("channel");
    const std::string ts = call.param("message_ts");
    const bool known = std::any_of(messages.begin(), messages.end(), [&](const StoredMessage& m) {
      return m.channel == channel && m.ts == ts;
    });
    if (!known) return slack_error("message_not_found");
    return slack_ok({{"channel", channel}, {"permalink", standin_permalink(channel, ts)}});
  }

  Answer user_info(const SlackCall& call) {
    const auto it = users.find(call.param("user"));
    if (it == users.end()) return slack_error("user_not_found");
    const SlackStandInUser& u = it->second;
    return slack_ok(
        {{"user",
          {{"id", u.id},
           {"name", u.name},
           {"real_name", u.real_name},
           {"tz", u.tz},
           {"tz_offset", u.tz_offset},
           {"profile", {{"display_name", u.display_name}, {"real_name", u.real_name}}}}}});
  }

  void shut_down() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (tcp::socket* socket : open_sockets) {
      socket->shutdown(tcp::socket::shutdown_both, ignored);
      socket->close(ignored);
    }
    ioc.stop();
  }
};

SlackStandIn::SlackStandIn(std::string token) : impl_(std::make_unique<Impl>(std::move(token))) {
  Impl& impl = *impl_;
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl.acceptor.open(endpoint.protocol());
  impl.acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl.acceptor.bind(endpoint);
  impl.acceptor.listen();
  impl.port = impl.acceptor.local_endpoint().port();
  asio::co_spawn(impl.ioc, impl.accept_loop(), asio::detached);
  impl.thread = std::thread([&impl] { impl.ioc.run(); });
}

SlackStandIn::~SlackStandIn() {
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->shut_down(); });
  impl_->thread.join();
}

std::uint16_t SlackStandIn::port() const { return impl_->port; }

std::string SlackStandIn::base_url() const {
  return fmt::format("http://127.0.0.1:{}/api", impl_->port);
}

const std::string& SlackStandIn::token() const { return impl_->token; }

void SlackStandIn::serve_socket_mode(std::string app_token, std::function<std::string()> next_url) {
  std::lock_guard lock(impl_->mu);
  impl_->app_token = std::move(app_token);
  impl_->next_socket_url = std::move(next_url);
}

void SlackStandIn::add_message(const std::string& channel, const std::string& ts,
                               const std::string& user, const std::string& text,
                               const std::string& thread_ts) {
  std::lock_guard lock(impl_->mu);
  impl_->messages.push_back({channel, ts, user, text, thread_ts});
}

void SlackStandIn::add_files(const std::string& channel, const std::string& ts, json files) {
  std::lock_guard lock(impl_->mu);
  for (auto& m : impl_->messages) {
    if (m.channel == channel && m.ts == ts) m.files = files;
  }
}

std::string standin_permalink(const std::string& channel, const std::string& ts) {
  std::string p = ts;
  p.erase(std::remove(p.begin(), p.end(), '.'), p.end());
  return "https://standin.slack.test/archives/" + channel + "/p" + p;
}

void SlackStandIn::add_user(SlackStandInUser user) {
  std::lock_guard lock(impl_->mu);
  impl_->users[user.id] = std::move(user);
}

void SlackStandIn::fail_next(int n, unsigned status, std::string body, HeaderList headers) {
  if (n <= 0) return;
  if (body.empty() && status == 429) body = json{{"ok", false}, {"error", "ratelimited"}}.dump();
  std::lock_guard lock(impl_->mu);
  impl_->scripted.push_back({n, {status, std::move(body), std::move(headers)}});
}

void SlackStandIn::fail_next_error(int n, const std::string& error) {
  fail_next(n, 200, json{{"ok", false}, {"error", error}}.dump());
}

void SlackStandIn::set_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mu);
  impl_->delay = delay;
}

void SlackStandIn::set_down(bool down, DownMode mode) {
  std::lock_guard lock(impl_->mu);
  impl_->down = down;
  impl_->down_mode = mode;
}

std::vector<SlackCall> SlackStandIn::calls() const {
  std::lock_guard lock(impl_->mu);
  return impl_->calls;
}

namespace {
bool is_call_to(const SlackCall& call, std::string_view method) {
  return call.path == method || call.method() == method;
}
}  // namespace

std::vector<SlackCall> SlackStandIn::calls_to(std::string_view method) const {
  std::lock_guard lock(impl_->mu);
  std::vector<SlackCall> out;
  for (const auto& call : impl_->calls) {
    if (is_call_to(call, method)) out.push_back(call);
  }
  return out;
}

bool SlackStandIn::wait_for_calls(std::string_view method, std::size_t n,
                                  std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->changed.wait_for(lock, timeout, [&] {
    return static_cast<std::size_t>(
               std::count_if(impl_->calls.begin(), impl_->calls.end(),
                             [&](const SlackCall& call) { return is_call_to(call, method); })) >= n;
  });
}

std::vector<json> SlackStandIn::posted_messages() const {
  std::lock_guard lock(impl_->mu);
  return impl_->posted;
}

std::size_t SlackStandIn::refused() const {
  std::lock_guard lock(impl_->mu);
  return impl_->refused;
}

std::size_t SlackStandIn::connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections;
}

}  // namespace scribe::testing
