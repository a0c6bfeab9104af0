// TrackerClient: one issue tracker's REST API as the tracker extension uses it: find the
// issue of an action item by its marker label, create it, close or reopen it, read its
// state. Blocking calls over HttpClient; each client owns one connection, so it is NOT
// thread-safe: it is used on the outbox's sender thread only.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "net/rest.h"
#include "trackers/settings.h"

namespace scribe::trackers {

// What an issue is made of, tracker-neutral.
struct IssueDraft {
  std::string title;
  std::string body;                     // plain text, paragraphs separated by blank lines
  std::optional<std::string> link;      // the postmortem's address, when configured
  std::optional<std::string> assignee;  // a tracker user (Settings::users)
  std::optional<std::string> due;       // YYYY-MM-DD
  std::vector<std::string> labels;      // the kind, and the marker
  std::string marker;                   // the label that finds this item's issue again
};

struct Issue {
  std::string key;  // "OPS-12", "acme/web#34"
  std::string url;  // the issue's web page
  bool closed = false;
};

class TrackerClient {
 public:
  virtual ~TrackerClient() = default;
  // The issue carrying `marker`, if one exists (an earlier attempt may have created it).
  virtual CallResult find(const std::string& marker, std::optional<Issue>& found) = 0;
  virtual CallResult create(const IssueDraft& draft, Issue& created) = 0;
  virtual CallResult set_closed(const std::string& key, bool closed) = 0;
  virtual CallResult get(const std::string& key, Issue& issue) = 0;
};

// The client for settings.active(); nullptr for kNone.
std::unique_ptr<TrackerClient> make_client(const Settings& settings);

// Whether Jira is spoken as Cloud (v3) for these settings.
bool jira_cloud(const Settings& settings);

// The key the tracker's issue gets in Scribe, for a project-scoped number: "acme/web#34".
std::string scoped_key(const std::string& project, long long number);

}  // namespace scribe::trackers
