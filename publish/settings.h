// What the operator configured for publishing postmortems: Confluence ([confluence],
// SCRIBE_CONFLUENCE_*) and a git repository through GitHub's contents API ([github] /
// SCRIBE_GITHUB_*, shared with the issue tracker, and [git]), and which of them are
// published automatically ([publish] automatic). Plain values, filled by bot/config.
#pragma once

#include <string>
#include <vector>

namespace scribe::publish {

inline constexpr char kConfluence[] = "confluence";
inline constexpr char kGit[] = "git";

struct Settings {
  // Confluence Cloud (REST v2): the site ("https://acme.atlassian.net"), the account's
  // e-mail and an API token (Basic), the space key, and optionally the parent page's id.
  std::string confluence_url, confluence_user, confluence_token, confluence_space,
      confluence_parent;
  // GitHub: the API base, a token that may write contents, "owner/name", the branch
  // (empty: the repository's default) and the folder the files go in.
  std::string github_api_url = "https://api.github.com";
  std::string github_token, github_repo;
  std::string git_branch;
  std::string git_directory = "postmortems";
  // Destinations published at resolution and on every later change until final.
  std::vector<std::string> automatic;

  bool confluence() const {
    return !confluence_url.empty() && !confluence_token.empty() && !confluence_space.empty();
  }
  bool git() const { return !github_token.empty() && !github_repo.empty(); }
  // The configured destinations' names, in a fixed order.
  std::vector<std::string> destinations() const {
    std::vector<std::string> out;
    if (confluence()) out.emplace_back(kConfluence);
    if (git()) out.emplace_back(kGit);
    return out;
  }
};

}  // namespace scribe::publish
