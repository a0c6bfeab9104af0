#include "support/tracker_standin.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include <sys/socket.h>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "util/percent.h"

namespace scribe::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using nlohmann::json;

std::string TrackerCall::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "";
}

namespace {

struct Answer {
  unsigned status = 200;
  json body;
  std::vector<std::pair<std::string, std::string>> headers;
};

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string query_param(const std::string& target, const std::string& name) {
  const auto q = target.find('?');
  if (q == std::string::npos) return "";
  std::string_view rest(target);
  rest.remove_prefix(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return percent_decode(pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return "";
}

bool has_label(const StandInIssue& i, const std::string& label) {
  return std::find(i.labels.begin(), i.labels.end(), label) != i.labels.end();
}

bool valid_adf(const json& d) {
  if (!d.is_object() || d.value("type", "") != "doc" || d.value("version", 0) != 1) return false;
  if (!d.contains("content") || !d["content"].is_array()) return false;
  for (const json& block : d["content"]) {
    if (!block.is_object() || !block.contains("type") || !block.contains("content")) return false;
    for (const json& inline_node : block["content"]) {
      if (inline_node.value("type", "") != "text" || !inline_node["text"].is_string() ||
          inline_node["text"].get<std::string>().empty()) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

struct TrackerStandIn::Impl {
  TrackerStandIn& owner;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread accept_thread;
  mutable std::mutex mu;
  mutable std::condition_variable changed;
  std::vector<std::thread> workers;
  std::set<std::shared_ptr<tcp::socket>> sockets;
  bool stopping = false;
  bool hold = false;
  struct Scripted {
    int remaining = 0;
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string method;
  } scripted;
  std::vector<StandInIssue> issues;
  std::vector<TrackerCall> calls;
  int next_number = 1;

  explicit Impl(TrackerStandIn& o) : owner(o) {
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(ep.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen();
    accept_thread = std::thread([this] { accept_loop(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mu);
      stopping = true;
      for (auto& s : sockets) {
        beast::error_code ec;
        s->shutdown(tcp::socket::shutdown_both, ec);
      }
    }
    changed.notify_all();
    // close() alone does not wake a thread blocked in accept(); shutdown() does.
    ::shutdown(acceptor.native_handle(), SHUT_RDWR);
    beast::error_code ec;
    if (accept_thread.joinable()) accept_thread.join();
    acceptor.close(ec);
    std::vector<std::thread> ws;
    {
      std::lock_guard lock(mu);
      ws.swap(workers);
    }
    for (auto& w : ws) w.join();
  }

  void accept_loop() {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(io);
      beast::error_code ec;
      acceptor.accept(*socket, ec);
      std::lock_guard lock(mu);
      if (ec || stopping) return;
      sockets.insert(socket);
      workers.emplace_back([this, socket] { serve(socket); });
    }
  }

  void serve(std::shared_ptr<tcp::socket> socket) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      beast::error_code ec;
      http::read(*socket, buffer, req, ec);
      if (ec) break;
      TrackerCall call;
      call.method = std::string(req.method_string());
      call.target = std::string(req.target());
      for (const auto& f : req) {
        std::string name(f.name_string());
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        call.headers.emplace_back(name, std::string(f.value()));
      }
      call.body = req.body();
      bool created = false;
      Answer a = answer(call, created);
      if (created) {
        std::unique_lock lock(mu);
        changed.wait(lock, [&] { return !hold || stopping; });
        if (stopping) break;
      }
      http::response<http::string_body> res{static_cast<http::status>(a.status), 11};
      res.set(http::field::content_type, "application/json");
      for (const auto& [n, v] : a.headers) res.set(n, v);
      if (a.status != 204) res.body() = a.body.dump();
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(*socket, res, ec);
      if (ec || !req.keep_alive()) break;
    }
    std::lock_guard lock(mu);
    beast::error_code ec;
    socket->shutdown(tcp::socket::shutdown_both, ec);
    sockets.erase(socket);
  }

  Answer answer(TrackerCall& call, bool& created) {
    std::lock_guard lock(mu);
    Answer a = route(call, created);
    call.status = a.status;
    calls.push_back(call);
    changed.notify_all();
    return a;
  }

  StandInIssue* find(const std::string& key) {
    for (auto& i : issues) {
      if (i.key == key) return &i;
    }
    return nullptr;
  }

  // Under mu.
  Answer route(const TrackerCall& c, bool& created) {
    if (scripted.remaining > 0 && (scripted.method.empty() || scripted.method == c.method)) {
      --scripted.remaining;
      return {scripted.status, json{{"message", "scripted failure"}}, scripted.headers};
    }
    const std::string path = c.target.substr(0, c.target.find('?'));
    json body = json::parse(c.body, nullptr, false);
    std::smatch m;
    static const std::regex kGitHub(R"(^/repos/([^/]+/[^/]+)/issues(?:/(\d+))?$)");
    static const std::regex kGitLab(R"(^/api/v4/projects/([^/]+)/issues(?:/(\d+))?$)");
    static const std::regex kJiraIssue(
        R"(^/rest/api/([23])/issue(?:/([A-Z]+-\d+))?(/transitions)?$)");
    static const std::regex kJiraSearch(R"(^/rest/api/(3/search/jql|2/search)$)");
    if (std::regex_match(path, m, kGitHub)) {
      if (c.header("authorization") != "Bearer " + owner.token_) {
        return {401, json{{"message", "Bad credentials"}}, {}};
      }
      return github(c, body, m[1], m[2].matched ? std::stoi(m[2]) : 0, created);
    }
    if (std::regex_match(path, m, kGitLab)) {
      if (c.header("private-token") != owner.token_) {
        return {401, json{{"message", "401 Unauthorized"}}, {}};
      }
      return gitlab(c, body, percent_decode(m[1].str()), m[2].matched ? std::stoi(m[2]) : 0,
                    created);
    }
    const bool jira_auth =
        c.header("authorization") == "Basic " + base64(owner.user_ + ":" + owner.token_);
    if (std::regex_match(path, m, kJiraSearch)) {
      if (!jira_auth) return {401, json{{"errorMessages", {"unauthorized"}}}, {}};
      static const std::regex kLabel(R"(labels\s*=\s*"([^"]+)\")");
      std::smatch lm;
      const std::string jql = query_param(c.target, "jql");
      if (!std::regex_search(jql, lm, kLabel)) {
        return {400, json{{"errorMessages", {"unsupported JQL"}}}, {}};
      }
      json out = json::array();
      for (const auto& i : issues) {
        if (has_label(i, lm[1])) out.push_back(jira_issue(i));
      }
      return {200, json{{"issues", out}}, {}};
    }
    if (std::regex_match(path, m, kJiraIssue)) {
      if (!jira_auth) return {401, json{{"errorMessages", {"unauthorized"}}}, {}};
      return jira(c, body, m[1] == "3", m[2], m[3].matched, created);
    }
    return {404, json{{"message", "Not Found"}}, {}};
  }

  Answer github(const TrackerCall& c, const json& body, const std::string& repo, int number,
                bool& created) {
    auto gh = [&](const StandInIssue& i) {
      json labels = json::array();
      for (const auto& l : i.labels) labels.push_back({{"name", l}});
      const int n = std::stoi(i.key.substr(i.key.rfind('#') + 1));
      return json{{"number", n},
                  {"html_url", fmt::format("https://github.example/{}/issues/{}", repo, n)},
                  {"state", i.closed ? "closed" : "open"},
                  {"title", i.title},
                  {"labels", labels}};
    };
    if (number == 0 && c.method == "GET") {
      const std::string label = query_param(c.target, "labels");
      json out = json::array();
      for (const auto& i : issues) {
        if (i.key.starts_with(repo + "#") && (label.empty() || has_label(i, label))) {
          out.push_back(gh(i));
        }
      }
      return {200, out, {}};
    }
    if (number == 0 && c.method == "POST") {
      if (!body.is_object() || !body.contains("title") || !body["title"].is_string()) {
        return {422, json{{"message", "Validation Failed"}}, {}};
      }
      StandInIssue i;
      i.key = fmt::format("{}#{}", repo, next_number++);
      i.title = body["title"];
      i.description = body.value("body", json(""));
      if (body.contains("labels")) {
        for (const auto& l : body["labels"]) i.labels.push_back(l.get<std::string>());
      }
      if (body.contains("assignees") && !body["assignees"].empty()) {
        i.assignee = body["assignees"][0];
      }
      issues.push_back(i);
      created = true;
      return {201, gh(i), {}};
    }
    StandInIssue* i = find(fmt::format("{}#{}", repo, number));
    if (!i) return {404, json{{"message", "Not Found"}}, {}};
    if (c.method == "PATCH") {
      const std::string state = body.value("state", "");
      if (state != "open" && state != "closed") {
        return {422, json{{"message", "Validation Failed"}}, {}};
      }
      i->closed = state == "closed";
    }
    return {200, gh(*i), {}};
  }

  Answer gitlab(const TrackerCall& c, const json& body, const std::string& project, int iid,
                bool& created) {
    auto gl = [&](const StandInIssue& i) {
      const int n = std::stoi(i.key.substr(i.key.rfind('#') + 1));
      return json{{"id", 1000 + n},
                  {"iid", n},
                  {"web_url", fmt::format("https://gitlab.example/{}/-/issues/{}", project, n)},
                  {"state", i.closed ? "closed" : "opened"},
                  {"title", i.title}};
    };
    if (iid == 0 && c.method == "GET") {
      const std::string label = query_param(c.target, "labels");
      json out = json::array();
      for (const auto& i : issues) {
        if (i.key.starts_with(project + "#") && (label.empty() || has_label(i, label))) {
          out.push_back(gl(i));
        }
      }
      return {200, out, {}};
    }
    if (iid == 0 && c.method == "POST") {
      if (!body.is_object() || !body.contains("title") || !body["title"].is_string()) {
        return {400, json{{"error", "title is missing"}}, {}};
      }
      StandInIssue i;
      i.key = fmt::format("{}#{}", project, next_number++);
      i.title = body["title"];
      i.description = body.value("description", json(""));
      std::string_view labels = body.contains("labels") && body["labels"].is_string()
                                    ? body["labels"].get_ref<const std::string&>()
                                    : std::string_view();
      while (!labels.empty()) {
        const auto comma = labels.find(',');
        i.labels.emplace_back(labels.substr(0, comma));
        if (comma == std::string_view::npos) break;
        labels.remove_prefix(comma + 1);
      }
      i.due = body.value("due_date", "");
      if (body.contains("assignee_ids") && !body["assignee_ids"].empty()) {
        i.assignee = std::to_string(body["assignee_ids"][0].get<long long>());
      }
      issues.push_back(i);
      created = true;
      return {201, gl(i), {}};
    }
    StandInIssue* i = find(fmt::format("{}#{}", project, iid));
    if (!i) return {404, json{{"message", "404 Not found"}}, {}};
    if (c.method == "PUT") {
      const std::string event = body.value("state_event", "");
      if (event != "close" && event != "reopen") {
        return {400, json{{"error", "state_event does not have a valid value"}}, {}};
      }
      i->closed = event == "close";
    }
    return {200, gl(*i), {}};
  }

  static json jira_issue(const StandInIssue& i) {
    return {{"key", i.key},
            {"fields",
             {{"status",
               {{"name", i.closed ? "Done" : "To Do"},
                {"statusCategory", {{"key", i.closed ? "done" : "new"}}}}}}}};
  }

  Answer jira(const TrackerCall& c, const json& body, bool v3, const std::string& key,
              bool transitions, bool& created) {
    if (key.empty() && c.method == "POST") {
      const json* f = body.is_object() && body.contains("fields") ? &body["fields"] : nullptr;
      json errors = json::object();
      if (!f || !f->is_object()) return {400, json{{"errorMessages", {"no fields"}}}, {}};
      if (!f->contains("project") || !(*f)["project"].contains("key"))
        errors["project"] = "project is required";
      if (!f->contains("summary") || !(*f)["summary"].is_string())
        errors["summary"] = "You must specify a summary of the issue.";
      if (!f->contains("issuetype")) errors["issuetype"] = "issue type is required";
      if (f->contains("description")) {
        const json& d = (*f)["description"];
        if (v3 && !valid_adf(d))
          errors["description"] = "Operation value must be an Atlassian Document";
        if (!v3 && !d.is_string()) errors["description"] = "Operation value must be a string";
      }
      if (!errors.empty())
        return {400, json{{"errorMessages", json::array()}, {"errors", errors}}, {}};
      StandInIssue i;
      i.key = fmt::format("{}-{}", (*f)["project"]["key"].get<std::string>(), next_number++);
      i.title = (*f)["summary"];
      i.description = f->value("description", json(nullptr));
      if (f->contains("labels")) {
        for (const auto& l : (*f)["labels"]) i.labels.push_back(l.get<std::string>());
      }
      i.due = f->value("duedate", "");
      if (f->contains("assignee")) {
        const json& a = (*f)["assignee"];
        i.assignee = a.value(v3 ? "accountId" : "name", "");
      }
      issues.push_back(i);
      created = true;
      return {201,
              json{{"id", std::to_string(10000 + next_number)},
                   {"key", i.key},
                   {"self", "http://jira.example/rest/api/2/issue/" + i.key}},
              {}};
    }
    StandInIssue* i = find(key);
    if (!i) return {404, json{{"errorMessages", {"Issue does not exist"}}}, {}};
    if (!transitions) return {200, jira_issue(*i), {}};
    if (c.method == "GET") {
      auto t = [](const char* id, const char* name, const char* cat) {
        return json{{"id", id}, {"name", name}, {"to", {{"statusCategory", {{"key", cat}}}}}};
      };
      return {200,
              json{{"transitions",
                    {t("11", "To Do", "new"), t("21", "In Progress", "indeterminate"),
                     t("31", "Done", "done")}}},
              {}};
    }
    const std::string id = body.contains("transition") ? body["transition"].value("id", "") : "";
    if (id != "11" && id != "21" && id != "31") {
      return {400, json{{"errorMessages", {"Transition id is not valid"}}}, {}};
    }
    i->closed = id == "31";
    return {204, json(), {}};
  }
};

TrackerStandIn::TrackerStandIn(std::string token, std::string user)
    : token_(std::move(token)), user_(std::move(user)), impl_(std::make_unique<Impl>(*this)) {}

TrackerStandIn::~TrackerStandIn() = default;

std::string TrackerStandIn::base_url() const {
  return fmt::format("http://127.0.0.1:{}", impl_->acceptor.local_endpoint().port());
}

void TrackerStandIn::fail_next(int n, unsigned status,
                               std::vector<std::pair<std::string, std::string>> headers,
                               std::string method) {
  std::lock_guard lock(impl_->mu);
  impl_->scripted = {n, status, std::move(headers), std::move(method)};
}

void TrackerStandIn::hold_creates(bool hold) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->hold = hold;
  }
  impl_->changed.notify_all();
}

void TrackerStandIn::set_closed(const std::string& key, bool closed) {
  std::lock_guard lock(impl_->mu);
  if (StandInIssue* i = impl_->find(key)) i->closed = closed;
}

std::vector<StandInIssue> TrackerStandIn::issues() const {
  std::lock_guard lock(impl_->mu);
  return impl_->issues;
}

std::vector<TrackerCall> TrackerStandIn::calls() const {
  std::lock_guard lock(impl_->mu);
  return impl_->calls;
}

std::size_t TrackerStandIn::count(const std::string& method, const std::string& path_part) const {
  std::lock_guard lock(impl_->mu);
  std::size_t n = 0;
  for (const auto& c : impl_->calls) {
    const std::string path = c.target.substr(0, c.target.find('?'));
    if (c.method == method && path.find(path_part) != std::string::npos) ++n;
  }
  return n;
}

bool TrackerStandIn::wait_for(const std::function<bool()>& condition,
                              std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(impl_->mu);
  for (;;) {
    lock.unlock();
    if (condition()) return true;
    lock.lock();
    if (impl_->changed.wait_until(lock, deadline) == std::cv_status::timeout) {
      lock.unlock();
      return condition();
    }
  }
}

bool TrackerStandIn::wait_for_issues(std::size_t n, std::chrono::milliseconds timeout) const {
  return wait_for([&] { return issues().size() >= n; }, timeout);
}

}  // namespace scribe::testing
