// What the operator configured for issue tracking: one tracker (Jira, GitHub or GitLab),
// how to reach it, the webhook secrets, and the map from chat users to tracker users.
// Plain values, filled by bot/config and read by the tracker extension.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace scribe::trackers {

enum class Kind { kNone, kJira, kGitHub, kGitLab };

struct Settings {
  // Jira (SCRIBE_JIRA_*). `jira_api`: "cloud" (REST v3, descriptions in Atlassian Document
  // Format, assignees by accountId), "datacenter" (REST v2, plain-text descriptions,
  // assignees by user name) or "auto": Cloud when the host ends in .atlassian.net.
  std::string jira_url, jira_user, jira_token, jira_project, jira_webhook_secret;
  std::string jira_api = "auto";
  std::string jira_issue_type = "Task";
  // GitHub (SCRIBE_GITHUB_*): `github_repo` is "owner/name".
  std::string github_api_url = "https://api.github.com";
  std::string github_token, github_repo, github_webhook_secret;
  // GitLab (SCRIBE_GITLAB_*): `gitlab_project` is a numeric id or "group/project".
  std::string gitlab_url = "https://gitlab.com";
  std::string gitlab_token, gitlab_project, gitlab_webhook_token;

  bool auto_track = false;  // an issue for every new action item
  // The link back to the postmortem in each issue; "{id}" becomes the incident's number.
  // Empty: the issue names the incident and `scribe draft INC-n`.
  std::string postmortem_url;
  // How often open tracked items are checked against their issues (a webhook missed);
  // 0: never.
  std::chrono::minutes refresh_interval{30};
  // Chat user (platform id "U0ALICE" or "@name") → tracker user (Jira accountId or user
  // name, GitHub login, GitLab numeric user id). An owner not in it is named in the body.
  std::map<std::string, std::string> users;

  // The tracker whose credentials and project are set.
  Kind active() const;
  // How many are; more than one is a configuration error.
  int configured_count() const;
};

// "Jira", "GitHub", "GitLab"; "" for kNone.
std::string display_name(Kind kind);

}  // namespace scribe::trackers
