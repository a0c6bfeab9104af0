#include "publish/destinations.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "publish/google.h"
#include "publish/notion.h"
#include "util/json_fields.h"
#include "util/percent.h"
#include "util/secret.h"

namespace scribe::publish {
namespace {

using nlohmann::json;

CallResult unexpected(std::string_view what) {
  return {CallResult::Outcome::kRetry, fmt::format("unexpected answer: {}", what), std::nullopt};
}

// --- Confluence Cloud, REST v2 ------------------------------------------------------------

class Confluence final : public Destination {
 public:
  explicit Confluence(const Settings& s)
      : site_(trim_slash(s.confluence_url)),
        space_key_(s.confluence_space),
        parent_(s.confluence_parent),
        rest_({"Authorization: Basic " +
               base64_encode(s.confluence_user + ":" + s.confluence_token)}) {}

  std::string name() const override { return kConfluence; }
  std::string display() const override { return "Confluence"; }

  CallResult write(const Page& page, const std::optional<Publication>& previous,
                   Written& out) override {
    CallResult r = resolve_space();
    if (!r.ok()) return r;
    std::string id = previous ? previous->remote_id : std::string();
    if (id.empty()) {
      // Titles are unique in a space: a page of ours made before a crash is found by it.
      json found;
      r = rest_.call("GET",
                     fmt::format("{}/wiki/api/v2/pages?space-id={}&title={}", site_,
                                 percent_encode(space_id_), percent_encode(page.title)),
                     nullptr, found);
      if (!r.ok()) return r;
      const auto results = found.find("results");
      if (results != found.end() && results->is_array() && !results->empty()) {
        id = string_at((*results)[0], "id");
      }
    }
    json body = {{"status", "current"},
                 {"title", page.title},
                 {"body", {{"representation", "storage"}, {"value", page.html}}}};
    json answer;
    if (id.empty()) {
      body["spaceId"] = space_id_;
      if (!parent_.empty()) body["parentId"] = parent_;
      r = rest_.call("POST", site_ + "/wiki/api/v2/pages", &body, answer);
    } else {
      // The version to write after is the page's own: someone may have edited it there.
      json current;
      r = rest_.call("GET", fmt::format("{}/wiki/api/v2/pages/{}", site_, percent_encode(id)),
                     nullptr, current);
      if (!r.ok()) return r;
      const json* version = current.contains("version") ? &current["version"] : nullptr;
      if (!version || !version->contains("number") || !(*version)["number"].is_number_integer()) {
        return unexpected("a page without version.number");
      }
      body["id"] = id;
      body["version"] = {{"number", (*version)["number"].get<std::int64_t>() + 1},
                         {"message", "Updated by Scribe"}};
      r = rest_.call("PUT", fmt::format("{}/wiki/api/v2/pages/{}", site_, percent_encode(id)),
                     &body, answer);
    }
    if (!r.ok()) return r;
    out.remote_id = string_at(answer, "id");
    if (out.remote_id.empty()) return unexpected("a page without id");
    const auto version = answer.find("version");
    if (version == answer.end() || !version->contains("number")) {
      return unexpected("a page without version.number");
    }
    out.version = (*version)["number"].get<std::int64_t>();
    std::string webui;
    if (const auto links = answer.find("_links"); links != answer.end())
      webui = string_at(*links, "webui");
    out.url = webui.empty()
                  ? fmt::format("{}/wiki/pages/viewpage.action?pageId={}", site_, out.remote_id)
                  : site_ + "/wiki" + webui;
    return r;
  }

 private:
  // The space's id (v2 addresses spaces by id; operators know the key).
  CallResult resolve_space() {
    if (!space_id_.empty()) return {};
    json answer;
    CallResult r = rest_.call(
        "GET", fmt::format("{}/wiki/api/v2/spaces?keys={}", site_, percent_encode(space_key_)),
        nullptr, answer);
    if (!r.ok()) return r;
    const auto results = answer.find("results");
    if (results == answer.end() || !results->is_array() || results->empty()) {
      return {CallResult::Outcome::kPermanent,
              fmt::format("no Confluence space with the key {}", space_key_), std::nullopt};
    }
    const json& id = (*results)[0]["id"];
    space_id_ = id.is_string()           ? id.get<std::string>()
                : id.is_number_integer() ? std::to_string(id.get<std::int64_t>())
                                         : std::string();
    if (space_id_.empty()) return unexpected("a space without id");
    return {};
  }

  std::string site_, space_key_, parent_;
  std::string space_id_;
  JsonRest rest_;
};

// --- GitHub contents API ------------------------------------------------------------------

class GitHubContents final : public Destination {
 public:
  explicit GitHubContents(const Settings& s)
      : base_(trim_slash(s.github_api_url) + "/repos/" + s.github_repo + "/contents/"),
        branch_(s.git_branch),
        directory_(s.git_directory),
        rest_({"Authorization: Bearer " + s.github_token, "X-GitHub-Api-Version: 2022-11-28",
               "Accept: application/vnd.github+json"}) {}

  std::string name() const override { return kGit; }
  std::string display() const override { return "GitHub"; }

  CallResult write(const Page& page, const std::optional<Publication>& previous,
                   Written& out) override {
    // The file stays where it was first written, whatever the title becomes.
    const std::string path = previous             ? previous->remote_id
                             : directory_.empty() ? page.file_name
                                                  : directory_ + "/" + page.file_name;
    const std::string url = base_ + encode_path(path);
    // The file's current blob, if any: an update must name it (and a file written before a
    // crash is found here rather than written as new).
    json current;
    CallResult r = rest_.call(
        "GET", branch_.empty() ? url : url + "?ref=" + percent_encode(branch_), nullptr, current);
    std::string sha;
    if (r.ok()) {
      sha = string_at(current, "sha");
    } else if (rest_.last_status() != 404) {
      return r;
    }
    json body = {{"message", fmt::format("{} ({})", page.title, sha.empty() ? "new" : "update")},
                 {"content", base64_encode(page.markdown)}};
    if (!sha.empty()) body["sha"] = sha;
    if (!branch_.empty()) body["branch"] = branch_;
    json answer;
    r = rest_.call("PUT", url, &body, answer);
    if (!r.ok()) return r;
    const auto content = answer.find("content");
    if (content == answer.end() || !content->is_object()) return unexpected("no content");
    out.remote_id = path;
    out.url = string_at(*content, "html_url");
    out.version = (previous ? previous->version : 0) + 1;
    return r;
  }

 private:
  std::string base_, branch_, directory_;
  JsonRest rest_;
};

// --- GitLab repository files API ----------------------------------------------------------

class GitLabFiles final : public Destination {
 public:
  explicit GitLabFiles(const Settings& s)
      : project_(trim_slash(s.gitlab_url) + "/api/v4/projects/" + percent_encode(s.gitlab_project)),
        branch_(s.git_branch),
        directory_(s.git_directory),
        rest_({"PRIVATE-TOKEN: " + s.gitlab_token}) {}

  std::string name() const override { return kGit; }
  std::string display() const override { return "GitLab"; }

  CallResult write(const Page& page, const std::optional<Publication>& previous,
                   Written& out) override {
    CallResult r = resolve_project();
    if (!r.ok()) return r;
    const std::string path = previous             ? previous->remote_id
                             : directory_.empty() ? page.file_name
                                                  : directory_ + "/" + page.file_name;
    // The whole path is one parameter here: its slashes are encoded too.
    const std::string url = project_ + "/repository/files/" + percent_encode(path);
    json current;
    r = rest_.call("GET", url + "?ref=" + percent_encode(branch_), nullptr, current);
    bool exists = false;
    if (r.ok()) {
      exists = true;
    } else if (rest_.last_status() != 404) {
      return r;
    }
    out.remote_id = path;
    out.url = web_url_ + "/-/blob/" + encode_path(branch_) + "/" + encode_path(path);
    out.version = (previous ? previous->version : 0) + 1;
    // The file already says this (written before a crash lost our record): GitLab refuses
    // an update that changes nothing, and there is nothing to do.
    if (exists && string_at(current, "content_sha256") == sha256_hex(page.markdown)) return r;
    json body = {{"branch", branch_},
                 {"encoding", "base64"},
                 {"content", base64_encode(page.markdown)},
                 {"commit_message", fmt::format("{} ({})", page.title, exists ? "update" : "new")}};
    json answer;
    r = rest_.call(exists ? "PUT" : "POST", url, &body, answer);
    if (!r.ok()) return r;
    if (string_at(answer, "file_path") != path) return unexpected("no file_path");
    return r;
  }

 private:
  // The project's address for people, and its default branch when none is configured.
  CallResult resolve_project() {
    if (!web_url_.empty()) return {};
    json answer;
    CallResult r = rest_.call("GET", project_, nullptr, answer);
    if (!r.ok()) return r;
    const std::string web = trim_slash(string_at(answer, "web_url"));
    if (web.empty()) return unexpected("a project without web_url");
    if (branch_.empty()) branch_ = string_at(answer, "default_branch");
    if (branch_.empty()) {
      return {CallResult::Outcome::kPermanent,
              "the GitLab project has no default branch (an empty repository?): set git.branch",
              std::nullopt};
    }
    web_url_ = web;
    return r;
  }

  std::string project_, branch_, directory_;
  std::string web_url_;
  JsonRest rest_;
};

// --- Confluence Data Center, REST /rest/api/content ----------------------------------------

class ConfluenceDataCenter final : public Destination {
 public:
  explicit ConfluenceDataCenter(const Settings& s)
      : base_(trim_slash(s.confluence_url)),
        space_key_(s.confluence_space),
        parent_(s.confluence_parent),
        rest_({s.confluence_user.empty()
                   ? "Authorization: Bearer " + s.confluence_token
                   : "Authorization: Basic " +
                         base64_encode(s.confluence_user + ":" + s.confluence_token)}) {}

  std::string name() const override { return kConfluence; }
  std::string display() const override { return "Confluence"; }

  CallResult write(const Page& page, const std::optional<Publication>& previous,
                   Written& out) override {
    std::string id = previous ? previous->remote_id : std::string();
    std::int64_t version = 0;
    if (id.empty()) {
      // Titles are unique in a space: a page of ours made before a crash is found by it.
      json found;
      CallResult r = rest_.call(
          "GET",
          fmt::format("{}/rest/api/content?type=page&spaceKey={}&title={}&expand=version", base_,
                      percent_encode(space_key_), percent_encode(page.title)),
          nullptr, found);
      if (!r.ok()) return r;
      const json* results = field_at(found, "results");
      if (results && results->is_array() && !results->empty()) {
        id = string_at((*results)[0], "id");
        version = version_of((*results)[0]);
        if (id.empty() || version <= 0) return unexpected("a page without id or version");
      }
    } else {
      // The version to write after is the page's own: someone may have edited it there.
      json current;
      CallResult r = rest_.call(
          "GET", fmt::format("{}/rest/api/content/{}?expand=version", base_, percent_encode(id)),
          nullptr, current);
      if (!r.ok()) return r;
      version = version_of(current);
      if (version <= 0) return unexpected("a page without version.number");
    }
    // An update keeps the page where it is (no ancestors: moving it is for people).
    const json body = datacenter_page_body(page, space_key_, id.empty() ? parent_ : "",
                                           id.empty() ? 0 : version + 1);
    json answer;
    const CallResult r =
        id.empty()
            ? rest_.call("POST", base_ + "/rest/api/content", &body, answer)
            : rest_.call("PUT", fmt::format("{}/rest/api/content/{}", base_, percent_encode(id)),
                         &body, answer);
    if (!r.ok()) return r;
    out.remote_id = string_at(answer, "id");
    out.version = version_of(answer);
    if (out.remote_id.empty() || out.version <= 0)
      return unexpected("a page without id or version");
    const json* links = object_at(answer, "_links");
    const std::string webui = links ? string_at(*links, "webui") : std::string();
    const std::string site =
        links && !string_at(*links, "base").empty() ? trim_slash(string_at(*links, "base")) : base_;
    out.url = webui.empty() ? fmt::format("{}/pages/viewpage.action?pageId={}", site, out.remote_id)
                            : site + webui;
    return r;
  }

 private:
  static std::int64_t version_of(const json& content) {
    const json* v = object_at(content, "version");
    const json* n = v ? field_at(*v, "number") : nullptr;
    return n && n->is_number_integer() ? n->get<std::int64_t>() : 0;
  }

  std::string base_, space_key_, parent_;
  JsonRest rest_;
};
}  // namespace

std::vector<std::unique_ptr<Destination>> make_destinations(const Settings& settings) {
  std::vector<std::unique_ptr<Destination>> out;
  if (settings.confluence()) {
    if (settings.confluence_cloud()) {
      out.push_back(std::make_unique<Confluence>(settings));
    } else {
      out.push_back(std::make_unique<ConfluenceDataCenter>(settings));
    }
  }
  if (settings.notion()) out.push_back(make_notion(settings));
  if (settings.gdocs()) out.push_back(make_google_docs(settings));
  if (settings.git()) {
    if (settings.git_gitlab()) {
      out.push_back(std::make_unique<GitLabFiles>(settings));
    } else {
      out.push_back(std::make_unique<GitHubContents>(settings));
    }
  }
  return out;
}

bool Settings::confluence_cloud() const {
  if (confluence_api == "cloud") return true;
  if (confluence_api == "datacenter") return false;
  std::string_view host(confluence_url);
  if (const auto scheme = host.find("://"); scheme != std::string_view::npos) {
    host.remove_prefix(scheme + 3);
  }
  host = host.substr(0, host.find_first_of(":/"));
  return host.ends_with(".atlassian.net");
}

json datacenter_page_body(const Page& page, const std::string& space_key, const std::string& parent,
                          std::int64_t version) {
  json body = {{"type", "page"},
               {"title", page.title},
               {"space", {{"key", space_key}}},
               {"body", {{"storage", {{"value", page.html}, {"representation", "storage"}}}}}};
  if (!parent.empty()) body["ancestors"] = json::array({{{"id", parent}}});
  if (version > 0) body["version"] = {{"number", version}, {"message", "Updated by Scribe"}};
  return body;
}

std::string encode_path(std::string_view path) {
  std::string out;
  for (std::size_t at = 0; at <= path.size();) {
    const auto slash = std::min(path.find('/', at), path.size());
    out += percent_encode(path.substr(at, slash - at));
    if (slash < path.size()) out += '/';
    at = slash + 1;
  }
  return out;
}

std::string slug(std::string_view title) {
  std::string out;
  bool dash = false;
  for (const char c : title) {
    const char l = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9')) {
      if (dash && !out.empty()) out.push_back('-');
      dash = false;
      out.push_back(l);
      if (out.size() >= 60) break;
    } else {
      dash = true;
    }
  }
  return out.empty() ? "incident" : out;
}

}  // namespace scribe::publish
