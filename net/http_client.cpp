// With adapters/slack/socket_mode.cpp, the only translation units of the service that
// include Beast's and Asio's SSL headers (they are heavy to compile).
#include "net/http_client.h"

#include <cstdlib>
#include <optional>
#include <string_view>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include "net/rest.h"
#include "net/tls_client.h"
#include "util/percent.h"
#include "util/strings.h"

namespace scribe {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

// A response body larger than this fails the request. libcurl set no limit; Beast's
// default (8 MB) is below what a Matrix initial /sync or a large Slack history page may
// reach, so the bound is set far above any answer the platform clients read, and only stops
// a runaway peer from taking all memory.
constexpr std::uint64_t kBodyLimit = 256ull * 1024 * 1024;
// Response headers in all: Beast's default (8 KiB) is close to what Slack's API sends
// (long CSP and tracing headers).
constexpr std::uint32_t kHeaderLimit = 256 * 1024;
// How often a blocked request looks at the cancel flag.
constexpr std::chrono::milliseconds kCancelPoll{100};

// Where a request goes.
struct Target {
  bool tls = false;
  std::string host;         // to resolve and to verify: a name or a bare IP address
  std::string port;         // always set (80/443 when the URL has none)
  std::string host_header;  // host[:port] as the URL has it ([…] for IPv6)
  std::string path;         // origin-form: /path?query
  std::string url;          // absolute-form, for an http:// proxy
};

struct Proxy {
  std::string host;
  std::string port;
  std::string authorization;  // "Basic …", or empty
};

std::optional<Target> parse_target(const std::string& url, std::string& why) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) {
    why = "malformed URL: " + parsed.error().message();
    return std::nullopt;
  }
  Target t;
  const std::string scheme = lower(std::string(parsed->scheme()));
  if (scheme == "https") {
    t.tls = true;
  } else if (scheme != "http") {
    why = "unsupported URL scheme '" + scheme + "'";
    return std::nullopt;
  }
  if (parsed->host_type() == boost::urls::host_type::ipv6) {
    t.host = parsed->host_ipv6_address().to_string();
  } else {
    t.host = std::string(parsed->host());
  }
  if (t.host.empty()) {
    why = "URL without a host";
    return std::nullopt;
  }
  t.port = parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port())
                                                         : (t.tls ? "443" : "80");
  t.host_header = std::string(parsed->encoded_host_and_port());
  t.path = std::string(parsed->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (parsed->has_query()) t.path += "?" + std::string(parsed->encoded_query());
  t.url = (t.tls ? "https://" : "http://") + t.host_header + t.path;
  return t;
}

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// no_proxy / NO_PROXY as curl reads it: a comma list of host names, each matching itself
// and its subdomains (a leading dot is ignored), or `*` for every host.
bool bypasses_proxy(const std::string& host) {
  const char* list = env("no_proxy");
  if (list == nullptr) list = env("NO_PROXY");
  if (list == nullptr) return false;
  const std::string name = lower(host);
  std::string_view rest = list;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view entry = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t'))
      entry.remove_prefix(1);
    while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.remove_suffix(1);
    if (entry == "*") return true;
    if (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
    if (entry.empty()) continue;
    const std::string suffix = lower(std::string(entry));
    if (name == suffix) return true;
    if (name.size() > suffix.size() && name.ends_with(suffix) &&
        name[name.size() - suffix.size() - 1] == '.')
      return true;
  }
  return false;
}

// The proxy for `t` from the environment, as libcurl takes it: https_proxy (or
// HTTPS_PROXY) for https URLs, http_proxy (lower-case only: a CGI program may be handed
// HTTP_PROXY by its client) for http URLs, unless no_proxy names the host.
std::optional<Proxy> proxy_for(const Target& t, std::string& why) {
  const char* value = t.tls ? env("https_proxy") : env("http_proxy");
  if (value == nullptr && t.tls) value = env("HTTPS_PROXY");
  if (value == nullptr || bypasses_proxy(t.host)) return std::nullopt;
  std::string text = value;
  if (text.find("://") == std::string::npos) text = "http://" + text;  // "host:port", as curl
  const auto parsed = boost::urls::parse_uri(text);
  if (!parsed || lower(std::string(parsed->scheme())) != "http" || parsed->host().empty()) {
    why = "unusable proxy URL in the environment (only http:// proxies are supported)";
    return std::nullopt;
  }
  Proxy p;
  p.host = parsed->host_type() == boost::urls::host_type::ipv6
               ? parsed->host_ipv6_address().to_string()
               : std::string(parsed->host());
  p.port = parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port()) : "1080";
  if (parsed->has_userinfo()) {
    const std::string user = percent_decode(std::string(parsed->encoded_user()));
    const std::string password = percent_decode(std::string(parsed->encoded_password()));
    p.authorization = "Basic " + base64_encode(user + ":" + password);
  }
  return p;
}

bool has_header(const http::fields& fields, std::string_view name) {
  return fields.find(name) != fields.end();
}

}  // namespace

std::string HttpResult::transport_error() const {
  return "transport: " + (error.empty() ? std::string("no response") : error);
}

std::optional<std::chrono::seconds> HttpResult::retry_after() const {
  for (const auto& [name, raw] : headers) {
    if (name != "retry-after") continue;
    std::string_view value = raw;
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty() || value.size() > 9) return std::nullopt;
    long seconds = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return std::nullopt;
      seconds = seconds * 10 + (c - '0');
    }
    return std::chrono::seconds(seconds);
  }
  return std::nullopt;
}

struct HttpClient::Handle {
  asio::io_context ioc{1};
  ssl::context tls{ssl::context::tls_client};
  tcp::resolver resolver{ioc};
  // The open connection: `plain` until TLS starts on it, then `secure`; neither when
  // closed. `key` names what it reaches (scheme, host, port, proxy).
  std::optional<tcp::socket> plain;
  std::optional<ssl::stream<tcp::socket>> secure;
  std::string key;
  beast::flat_buffer buffer;  // bytes read past the last response

  const std::atomic<bool>* cancel = nullptr;

  enum class Stop { none, timeout, cancelled };

  Handle() { configure_tls_client(tls.native_handle()); }

  tcp::socket* socket() {
    if (secure) return &secure->next_layer();
    if (plain) return &*plain;
    return nullptr;
  }

  void close() {
    secure.reset();
    plain.reset();
    key.clear();
    buffer.clear();
  }

  // Cuts whatever is under way so that its handler runs with an error.
  void abort() {
    resolver.cancel();
    if (tcp::socket* s = socket()) {
      error_code ignored;
      s->close(ignored);
    }
  }

  // Runs the io_context until `done`. Past `deadline`, or once the cancel flag is raised,
  // the operation is aborted and, unless `abandon`, still run to its handler; says which
  // stopped it.
  Stop drive(const bool& done, Clock::time_point deadline, bool abandon = false) {
    Stop stop = Stop::none;
    ioc.restart();
    while (!done) {
      if (abandon && stop != Stop::none) break;
      const auto now = Clock::now();
      if (stop == Stop::none) {
        if (cancel != nullptr && cancel->load()) {
          stop = Stop::cancelled;
          abort();
        } else if (now >= deadline) {
          stop = Stop::timeout;
          abort();
        }
      }
      auto slice = kCancelPoll;
      if (stop == Stop::none && deadline - now < slice)
        slice = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                std::chrono::milliseconds(1);
      ioc.run_one_for(slice);
      if (ioc.stopped()) ioc.restart();
    }
    return stop;
  }

  // One asynchronous step: `start(handler)` begins it; the handler's error code is returned.
  template <class Start>
  std::pair<error_code, Stop> step(Start&& start, Clock::time_point deadline) {
    bool done = false;
    error_code result;
    start([&](error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    const Stop stop = drive(done, deadline);
    return {result, stop};
  }
};

HttpClient::HttpClient(std::chrono::milliseconds timeout, std::chrono::milliseconds connect_timeout)
    : handle_(std::make_unique<Handle>()), timeout_(timeout), connect_timeout_(connect_timeout) {}

HttpClient::~HttpClient() = default;

namespace {

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

}  // namespace

HttpResult HttpClient::request(const std::string& method, const std::string& url,
                               const std::vector<std::string>& headers, const std::string& body) {
  HttpResult result;
  Handle& h = *handle_;
  h.cancel = cancel_;
  try {
    const auto start = Clock::now();
    const auto deadline = start + timeout_;
    std::string why;
    const auto target = parse_target(url, why);
    if (!target) {
      result.error = why;
      return result;
    }
    const auto proxy = proxy_for(*target, why);
    if (!why.empty()) {
      result.error = why;
      return result;
    }
    const std::string key =
        std::string(target->tls ? "https://" : "http://") + target->host_header +
        (proxy ? " via " + proxy->host + ":" + proxy->port + " " + proxy->authorization : "");
    if (h.key != key) h.close();

    // The request, as the caller gave it. An http:// URL through a proxy goes in absolute
    // form; an https:// one through the CONNECT tunnel, as to the server itself.
    const bool forward = proxy && !target->tls;
    http::request<http::string_body> req;
    req.version(11);
    const http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) {
      req.method_string(method);
    } else {
      req.method(verb);
    }
    req.target(forward ? target->url : target->path);
    req.set(http::field::host, target->host_header);
    for (const auto& line : headers) {
      const auto colon = line.find(':');
      if (colon == std::string::npos || colon == 0) continue;
      std::string_view value = std::string_view(line).substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      const std::string name = line.substr(0, colon);
      if (lower(name) == "host") req.erase(http::field::host);
      req.insert(name, value);
    }
    if (!has_header(req, "Accept")) req.set(http::field::accept, "*/*");  // as curl sends
    if (forward && !proxy->authorization.empty())
      req.set(http::field::proxy_authorization, proxy->authorization);
    if (method != "GET" && method != "HEAD") {
      req.body() = body;
      req.content_length(body.size());
    }
    bool close_after = false;
    if (auto it = req.find(http::field::connection); it != req.end())
      close_after = beast::iequals(it->value(), "close");

    // A reused connection the server closed while idle fails before any byte of the
    // response; it is reconnected and the request sent once more (as libcurl does).
    for (int attempt = 0;; ++attempt) {
      const bool reused = h.socket() != nullptr;
      if (!reused) {
        const auto connect_deadline = std::min(deadline, Clock::now() + connect_timeout_);
        auto timed_out = [&](Handle::Stop stop, const std::string& what) {
          if (stop == Handle::Stop::cancelled) return std::string("request cancelled");
          const bool whole = deadline <= connect_deadline;
          return what + " timed out after " + ms(whole ? timeout_ : connect_timeout_);
        };
        const std::string& host = proxy ? proxy->host : target->host;
        const std::string& port = proxy ? proxy->port : target->port;
        // getaddrinfo runs on Asio's resolver thread and cannot be interrupted: on timeout
        // or cancel its answer is abandoned (the state it writes to is shared), not awaited.
        struct Resolved {
          bool done = false;
          error_code ec;
          tcp::resolver::results_type endpoints;
        };
        auto resolved = std::make_shared<Resolved>();
        h.resolver.async_resolve(host, port,
                                 [resolved](error_code ec, tcp::resolver::results_type r) {
                                   resolved->ec = ec;
                                   resolved->endpoints = std::move(r);
                                   resolved->done = true;
                                 });
        const Handle::Stop rstop = h.drive(resolved->done, connect_deadline, true);
        const error_code rec = resolved->ec;
        const tcp::resolver::results_type endpoints = resolved->endpoints;
        if (rstop != Handle::Stop::none) {
          result.error = timed_out(rstop, "resolving " + host);
          h.close();
          return result;
        }
        if (rec) {
          result.error = "could not resolve " + (proxy ? "proxy " : std::string()) + host + ": " +
                         rec.message();
          h.close();
          return result;
        }
        h.plain.emplace(h.ioc);
        auto [cec, cstop] =
            h.step([&](auto handler) { asio::async_connect(*h.plain, endpoints, handler); },
                   connect_deadline);
        if (cstop != Handle::Stop::none || cec) {
          result.error = cstop != Handle::Stop::none
                             ? timed_out(cstop, "connecting to " + host + ":" + port)
                             : "could not connect to " + (proxy ? "proxy " : std::string()) + host +
                                   ":" + port + ": " + cec.message();
          h.close();
          return result;
        }
        if (proxy && target->tls) {
          // A tunnel through the proxy to the server; TLS then runs inside it.
          const std::string authority = target->host.find(':') != std::string::npos
                                            ? "[" + target->host + "]:" + target->port
                                            : target->host + ":" + target->port;
          http::request<http::empty_body> tunnel{http::verb::connect, authority, 11};
          tunnel.set(http::field::host, authority);
          if (!proxy->authorization.empty())
            tunnel.set(http::field::proxy_authorization, proxy->authorization);
          auto [wec, wstop] =
              h.step([&](auto handler) { http::async_write(*h.plain, tunnel, handler); },
                     connect_deadline);
          http::response_parser<http::empty_body> answer;
          answer.skip(true);  // a 2xx to CONNECT has no body: the tunnel follows
          error_code pec = wec;
          Handle::Stop pstop = wstop;
          if (!pec && pstop == Handle::Stop::none) {
            std::tie(pec, pstop) = h.step(
                [&](auto handler) { http::async_read_header(*h.plain, h.buffer, answer, handler); },
                connect_deadline);
          }
          if (pstop != Handle::Stop::none) {
            result.error = timed_out(pstop, "proxy CONNECT to " + authority);
            h.close();
            return result;
          }
          if (pec) {
            result.error = "proxy CONNECT to " + authority + " failed: " + pec.message();
            h.close();
            return result;
          }
          const unsigned status = answer.get().result_int();
          if (status < 200 || status > 299) {
            result.error = "proxy answered " + std::to_string(status) + " to CONNECT " + authority;
            h.close();
            return result;
          }
          h.buffer.clear();
        }
        if (target->tls) {
          h.secure.emplace(std::move(*h.plain), h.tls);
          h.plain.reset();
          expect_tls_peer(h.secure->native_handle(), target->host);
          auto [hec, hstop] = h.step(
              [&](auto handler) { h.secure->async_handshake(ssl::stream_base::client, handler); },
              connect_deadline);
          if (hstop != Handle::Stop::none || hec) {
            if (hstop != Handle::Stop::none) {
              result.error = timed_out(hstop, "TLS handshake with " + target->host);
            } else {
              const std::string verify = tls_verify_failure(h.secure->native_handle());
              result.error = "TLS handshake with " + target->host + " failed: " + hec.message() +
                             (verify.empty() ? std::string() : " (" + verify + ")");
            }
            h.close();
            return result;
          }
        }
        h.key = key;
      }

      // Send, then read the response.
      auto write = [&](auto& stream) {
        return h.step([&](auto handler) { http::async_write(stream, req, handler); }, deadline);
      };
      auto [wec, wstop] = h.secure ? write(*h.secure) : write(*h.plain);
      std::optional<http::response_parser<http::string_body>> parser;
      auto fresh_parser = [&] {
        parser.emplace();
        parser->body_limit(kBodyLimit);
        parser->header_limit(kHeaderLimit);
        if (method == "HEAD") parser->skip(true);
      };
      fresh_parser();
      bool interim = false;  // a 1xx came first
      error_code rec = wec;
      Handle::Stop rstop = wstop;
      while (!rec && rstop == Handle::Stop::none) {
        auto read = [&](auto& stream) {
          return h.step([&](auto handler) { http::async_read(stream, h.buffer, *parser, handler); },
                        deadline);
        };
        std::tie(rec, rstop) = h.secure ? read(*h.secure) : read(*h.plain);
        if (rec || rstop != Handle::Stop::none) break;
        const unsigned code = parser->get().result_int();
        if (code < 100 || code > 199 || code == 101) break;
        // An interim response (100 Continue, 103 Early Hints): the final one follows, as
        // libcurl reads it.
        interim = true;
        fresh_parser();
      }
      if (rstop != Handle::Stop::none) {
        result.error = rstop == Handle::Stop::cancelled ? "request cancelled"
                                                        : "request timed out after " + ms(timeout_);
        h.close();
        return result;
      }
      if (rec) {
        const bool nothing_received = !interim && !parser->got_some() && h.buffer.size() == 0;
        h.close();
        if (reused && nothing_received && attempt == 0) continue;
        result.error = (nothing_received ? "connection closed before a response: "
                                         : "reading the response failed: ") +
                       rec.message();
        return result;
      }
      auto& response = parser->get();
      result.status = static_cast<long>(response.result_int());
      for (const auto& field : response)
        result.headers.emplace_back(lower(std::string(field.name_string())),
                                    std::string(field.value()));
      if (close_after || !response.keep_alive() || parser->need_eof()) h.close();
      result.body = std::move(response.body());
      return result;
    }
  } catch (const std::exception& e) {
    h.close();
    result = HttpResult{};
    result.error = e.what();
  }
  return result;
}

}  // namespace scribe
