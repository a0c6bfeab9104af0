#include "trackers/client.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include "util/percent.h"

namespace scribe::trackers {
namespace {

// The number after the last '#' of a key ("owner/repo#12", "group/project#7").
std::optional<long long> issue_number(const std::string& key) {
  const auto hash = key.rfind('#');
  if (hash == std::string::npos) return std::nullopt;
  long long n = 0;
  const char* first = key.data() + hash + 1;
  const char* last = key.data() + key.size();
  if (std::from_chars(first, last, n).ptr != last || n <= 0) return std::nullopt;
  return n;
}

using nlohmann::json;

std::string header_of(const HttpResult& http, std::string_view name) {
  for (const auto& [n, v] : http.headers) {
    if (n == name) return v;
  }
  return "";
}

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

json parse(const std::string& body) {
  return json::parse(body, nullptr, /*allow_exceptions=*/false);
}

CallResult malformed(std::string_view what) {
  return {CallResult::Outcome::kRetry, fmt::format("unexpected answer: {}", what), std::nullopt};
}

// The shared request loop: every client sends JSON and reads JSON.
class Rest {
 public:
  explicit Rest(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  CallResult call(const std::string& method, const std::string& url, const json* body,
                  json& answer) {
    std::vector<std::string> headers = headers_;
    headers.emplace_back("Accept: application/json");
    std::string payload;
    if (body) {
      headers.emplace_back("Content-Type: application/json");
      payload = body->dump(-1, ' ', false, json::error_handler_t::replace);
    }
    HttpResult http = http_.request(method, url, headers, payload);
    CallResult r = classify(http, std::chrono::system_clock::now());
    if (r.ok()) answer = parse(http.body);
    return r;
  }

 private:
  std::vector<std::string> headers_;
  HttpClient http_;
};

// --- GitHub REST: issues ----------------------------------------------------------------

class GitHub final : public TrackerClient {
 public:
  explicit GitHub(const Settings& s)
      : repo_(s.github_repo),
        base_(trim_slash(s.github_api_url) + "/repos/" + s.github_repo),
        rest_({"Authorization: Bearer " + s.github_token, "X-GitHub-Api-Version: 2022-11-28",
               "User-Agent: scribe"}) {}

  CallResult find(const std::string& marker, std::optional<Issue>& found) override {
    json answer;
    // The list endpoint reads the database (unlike search, which is indexed later), so an
    // issue created a moment ago is already in it.
    CallResult r = rest_.call(
        "GET", fmt::format("{}/issues?labels={}&state=all", base_, percent_encode(marker)), nullptr,
        answer);
    if (!r.ok()) return r;
    if (!answer.is_array()) return malformed("not a list of issues");
    for (const json& issue : answer) {
      if (issue.contains("pull_request")) continue;
      Issue i;
      if (!read(issue, i)) return malformed("issue without number");
      found = i;
      return r;
    }
    found.reset();
    return r;
  }

  CallResult create(const IssueDraft& d, Issue& created) override {
    std::string body = d.body;
    if (d.link) body += "\n\nPostmortem: " + *d.link;
    json payload = {{"title", d.title}, {"body", body}, {"labels", d.labels}};
    if (d.assignee) payload["assignees"] = json::array({*d.assignee});
    json answer;
    CallResult r = rest_.call("POST", base_ + "/issues", &payload, answer);
    if (r.ok() && !read(answer, created)) return malformed("created issue without number");
    return r;
  }

  CallResult set_closed(const std::string& key, bool closed) override {
    auto number = issue_number(key);
    if (!number) return {CallResult::Outcome::kPermanent, "not a GitHub issue: " + key, {}};
    json payload =
        closed ? json{{"state", "closed"}, {"state_reason", "completed"}} : json{{"state", "open"}};
    json answer;
    return rest_.call("PATCH", fmt::format("{}/issues/{}", base_, *number), &payload, answer);
  }

  CallResult get(const std::string& key, Issue& issue) override {
    auto number = issue_number(key);
    if (!number) return {CallResult::Outcome::kPermanent, "not a GitHub issue: " + key, {}};
    json answer;
    CallResult r = rest_.call("GET", fmt::format("{}/issues/{}", base_, *number), nullptr, answer);
    if (r.ok() && !read(answer, issue)) return malformed("issue without number");
    return r;
  }

 private:
  bool read(const json& j, Issue& out) const {
    if (!j.is_object() || !j.contains("number") || !j["number"].is_number_integer()) return false;
    out.key = scoped_key(repo_, j["number"].get<long long>());
    out.url = j.value("html_url", "");
    out.closed = j.value("state", "") == "closed";
    return true;
  }

  std::string repo_;
  std::string base_;
  Rest rest_;
};

// --- GitLab REST v4: issues -------------------------------------------------------------

class GitLab final : public TrackerClient {
 public:
  explicit GitLab(const Settings& s)
      : project_(s.gitlab_project),
        base_(trim_slash(s.gitlab_url) + "/api/v4/projects/" + percent_encode(s.gitlab_project)),
        rest_({"PRIVATE-TOKEN: " + s.gitlab_token}) {}

  CallResult find(const std::string& marker, std::optional<Issue>& found) override {
    json answer;
    CallResult r = rest_.call(
        "GET",
        fmt::format("{}/issues?labels={}&scope=all&state=all", base_, percent_encode(marker)),
        nullptr, answer);
    if (!r.ok()) return r;
    if (!answer.is_array()) return malformed("not a list of issues");
    found.reset();
    if (!answer.empty()) {
      Issue i;
      if (!read(answer.front(), i)) return malformed("issue without iid");
      found = i;
    }
    return r;
  }

  CallResult create(const IssueDraft& d, Issue& created) override {
    std::string description = d.body;
    if (d.link) description += "\n\nPostmortem: " + *d.link;
    std::string labels;
    for (const auto& l : d.labels) labels += (labels.empty() ? "" : ",") + l;
    json payload = {{"title", d.title}, {"description", description}, {"labels", labels}};
    if (d.due) payload["due_date"] = *d.due;
    if (d.assignee) {
      long long id = 0;
      const char* last = d.assignee->data() + d.assignee->size();
      if (std::from_chars(d.assignee->data(), last, id).ptr == last) {
        payload["assignee_ids"] = json::array({id});
      }
    }
    json answer;
    CallResult r = rest_.call("POST", base_ + "/issues", &payload, answer);
    if (r.ok() && !read(answer, created)) return malformed("created issue without iid");
    return r;
  }

  CallResult set_closed(const std::string& key, bool closed) override {
    auto iid = issue_number(key);
    if (!iid) return {CallResult::Outcome::kPermanent, "not a GitLab issue: " + key, {}};
    json payload = {{"state_event", closed ? "close" : "reopen"}};
    json answer;
    return rest_.call("PUT", fmt::format("{}/issues/{}", base_, *iid), &payload, answer);
  }

  CallResult get(const std::string& key, Issue& issue) override {
    auto iid = issue_number(key);
    if (!iid) return {CallResult::Outcome::kPermanent, "not a GitLab issue: " + key, {}};
    json answer;
    CallResult r = rest_.call("GET", fmt::format("{}/issues/{}", base_, *iid), nullptr, answer);
    if (r.ok() && !read(answer, issue)) return malformed("issue without iid");
    return r;
  }

 private:
  bool read(const json& j, Issue& out) const {
    if (!j.is_object() || !j.contains("iid") || !j["iid"].is_number_integer()) return false;
    out.key = scoped_key(project_, j["iid"].get<long long>());
    out.url = j.value("web_url", "");
    out.closed = j.value("state", "") == "closed";
    return true;
  }

  std::string project_;
  std::string base_;
  Rest rest_;
};

// --- Jira REST: Cloud v3 (ADF) and Data Center v2 (plain text) --------------------------

// A paragraph of Atlassian Document Format; `href` makes the text a link.
json adf_paragraph(const std::string& text, const std::string& href = {}) {
  json node = {{"type", "text"}, {"text", text}};
  if (!href.empty()) {
    node["marks"] = json::array({{{"type", "link"}, {"attrs", {{"href", href}}}}});
  }
  return {{"type", "paragraph"}, {"content", json::array({node})}};
}

class Jira final : public TrackerClient {
 public:
  explicit Jira(const Settings& s)
      : cloud_(jira_cloud(s)),
        site_(trim_slash(s.jira_url)),
        api_(site_ + (cloud_ ? "/rest/api/3" : "/rest/api/2")),
        project_(s.jira_project),
        issue_type_(s.jira_issue_type),
        rest_({s.jira_user.empty()
                   ? "Authorization: Bearer " + s.jira_token
                   : "Authorization: Basic " + base64(s.jira_user + ":" + s.jira_token)}) {}

  CallResult find(const std::string& marker, std::optional<Issue>& found) override {
    const std::string jql = fmt::format("project = \"{}\" AND labels = \"{}\"", project_, marker);
    // Cloud retired GET /search for /search/jql; Data Center keeps /search.
    const std::string url = fmt::format("{}/{}?jql={}&fields=status", api_,
                                        cloud_ ? "search/jql" : "search", percent_encode(jql));
    json answer;
    CallResult r = rest_.call("GET", url, nullptr, answer);
    if (!r.ok()) return r;
    if (!answer.is_object() || !answer.contains("issues") || !answer["issues"].is_array()) {
      return malformed("search without issues");
    }
    found.reset();
    for (const json& issue : answer["issues"]) {
      Issue i;
      if (read(issue, i)) {
        found = i;
        break;
      }
    }
    return r;
  }

  CallResult create(const IssueDraft& d, Issue& created) override {
    json fields = {{"project", {{"key", project_}}},
                   {"summary", d.title},
                   {"issuetype", {{"name", issue_type_}}},
                   {"labels", d.labels}};
    if (cloud_) {
      json content = json::array();
      std::string_view rest = d.body;
      while (!rest.empty()) {
        const auto gap = rest.find("\n\n");
        const std::string para(rest.substr(0, gap));
        if (!para.empty()) content.push_back(adf_paragraph(para));
        if (gap == std::string_view::npos) break;
        rest.remove_prefix(gap + 2);
      }
      if (d.link) content.push_back(adf_paragraph("Postmortem: " + *d.link, *d.link));
      fields["description"] = {{"type", "doc"}, {"version", 1}, {"content", content}};
      if (d.assignee) fields["assignee"] = {{"accountId", *d.assignee}};
    } else {
      fields["description"] = d.body + (d.link ? "\n\nPostmortem: " + *d.link : "");
      if (d.assignee) fields["assignee"] = {{"name", *d.assignee}};
    }
    if (d.due) fields["duedate"] = *d.due;
    json payload = {{"fields", fields}};
    json answer;
    CallResult r = rest_.call("POST", api_ + "/issue", &payload, answer);
    if (!r.ok()) return r;
    if (!answer.is_object() || !answer.contains("key") || !answer["key"].is_string()) {
      return malformed("created issue without key");
    }
    created.key = answer["key"].get<std::string>();
    created.url = site_ + "/browse/" + created.key;
    created.closed = false;
    return r;
  }

  // Jira has no "state": an issue moves through its workflow's transitions. Closing takes
  // the first transition into the "done" status category; reopening the first out of it
  // (to "new", else "indeterminate").
  CallResult set_closed(const std::string& key, bool closed) override {
    const std::string url = fmt::format("{}/issue/{}/transitions", api_, percent_encode(key));
    json answer;
    CallResult r = rest_.call("GET", url, nullptr, answer);
    if (!r.ok()) return r;
    if (!answer.is_object() || !answer.contains("transitions") ||
        !answer["transitions"].is_array()) {
      return malformed("no transitions");
    }
    std::string chosen;
    int best = 0;
    for (const json& t : answer["transitions"]) {
      if (!t.is_object() || !t.contains("id")) continue;
      std::string category;
      if (t.contains("to") && t["to"].is_object() && t["to"].contains("statusCategory") &&
          t["to"]["statusCategory"].is_object()) {
        category = t["to"]["statusCategory"].value("key", "");
      }
      const int score = closed ? (category == "done" ? 2 : 0)
                               : (category == "new"             ? 2
                                  : category == "indeterminate" ? 1
                                                                : 0);
      if (score > best) {
        best = score;
        chosen = t["id"].is_string() ? t["id"].get<std::string>() : t["id"].dump();
      }
    }
    if (chosen.empty()) {
      return {
          CallResult::Outcome::kPermanent,
          fmt::format("{} has no transition {} the done category", key, closed ? "into" : "out of"),
          std::nullopt};
    }
    json payload = {{"transition", {{"id", chosen}}}};
    return rest_.call("POST", url, &payload, answer);
  }

  CallResult get(const std::string& key, Issue& issue) override {
    json answer;
    CallResult r =
        rest_.call("GET", fmt::format("{}/issue/{}?fields=status", api_, percent_encode(key)),
                   nullptr, answer);
    if (r.ok() && !read(answer, issue)) return malformed("issue without key");
    return r;
  }

 private:
  bool read(const json& j, Issue& out) const {
    if (!j.is_object() || !j.contains("key") || !j["key"].is_string()) return false;
    out.key = j["key"].get<std::string>();
    out.url = site_ + "/browse/" + out.key;
    const json* status = nullptr;
    if (j.contains("fields") && j["fields"].is_object() && j["fields"].contains("status")) {
      status = &j["fields"]["status"];
    }
    out.closed = status && status->is_object() && status->contains("statusCategory") &&
                 (*status)["statusCategory"].is_object() &&
                 (*status)["statusCategory"].value("key", "") == "done";
    return true;
  }

  bool cloud_;
  std::string site_;
  std::string api_;
  std::string project_;
  std::string issue_type_;
  Rest rest_;
};

}  // namespace

CallResult classify(const HttpResult& http, std::chrono::system_clock::time_point now) {
  CallResult r;
  if (http.transport_failed()) {
    r.outcome = CallResult::Outcome::kRetry;
    r.error = http.transport_error();
    return r;
  }
  if (http.status >= 200 && http.status < 300) return r;
  r.error = fmt::format("HTTP {}", http.status);
  const auto message = parse(http.body);
  if (message.is_object() && message.contains("message") && message["message"].is_string()) {
    r.error += ": " + message["message"].get<std::string>();
  } else if (message.is_object() && message.contains("errorMessages")) {
    r.error += ": " + message["errorMessages"].dump();
  }
  if (auto after = http.retry_after()) r.retry_after = *after;
  // GitHub's primary rate limit: 403 (or 429) with no requests left until a reset time.
  const bool exhausted = header_of(http, "x-ratelimit-remaining") == "0";
  if (exhausted) {
    long long reset = 0;
    const std::string v = header_of(http, "x-ratelimit-reset");
    if (std::from_chars(v.data(), v.data() + v.size(), reset).ec == std::errc()) {
      const auto wait = std::chrono::sys_seconds(std::chrono::seconds(reset)) - now;
      r.retry_after = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(wait),
                               std::chrono::milliseconds(0));
    }
  }
  if (http.status == 429 || http.status >= 500 || http.status == 408 ||
      (http.status == 403 && (exhausted || r.retry_after))) {
    r.outcome = CallResult::Outcome::kRetry;
  } else {
    r.outcome = CallResult::Outcome::kPermanent;
  }
  return r;
}

std::unique_ptr<TrackerClient> make_client(const Settings& settings) {
  switch (settings.active()) {
    case Kind::kJira:
      return std::make_unique<Jira>(settings);
    case Kind::kGitHub:
      return std::make_unique<GitHub>(settings);
    case Kind::kGitLab:
      return std::make_unique<GitLab>(settings);
    case Kind::kNone:
      break;
  }
  return nullptr;
}

bool jira_cloud(const Settings& s) {
  if (s.jira_api == "cloud") return true;
  if (s.jira_api == "datacenter") return false;
  std::string host = s.jira_url;
  const auto scheme = host.find("://");
  if (scheme != std::string::npos) host = host.substr(scheme + 3);
  host = host.substr(0, host.find_first_of("/:"));
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return host.ends_with(".atlassian.net");
}

std::string scoped_key(const std::string& project, long long number) {
  return fmt::format("{}#{}", project, number);
}

Kind Settings::active() const {
  if (!jira_url.empty() && !jira_token.empty() && !jira_project.empty()) return Kind::kJira;
  if (!github_token.empty() && !github_repo.empty()) return Kind::kGitHub;
  if (!gitlab_token.empty() && !gitlab_project.empty()) return Kind::kGitLab;
  return Kind::kNone;
}

int Settings::configured_count() const {
  return (!jira_url.empty() && !jira_token.empty() && !jira_project.empty() ? 1 : 0) +
         (!github_token.empty() && !github_repo.empty() ? 1 : 0) +
         (!gitlab_token.empty() && !gitlab_project.empty() ? 1 : 0);
}

std::string display_name(Kind kind) {
  switch (kind) {
    case Kind::kJira:
      return "Jira";
    case Kind::kGitHub:
      return "GitHub";
    case Kind::kGitLab:
      return "GitLab";
    case Kind::kNone:
      break;
  }
  return "";
}

}  // namespace scribe::trackers
