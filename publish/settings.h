// What the operator configured for publishing postmortems: Confluence ([confluence],
// SCRIBE_CONFLUENCE_*; Cloud REST v2 or Data Center REST), a git repository through
// GitHub's contents API ([github] / SCRIBE_GITHUB_*) or GitLab's repository files API
// ([gitlab] / SCRIBE_GITLAB_*), both shared with the issue tracker, and [git]; Notion
// ([notion], SCRIBE_NOTION_*), Google Docs ([google], SCRIBE_GOOGLE_*); and which of them
// are published automatically ([publish] automatic). Plain values, filled by bot/config.
#pragma once

#include <string>
#include <vector>

namespace scribe::publish {

inline constexpr char kConfluence[] = "confluence";
inline constexpr char kGit[] = "git";
inline constexpr char kNotion[] = "notion";
inline constexpr char kGoogleDocs[] = "gdocs";

// A Google service account's key, as read from the JSON key file Google hands out.
struct ServiceAccount {
  std::string client_email;
  std::string private_key;  // PEM (PKCS #8)
  std::string token_uri;    // "https://oauth2.googleapis.com/token"
};

struct Settings {
  // Confluence: the site ("https://acme.atlassian.net", or a Data Center base URL with its
  // context path), the account (Cloud: e-mail and API token, Basic; Data Center: a personal
  // access token as bearer when no user is set), the space key, and optionally the parent
  // page's id. `confluence_api`: "cloud" (REST v2), "datacenter" (REST /rest/api/content)
  // or "auto": Cloud when the host ends in .atlassian.net.
  std::string confluence_url, confluence_user, confluence_token, confluence_space,
      confluence_parent;
  std::string confluence_api = "auto";
  // `git_provider`: "github", "gitlab", or "auto": whichever of the two has a token and a
  // repository (GitHub first).
  std::string git_provider = "auto";
  // GitHub: the API base, a token that may write contents, "owner/name".
  std::string github_api_url = "https://api.github.com";
  std::string github_token, github_repo;
  // GitLab: the instance, a token with api scope, the project (numeric id or "group/name").
  std::string gitlab_url = "https://gitlab.com";
  std::string gitlab_token, gitlab_project;
  // The branch (empty: the repository's default) and the folder the files go in.
  std::string git_branch;
  std::string git_directory = "postmortems";
  // Notion: the API base, an internal integration's secret, and the id of the page the
  // postmortems go under (shared with the integration).
  std::string notion_api_url = "https://api.notion.com";
  std::string notion_token, notion_parent;
  // Google Docs: the key file's path (read while the configuration loads, into
  // `google_account`), the Drive folder's id, the API base and the token endpoint (empty:
  // the key file's token_uri).
  std::string google_credentials, google_folder;
  std::string google_api_url = "https://www.googleapis.com";
  std::string google_token_url;
  ServiceAccount google_account;
  // Destinations published at resolution and on every later change until final.
  std::vector<std::string> automatic;

  bool confluence() const {
    return !confluence_url.empty() && !confluence_token.empty() && !confluence_space.empty();
  }
  // Whether Confluence is Cloud (REST v2) rather than Data Center.
  bool confluence_cloud() const;
  bool github() const { return !github_token.empty() && !github_repo.empty(); }
  bool gitlab() const { return !gitlab_token.empty() && !gitlab_project.empty(); }
  // The git destination writes through GitLab (else GitHub).
  bool git_gitlab() const {
    return git_provider == "gitlab" || (git_provider == "auto" && !github() && gitlab());
  }
  bool git() const { return git_gitlab() ? gitlab() : github(); }
  bool notion() const { return !notion_token.empty() && !notion_parent.empty(); }
  bool gdocs() const { return !google_account.private_key.empty() && !google_folder.empty(); }
  // The configured destinations' names, in a fixed order.
  std::vector<std::string> destinations() const {
    std::vector<std::string> out;
    if (confluence()) out.emplace_back(kConfluence);
    if (notion()) out.emplace_back(kNotion);
    if (gdocs()) out.emplace_back(kGoogleDocs);
    if (git()) out.emplace_back(kGit);
    return out;
  }
};

}  // namespace scribe::publish
