#include "publish/destinations.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/json_fields.h"
#include "util/percent.h"

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
    std::string url = base_;
    for (std::size_t at = 0; at <= path.size();) {  // each segment encoded, '/' kept
      const auto slash = std::min(path.find('/', at), path.size());
      url += percent_encode(std::string_view(path).substr(at, slash - at));
      if (slash < path.size()) url += '/';
      at = slash + 1;
    }
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

}  // namespace

std::vector<std::unique_ptr<Destination>> make_destinations(const Settings& settings) {
  std::vector<std::unique_ptr<Destination>> out;
  if (settings.confluence()) out.push_back(std::make_unique<Confluence>(settings));
  if (settings.git()) out.push_back(std::make_unique<GitHubContents>(settings));
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
