// TrackerStandIn: a local stand-in for the REST APIs of Jira (Cloud v3 and Data Center
// v2), GitHub and GitLab issues, for tests. An HTTP/1.1 server on 127.0.0.1 and an
// ephemeral port (a thread per connection) that keeps issues in memory and answers the
// calls Scribe makes with each tracker's documented request and response shapes:
//
// - GitHub: GET/POST /repos/{owner}/{repo}/issues (labels filter), GET/PATCH
//   /repos/{owner}/{repo}/issues/{number}; `Authorization: Bearer <token>`.
// - GitLab: GET/POST /api/v4/projects/{id}/issues, GET/PUT .../issues/{iid}
//   (state_event); `PRIVATE-TOKEN: <token>`.
// - Jira: POST /rest/api/{2,3}/issue (v3 wants an ADF description, v2 a string), GET
//   /rest/api/3/search/jql and /rest/api/2/search (labels = "x" in the JQL), GET
//   /rest/api/{2,3}/issue/{key}, GET/POST .../transitions; Basic auth.
//
// Malformed requests get the tracker's error status (400/422) and create nothing. Tests
// can script failures (429 with Retry-After) and hold the answer to a create (the issue
// is made, the answer waits), to crash Scribe between the tracker's 201 and its commit.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace scribe::testing {

struct TrackerCall {
  std::string method;
  std::string target;                                        // path and query
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;
  unsigned status = 0;
  std::string header(std::string_view name) const;
};

struct StandInIssue {
  std::string key;  // "OPS-1", "acme/web#1", "grp/proj#1"
  std::string title;
  nlohmann::json description;  // the body as sent (a string, or ADF)
  std::vector<std::string> labels;
  std::string assignee;
  std::string due;
  bool closed = false;
};

class TrackerStandIn {
 public:
  // Credentials every call must carry: GitHub/GitLab `token`; Jira `user`:`token`.
  TrackerStandIn(std::string token = "tracker-token", std::string user = "scribe@example.com");
  ~TrackerStandIn();
  TrackerStandIn(const TrackerStandIn&) = delete;
  TrackerStandIn& operator=(const TrackerStandIn&) = delete;

  std::string base_url() const;  // "http://127.0.0.1:<port>"
  const std::string& token() const { return token_; }
  const std::string& user() const { return user_; }

  // The next `n` calls with this HTTP method ("" any) get `status` with `headers`.
  void fail_next(int n, unsigned status, std::vector<std::pair<std::string, std::string>> headers,
                 std::string method = "");
  // While held, a create makes its issue and then waits before answering.
  void hold_creates(bool hold);
  // Closes or reopens an issue as a person in the tracker would.
  void set_closed(const std::string& key, bool closed);

  std::vector<StandInIssue> issues() const;
  std::vector<TrackerCall> calls() const;
  // Calls of `method` whose path starts with `path_prefix` and (when given) ends with `suffix`.
  std::size_t count(const std::string& method, const std::string& path_part) const;
  bool wait_for_issues(std::size_t n, std::chrono::milliseconds timeout) const;
  bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout) const;

  struct Impl;

 private:
  std::string token_;
  std::string user_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scribe::testing
