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
// It also stands in for the publishing destinations (publish/):
// - Confluence Cloud REST v2: GET /wiki/api/v2/spaces?keys=, GET /wiki/api/v2/pages?space-id=
//   &title=, POST /wiki/api/v2/pages (storage-format body; titles unique in a space),
//   GET/PUT /wiki/api/v2/pages/{id} (PUT must carry the next version number); Basic auth.
// - GitHub contents: GET/PUT /repos/{owner}/{repo}/contents/{path} (base64 content; an
//   update must name the current blob sha, a creation none).
//
// - Confluence Data Center REST: GET /rest/api/content?spaceKey=&title=, POST
//   /rest/api/content (storage body, ancestors), GET/PUT /rest/api/content/{id} (PUT must
//   carry the next version number); `Authorization: Bearer <token>`.
// - GitLab repository files: GET /api/v4/projects/{id} (default branch, web_url), GET/POST/PUT
//   /api/v4/projects/{id}/repository/files/{path} (branch, base64 content, commit_message;
//   POST refuses an existing file, PUT a missing one).
// - Notion (Notion-Version 2022-06-28): POST /v1/pages, PATCH /v1/pages/{id}, GET/PATCH
//   /v1/blocks/{id}/children, DELETE /v1/blocks/{id}; the limits are enforced as Notion
//   documents them (≤ 100 blocks or array items, ≤ 2,000 characters a text object, two levels
//   of nesting, ≤ 1,000 block elements and 500 KB a request): 400 validation_error.
// - Google: POST /token (an RS256 JWT bearer assertion, verified with the public key the
//   test gives), GET /drive/v3/files?q= (appProperties and parent), POST
//   /upload/drive/v3/files?uploadType=multipart (converted to a Google Doc), PATCH
//   /upload/drive/v3/files/{id}?uploadType=media and PATCH /drive/v3/files/{id} (name).
//
// Malformed requests get the tracker's error status (400/422) and create nothing. Tests
// can script failures (429 with Retry-After) and hold the answer to a create (the issue
// is made, the answer waits), to crash Scribe between the tracker's 201 and its commit.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
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

struct StandInPage {  // Confluence
  std::string id;
  std::string title;
  std::string body;  // storage format
  std::string parent;
  std::int64_t version = 0;
};

struct StandInFile {  // GitHub contents
  std::string path;
  std::string content;  // decoded
  std::string sha;
  int commits = 0;
};

struct StandInNotionPage {
  std::string id;
  std::string parent;
  std::string title;
  std::string url;
  bool archived = false;
  // The page's live top-level blocks, each {"type": …, "text": plain text, "rows": n for
  // a table, "cells": the table's rows of plain-text cells}.
  std::vector<nlohmann::json> blocks;
};

struct StandInGoogleDoc {
  std::string id;
  std::string name;
  std::vector<std::string> parents;
  std::map<std::string, std::string> app_properties;
  std::string html;  // as uploaded
  int revisions = 0;
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

  // The next `n` calls with this HTTP method ("" any) whose path contains `path_part`
  // get `status` with `headers`.
  void fail_next(int n, unsigned status, std::vector<std::pair<std::string, std::string>> headers,
                 std::string method = "", std::string path_part = "");
  // While held, a create makes its issue and then waits before answering.
  void hold_creates(bool hold);
  // Closes or reopens an issue as a person in the tracker would.
  void set_closed(const std::string& key, bool closed);

  // The Google service account the token endpoint accepts: its e-mail and its public key
  // (PEM), which verifies the JWT's signature.
  void set_google_account(std::string client_email, std::string public_key_pem);
  // Access tokens the token endpoint has issued.
  int google_tokens_issued() const;
  // Every access token issued so far stops working, as when they are revoked.
  void expire_google_tokens();
  // The id of the Notion page the stand-in has from the start, to publish under.
  static constexpr char kNotionParent[] = "5c6a2821-6bb1-4a7e-b6e1-c50111515c3d";

  std::vector<StandInIssue> issues() const;
  std::vector<StandInNotionPage> notion_pages() const;
  std::vector<StandInGoogleDoc> google_docs() const;
  std::vector<StandInPage> pages() const;
  std::vector<StandInFile> files() const;
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
