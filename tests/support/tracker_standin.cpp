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
#include <openssl/pem.h>
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

std::string unbase64(std::string_view encoded, bool url_safe = false) {
  std::string in(encoded);
  if (url_safe) {
    for (char& c : in) {
      if (c == '-') c = '+';
      if (c == '_') c = '/';
    }
    while (in.size() % 4 != 0) in.push_back('=');
  }
  std::string out(3 * in.size() / 4 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return "\x01invalid";
  out.resize(static_cast<std::size_t>(n));
  for (std::size_t pad = in.size(); pad > 0 && in[pad - 1] == '='; --pad) out.pop_back();
  return out;
}

std::string sha256_hex_of(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), digest, &n, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned i = 0; i < n; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

// UTF-16 code units of a UTF-8 text, as Notion counts its 2,000-character limit.
std::size_t utf16_units(const std::string& s) {
  std::size_t units = 0;
  for (const unsigned char c : s) {
    if ((c & 0xC0) != 0x80) units += 1;  // a character starts
    if (c >= 0xF0) units += 1;           // beyond the BMP: two units
  }
  return units;
}

std::string without_dashes(std::string id) {
  id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
  return id;
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
    std::string path_part;
  } scripted;
  std::vector<StandInIssue> issues;
  std::vector<TrackerCall> calls;
  int next_number = 1;
  std::vector<StandInPage> pages;
  std::vector<StandInFile> files;
  int next_page = 65537;
  // Notion: every block (pages too) by id without dashes.
  struct NotionBlock {
    std::string id, parent, type;
    json content;  // the type's object, without children
    bool archived = false;
    std::vector<std::string> children;
  };
  std::map<std::string, NotionBlock> notion;
  std::vector<std::string> notion_pages;  // in creation order
  int next_notion = 1;
  // Google.
  std::string google_email, google_public_pem;
  std::set<std::string> google_tokens;
  int google_issued = 0;
  std::vector<StandInGoogleDoc> gdocs;
  int next_doc = 1;

  explicit Impl(TrackerStandIn& o) : owner(o) {
    NotionBlock parent;
    parent.id = kNotionParent;
    parent.type = "page";
    parent.content = {{"title", "Postmortems"}};
    notion[without_dashes(parent.id)] = parent;
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

  static json page_json(const StandInPage& p) {
    return {{"id", p.id},
            {"status", "current"},
            {"title", p.title},
            {"spaceId", "98304"},
            {"parentId", p.parent},
            {"version", {{"number", p.version}}},
            {"_links", {{"webui", "/spaces/OPS/pages/" + p.id}}}};
  }

  // Under mu.
  Answer confluence(const TrackerCall& c, const std::string& path, const json& body,
                    bool& created) {
    if (c.method == "GET" && path == "/wiki/api/v2/spaces") {
      if (query_param(c.target, "keys") != "OPS")
        return {200, json{{"results", json::array()}}, {}};
      return {200, json{{"results", {{{"id", "98304"}, {"key", "OPS"}}}}}, {}};
    }
    if (path == "/wiki/api/v2/pages" && c.method == "GET") {
      json results = json::array();
      for (const auto& p : pages) {
        if (query_param(c.target, "space-id") == "98304" &&
            p.title == query_param(c.target, "title")) {
          results.push_back(page_json(p));
        }
      }
      return {200, json{{"results", results}}, {}};
    }
    const auto storage_ok = [](const json& b) {
      return b.is_object() && b.contains("body") && b["body"].is_object() &&
             b["body"].value("representation", "") == "storage" && b["body"].contains("value") &&
             b["body"]["value"].is_string() && !b["body"]["value"].get<std::string>().empty() &&
             b.contains("title") && b["title"].is_string() &&
             !b["title"].get<std::string>().empty();
    };
    if (path == "/wiki/api/v2/pages" && c.method == "POST") {
      if (!storage_ok(body) || body.value("spaceId", "") != "98304") {
        return {400, json{{"message", "invalid page"}}, {}};
      }
      for (const auto& p : pages) {
        if (p.title == body["title"]) {
          return {400, json{{"message", "A page with this title already exists"}}, {}};
        }
      }
      StandInPage p;
      p.id = std::to_string(next_page++);
      p.title = body["title"];
      p.body = body["body"]["value"];
      p.parent = body.value("parentId", "");
      p.version = 1;
      pages.push_back(p);
      created = true;
      return {200, page_json(p), {}};
    }
    static const std::regex kPage(R"(^/wiki/api/v2/pages/(\d+)$)");
    std::smatch m;
    if (std::regex_match(path, m, kPage)) {
      StandInPage* page = nullptr;
      for (auto& p : pages) {
        if (p.id == m[1].str()) page = &p;
      }
      if (!page) return {404, json{{"message", "no such page"}}, {}};
      if (c.method == "GET") return {200, page_json(*page), {}};
      if (c.method == "PUT") {
        if (!storage_ok(body) || !body.contains("version") || !body["version"].contains("number")) {
          return {400, json{{"message", "invalid page"}}, {}};
        }
        if (body["version"]["number"] != page->version + 1) {
          return {409, json{{"message", "Version must be incremented on update"}}, {}};
        }
        page->title = body["title"];
        page->body = body["body"]["value"];
        page->version += 1;
        return {200, page_json(*page), {}};
      }
    }
    return {404, json{{"message", "no such route"}}, {}};
  }

  // Under mu.
  Answer contents(const TrackerCall& c, const std::string& path, const json& body, bool& created) {
    StandInFile* file = nullptr;
    for (auto& f : files) {
      if (f.path == path) file = &f;
    }
    const std::string html = "https://github.com/acme/postmortems/blob/main/" + path;
    if (c.method == "GET") {
      if (!file) return {404, json{{"message", "Not Found"}}, {}};
      return {200, json{{"path", path}, {"sha", file->sha}, {"html_url", html}}, {}};
    }
    if (c.method != "PUT") return {404, json{{"message", "Not Found"}}, {}};
    if (!body.is_object() || !body.contains("content") || !body["content"].is_string() ||
        !body.contains("message")) {
      return {422, json{{"message", "Invalid request"}}, {}};
    }
    const std::string given_sha = body.value("sha", "");
    if (file && given_sha != file->sha) {
      return {409, json{{"message", path + " does not match " + given_sha}}, {}};
    }
    if (!file && !given_sha.empty()) return {422, json{{"message", "sha wasn't supplied"}}, {}};
    const std::string encoded = body["content"];
    std::string decoded(3 * encoded.size() / 4 + 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                  reinterpret_cast<const unsigned char*>(encoded.data()),
                                  static_cast<int>(encoded.size()));
    if (n < 0) return {422, json{{"message", "content is not valid Base64"}}, {}};
    decoded.resize(static_cast<std::size_t>(n));
    for (std::size_t pad = encoded.size(); pad > 0 && encoded[pad - 1] == '='; --pad) {
      decoded.pop_back();
    }
    const bool is_new = file == nullptr;
    if (is_new) {
      files.push_back(StandInFile{path, "", "", 0});
      file = &files.back();
      created = true;
    }
    file->content = decoded;
    file->sha = fmt::format("{:040x}", std::hash<std::string>{}(decoded) + file->commits);
    file->commits += 1;
    return {is_new ? 201u : 200u,
            json{{"content", {{"path", path}, {"sha", file->sha}, {"html_url", html}}},
                 {"commit", {{"sha", fmt::format("{:040x}", file->commits)}}}},
            {}};
  }

  // Under mu. GitLab: the project itself, or one of its repository files.
  Answer gitlab_files(const TrackerCall& c, const std::string& project, const std::string& path,
                      const json& body, bool& created) {
    const std::string web = "https://gitlab.example/" + project;
    if (path.empty()) {
      if (c.method != "GET") return {405, json{{"message", "405 Method Not Allowed"}}, {}};
      return {200,
              json{{"id", 42},
                   {"path_with_namespace", project},
                   {"default_branch", "main"},
                   {"web_url", web}},
              {}};
    }
    StandInFile* file = nullptr;
    for (auto& f : files) {
      if (f.path == path) file = &f;
    }
    if (c.method == "GET") {
      if (query_param(c.target, "ref") != "main") {
        return {404, json{{"message", "404 Commit Not Found"}}, {}};
      }
      if (!file) return {404, json{{"message", "404 File Not Found"}}, {}};
      return {200,
              json{{"file_name", path.substr(path.rfind('/') + 1)},
                   {"file_path", path},
                   {"size", file->content.size()},
                   {"encoding", "base64"},
                   {"content", base64(file->content)},
                   {"content_sha256", sha256_hex_of(file->content)},
                   {"ref", "main"},
                   {"blob_id", file->sha},
                   {"last_commit_id", fmt::format("{:040x}", file->commits)}},
              {}};
    }
    if (c.method != "POST" && c.method != "PUT") {
      return {405, json{{"message", "405 Method Not Allowed"}}, {}};
    }
    for (const char* field : {"branch", "content", "commit_message"}) {
      if (!body.is_object() || !body.contains(field) || !body[field].is_string()) {
        return {400, json{{"error", std::string(field) + " is missing"}}, {}};
      }
    }
    if (body["branch"] != "main") {
      return {
          400, json{{"message", "You can only create or edit files when you are on a branch"}}, {}};
    }
    std::string content = body["content"];
    if (body.value("encoding", "text") == "base64") {
      content = unbase64(content);
      if (content == "\x01invalid") return {400, json{{"message", "content is not base64"}}, {}};
    }
    if (c.method == "POST" && file) {
      return {400, json{{"message", "A file with this name already exists"}}, {}};
    }
    if (c.method == "PUT" && !file) {
      return {400, json{{"message", "A file with this name doesn't exist"}}, {}};
    }
    if (!file) {
      files.push_back(StandInFile{path, "", "", 0});
      file = &files.back();
      created = true;
    }
    file->content = content;
    file->commits += 1;
    file->sha = fmt::format("{:040x}", std::hash<std::string>{}(content) + file->commits);
    return {c.method == "POST" ? 201u : 200u, json{{"file_path", path}, {"branch", "main"}}, {}};
  }

  // Under mu. Confluence Data Center's content API.
  json dc_page_json(const StandInPage& p) const {
    return {{"id", p.id},
            {"type", "page"},
            {"status", "current"},
            {"title", p.title},
            {"space", {{"key", "OPS"}}},
            {"version", {{"number", p.version}}},
            {"ancestors", p.parent.empty() ? json::array() : json::array({{{"id", p.parent}}})},
            {"_links",
             {{"webui", "/pages/viewpage.action?pageId=" + p.id},
              {"base", owner.base_url() + "/confluence"},
              {"self", owner.base_url() + "/rest/api/content/" + p.id}}}};
  }

  Answer confluence_dc(const TrackerCall& c, const std::string& path, const json& body,
                       bool& created) {
    const auto storage_ok = [](const json& b) {
      return b.is_object() && b.value("type", "") == "page" && b.contains("body") &&
             b["body"].is_object() && b["body"].contains("storage") &&
             b["body"]["storage"].value("representation", "") == "storage" &&
             b["body"]["storage"].contains("value") && b["body"]["storage"]["value"].is_string() &&
             !b["body"]["storage"]["value"].get<std::string>().empty() && b.contains("title") &&
             b["title"].is_string() && !b["title"].get<std::string>().empty() &&
             b.contains("space") && b["space"].value("key", "") == "OPS";
    };
    if (path == "/rest/api/content" && c.method == "GET") {
      json results = json::array();
      for (const auto& p : pages) {
        if (query_param(c.target, "spaceKey") == "OPS" &&
            p.title == query_param(c.target, "title")) {
          results.push_back(dc_page_json(p));
        }
      }
      return {200,
              json{{"results", results},
                   {"size", results.size()},
                   {"_links", {{"base", owner.base_url() + "/confluence"}}}},
              {}};
    }
    if (path == "/rest/api/content" && c.method == "POST") {
      if (!storage_ok(body))
        return {400, json{{"statusCode", 400}, {"message", "invalid page"}}, {}};
      for (const auto& p : pages) {
        if (p.title == body["title"]) {
          return {400,
                  json{{"statusCode", 400},
                       {"message",
                        "A page with this title already exists: A page already exists "
                        "with the title " +
                            p.title + " in the space with key OPS"}},
                  {}};
        }
      }
      StandInPage p;
      p.id = std::to_string(next_page++);
      p.title = body["title"];
      p.body = body["body"]["storage"]["value"];
      if (body.contains("ancestors") && body["ancestors"].is_array() &&
          !body["ancestors"].empty()) {
        p.parent = body["ancestors"].back().value("id", "");
      }
      p.version = 1;
      pages.push_back(p);
      created = true;
      return {200, dc_page_json(p), {}};
    }
    static const std::regex kContent(R"(^/rest/api/content/(\d+)$)");
    std::smatch m;
    if (!std::regex_match(path, m, kContent)) {
      return {404, json{{"statusCode", 404}, {"message", "No content found"}}, {}};
    }
    StandInPage* page = nullptr;
    for (auto& p : pages) {
      if (p.id == m[1].str()) page = &p;
    }
    if (!page) return {404, json{{"statusCode", 404}, {"message", "No content found"}}, {}};
    if (c.method == "GET") return {200, dc_page_json(*page), {}};
    if (c.method != "PUT") return {405, json{{"statusCode", 405}}, {}};
    if (!storage_ok(body) || !body.contains("version") || !body["version"].contains("number")) {
      return {400, json{{"statusCode", 400}, {"message", "invalid page"}}, {}};
    }
    if (body["version"]["number"] != page->version + 1) {
      return {409,
              json{{"statusCode", 409},
                   {"message", fmt::format("Version must be incremented on update. Current "
                                           "version is: {}",
                                           page->version)}},
              {}};
    }
    page->title = body["title"];
    page->body = body["body"]["storage"]["value"];
    page->version += 1;
    return {200, dc_page_json(*page), {}};
  }

  // --- Notion ---
  static json notion_error(unsigned status, const std::string& code, const std::string& message) {
    return {{"object", "error"}, {"status", status}, {"code", code}, {"message", message}};
  }
  static std::string plain(const json& rich) {
    std::string out;
    if (!rich.is_array()) return out;
    for (const json& t : rich) {
      if (t.contains("text") && t["text"].contains("content"))
        out += t["text"]["content"].get<std::string>();
    }
    return out;
  }
  static bool rich_ok(const json& rich, std::string& why) {
    if (!rich.is_array()) return (why = "rich_text should be an array", false);
    if (rich.size() > 100) return (why = "rich_text length should be ≤ 100", false);
    for (const json& t : rich) {
      if (!t.is_object() || t.value("type", "text") != "text" || !t.contains("text") ||
          !t["text"].contains("content") || !t["text"]["content"].is_string()) {
        return (why = "rich text item should be text with content", false);
      }
      if (utf16_units(t["text"]["content"]) > 2000) {
        return (why = "text.content.length should be ≤ 2000", false);
      }
      if (t["text"].contains("link") && !t["text"]["link"].is_null()) {
        const std::string url = t["text"]["link"].value("url", "");
        if (!url.starts_with("http")) return (why = "Invalid URL for link.", false);
      }
    }
    return true;
  }
  // Checks blocks to be appended under a parent of `parent_type` at nesting `depth` (1 =
  // top level of the request) and counts them into `elements`.
  static bool blocks_ok(const json& children, const std::string& parent_type, int depth,
                        std::size_t& elements, std::size_t table_width, std::string& why) {
    if (!children.is_array()) return (why = "children should be an array", false);
    if (children.size() > 100) return (why = "body.children.length should be ≤ 100", false);
    if (depth > 2)
      return (why = "Blocks can be nested at most two levels deep in a request", false);
    for (const json& b : children) {
      ++elements;
      const std::string type = b.is_object() ? b.value("type", "") : "";
      if (type.empty() || !b.contains(type) || !b[type].is_object()) {
        return (why = "body.children should be block objects", false);
      }
      const json& content = b[type];
      if ((parent_type == "table") != (type == "table_row")) {
        return (why = "a table holds table_row blocks and only a table does", false);
      }
      if (type == "table_row") {
        if (!content.contains("cells") || !content["cells"].is_array() ||
            content["cells"].size() != table_width) {
          return (why = "Number of cells in table row must match the table width", false);
        }
        for (const json& cell : content["cells"]) {
          if (!rich_ok(cell, why)) return false;
        }
        continue;
      }
      if (type == "table") {
        const json* width = content.contains("table_width") ? &content["table_width"] : nullptr;
        if (!width || !width->is_number_unsigned() || width->get<std::size_t>() == 0 ||
            !content.contains("children")) {
          return (why = "a table needs table_width and its rows", false);
        }
        if (!blocks_ok(content["children"], "table", depth + 1, elements, width->get<std::size_t>(),
                       why)) {
          return false;
        }
        continue;
      }
      if (type == "divider") continue;
      static const std::set<std::string> kText = {
          "paragraph",          "heading_1",          "heading_2", "heading_3",
          "bulleted_list_item", "numbered_list_item", "quote",     "code"};
      if (!kText.count(type)) return (why = "unsupported block type " + type, false);
      if (!content.contains("rich_text") || !rich_ok(content["rich_text"], why)) return false;
      if (type == "code" && !content.contains("language"))
        return (why = "code needs language", false);
      if (content.contains("children") &&
          !blocks_ok(content["children"], type, depth + 1, elements, 0, why)) {
        return false;
      }
    }
    return true;
  }
  std::string new_notion_id() {
    const int n = next_notion++;
    return fmt::format("{:08x}-1111-4222-8333-{:012x}", 0xa0000000u + n, n);
  }
  json notion_block_json(const NotionBlock& b) const {
    json content = b.content;
    json out = {{"object", "block"},
                {"id", b.id},
                {"type", b.type},
                {"has_children", !b.children.empty()},
                {"archived", b.archived},
                {"in_trash", b.archived},
                {"parent", {{"type", "block_id"}, {"block_id", b.parent}}}};
    if (b.type == "page") {
      out["type"] = "child_page";
      out["child_page"] = {{"title", b.content.value("title", "")}};
    } else {
      out[b.type] = content;
    }
    return out;
  }
  json notion_page_json(const NotionBlock& b) const {
    return {{"object", "page"},
            {"id", b.id},
            {"url", "https://www.notion.so/" + without_dashes(b.id)},
            {"archived", b.archived},
            {"in_trash", b.archived},
            {"parent", {{"type", "page_id"}, {"page_id", b.parent}}},
            {"properties",
             {{"title",
               {{"id", "title"},
                {"type", "title"},
                {"title", json::array({{{"type", "text"},
                                        {"text", {{"content", b.content.value("title", "")}}},
                                        {"plain_text", b.content.value("title", "")}}})}}}}}};
  }
  // Stores `children` under `parent`; returns the first-level blocks made.
  json add_blocks(const std::string& parent, const json& children) {
    json made = json::array();
    for (const json& b : children) {
      NotionBlock nb;
      nb.id = new_notion_id();
      nb.parent = notion.at(without_dashes(parent)).id;
      nb.type = b["type"];
      nb.content = b[nb.type];
      json nested = nb.content.contains("children") ? nb.content["children"] : json::array();
      nb.content.erase("children");
      notion[without_dashes(nb.id)] = nb;
      notion.at(without_dashes(parent)).children.push_back(nb.id);
      if (!nested.empty()) add_blocks(nb.id, nested);
      made.push_back(notion_block_json(notion.at(without_dashes(nb.id))));
    }
    return made;
  }
  Answer notion_route(const TrackerCall& c, const std::string& path, const json& body,
                      bool& created) {
    if (c.body.size() > 500 * 1000) {
      return {413, notion_error(413, "payload_too_large", "Request body too large."), {}};
    }
    static const std::regex kPage(R"(^/v1/pages(?:/([0-9a-f-]+))?$)");
    static const std::regex kChildren(R"(^/v1/blocks/([0-9a-f-]+)/children$)");
    static const std::regex kBlock(R"(^/v1/blocks/([0-9a-f-]+)$)");
    std::smatch m;
    const auto title_of = [](const json& b, std::string& title) {
      const json* t = b.is_object() && b.contains("properties") && b["properties"].contains("title")
                          ? &b["properties"]["title"]
                          : nullptr;
      if (!t || !t->contains("title")) return false;
      std::string why;
      if (!rich_ok((*t)["title"], why)) return false;
      title = plain((*t)["title"]);
      return true;
    };
    if (std::regex_match(path, m, kPage)) {
      if (!m[1].matched && c.method == "POST") {
        std::string title;
        const std::string parent =
            body.is_object() && body.contains("parent") ? body["parent"].value("page_id", "") : "";
        if (!title_of(body, title)) {
          return {
              400, notion_error(400, "validation_error", "body.properties.title is invalid"), {}};
        }
        if (!notion.count(without_dashes(parent))) {
          return {404,
                  notion_error(404, "object_not_found",
                               "Could not find page with ID: " + parent +
                                   ". Make sure the relevant pages and databases are shared with "
                                   "your integration."),
                  {}};
        }
        std::size_t elements = 0;
        std::string why;
        if (body.contains("children") &&
            !blocks_ok(body["children"], "page", 1, elements, 0, why)) {
          return {400, notion_error(400, "validation_error", why), {}};
        }
        NotionBlock page;
        page.id = new_notion_id();
        page.parent = notion.at(without_dashes(parent)).id;
        page.type = "page";
        page.content = {{"title", title}};
        notion[without_dashes(page.id)] = page;
        notion.at(without_dashes(parent)).children.push_back(page.id);
        notion_pages.push_back(without_dashes(page.id));
        if (body.contains("children")) add_blocks(page.id, body["children"]);
        created = true;
        return {200, notion_page_json(notion.at(without_dashes(page.id))), {}};
      }
      auto it = m[1].matched ? notion.find(without_dashes(m[1].str())) : notion.end();
      if (it == notion.end() || it->second.type != "page") {
        return {404, notion_error(404, "object_not_found", "Could not find page."), {}};
      }
      if (c.method == "PATCH") {
        std::string title;
        if (body.contains("properties")) {
          if (!title_of(body, title)) {
            return {
                400, notion_error(400, "validation_error", "body.properties.title is invalid"), {}};
          }
          it->second.content["title"] = title;
        }
        if (body.contains("archived")) it->second.archived = body["archived"].get<bool>();
      }
      return {200, notion_page_json(it->second), {}};
    }
    if (std::regex_match(path, m, kChildren)) {
      auto it = notion.find(without_dashes(m[1].str()));
      if (it == notion.end()) {
        return {404, notion_error(404, "object_not_found", "Could not find block."), {}};
      }
      if (c.method == "GET") {
        const std::string size_text = query_param(c.target, "page_size");
        const std::size_t size = size_text.empty() ? 100 : std::stoul(size_text);
        if (size == 0 || size > 100) {
          return {400, notion_error(400, "validation_error", "page_size should be ≤ 100"), {}};
        }
        const std::string cursor = query_param(c.target, "start_cursor");
        json results = json::array();
        bool started = cursor.empty();
        std::string next;
        for (const std::string& child : it->second.children) {
          const NotionBlock& b = notion.at(without_dashes(child));
          if (b.archived) continue;
          if (!started && b.id == cursor) started = true;
          if (!started) continue;
          if (results.size() == size) {
            next = b.id;
            break;
          }
          results.push_back(notion_block_json(b));
        }
        return {200,
                json{{"object", "list"},
                     {"results", results},
                     {"next_cursor", next.empty() ? json(nullptr) : json(next)},
                     {"has_more", !next.empty()},
                     {"type", "block"},
                     {"block", json::object()}},
                {}};
      }
      if (c.method != "PATCH") return {405, notion_error(405, "invalid_request", "method"), {}};
      std::size_t elements = 0;
      std::string why;
      const std::size_t width =
          it->second.type == "table" ? it->second.content.value("table_width", 0u) : 0;
      const std::string parent_type = it->second.type;
      if (!body.is_object() || !body.contains("children") ||
          !blocks_ok(body["children"], parent_type, 1, elements, width, why)) {
        return {
            400, notion_error(400, "validation_error", why.empty() ? "body.children" : why), {}};
      }
      if (elements > 1000) {
        return {400, notion_error(400, "validation_error", "at most 1000 block elements"), {}};
      }
      if (it->second.archived) {
        return {
            400, notion_error(400, "validation_error", "Can't edit block that is archived."), {}};
      }
      json made = add_blocks(it->second.id, body["children"]);
      return {
          200,
          json{
              {"object", "list"}, {"results", made}, {"next_cursor", nullptr}, {"has_more", false}},
          {}};
    }
    if (std::regex_match(path, m, kBlock) && c.method == "DELETE") {
      auto it = notion.find(without_dashes(m[1].str()));
      if (it == notion.end()) {
        return {404, notion_error(404, "object_not_found", "Could not find block."), {}};
      }
      if (it->second.archived) {
        return {
            400, notion_error(400, "validation_error", "Can't edit block that is archived."), {}};
      }
      it->second.archived = true;
      return {200, notion_block_json(it->second), {}};
    }
    return {404, notion_error(404, "invalid_request_url", "Invalid request URL."), {}};
  }

  // --- Google ---
  static json google_error(unsigned status, const std::string& message) {
    return {{"error", {{"code", status}, {"message", message}, {"errors", json::array()}}}};
  }
  static json oauth_error(const std::string& error, const std::string& description) {
    return {{"error", error}, {"error_description", description}};
  }
  Answer google_token(const TrackerCall& c) {
    if (c.method != "POST" ||
        c.header("content-type").find("application/x-www-form-urlencoded") == std::string::npos) {
      return {400, oauth_error("invalid_request", "form-encoded POST expected"), {}};
    }
    const std::string form = "?" + c.body;
    if (query_param(form, "grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      return {400, oauth_error("unsupported_grant_type", "Invalid grant_type"), {}};
    }
    const std::string jwt = query_param(form, "assertion");
    const auto dot1 = jwt.find('.');
    const auto dot2 = dot1 == std::string::npos ? dot1 : jwt.find('.', dot1 + 1);
    if (dot2 == std::string::npos) return {400, oauth_error("invalid_grant", "Not a JWT."), {}};
    const json header = json::parse(unbase64(jwt.substr(0, dot1), true), nullptr, false);
    const json claims =
        json::parse(unbase64(jwt.substr(dot1 + 1, dot2 - dot1 - 1), true), nullptr, false);
    const std::string signature = unbase64(jwt.substr(dot2 + 1), true);
    if (!header.is_object() || header.value("alg", "") != "RS256" || !claims.is_object()) {
      return {400, oauth_error("invalid_grant", "Invalid JWT header or claims."), {}};
    }
    // The signature, over "<header>.<claims>" as sent, with the account's public key.
    BIO* bio =
        BIO_new_mem_buf(google_public_pem.data(), static_cast<int>(google_public_pem.size()));
    EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr) : nullptr;
    BIO_free(bio);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const std::string input = jwt.substr(0, dot2);
    const bool verified =
        key && ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
        EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                         input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    if (!verified) return {400, oauth_error("invalid_grant", "Invalid JWT Signature."), {}};
    const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    const long long iat = claims.value("iat", 0LL), exp = claims.value("exp", 0LL);
    if (claims.value("iss", "") != google_email) {
      return {400, oauth_error("invalid_grant", "Invalid issuer."), {}};
    }
    if (claims.value("aud", "") != owner.base_url() + "/token") {
      return {400, oauth_error("invalid_grant", "Invalid JWT: audience."), {}};
    }
    if (claims.value("scope", "").find("https://www.googleapis.com/auth/drive") ==
        std::string::npos) {
      return {400, oauth_error("invalid_scope", "Drive scope missing."), {}};
    }
    if (iat > now + 60 || exp <= now || exp - iat > 3600) {
      return {400,
              oauth_error("invalid_grant",
                          "Invalid JWT: Token must be a short-lived token (60 minutes) and in "
                          "a reasonable timeframe."),
              {}};
    }
    const std::string token = fmt::format("ya29.standin-{}", ++google_issued);
    google_tokens.insert(token);
    return {200, json{{"access_token", token}, {"expires_in", 3599}, {"token_type", "Bearer"}}, {}};
  }
  json gdoc_json(const StandInGoogleDoc& d) const {
    return {{"kind", "drive#file"},
            {"id", d.id},
            {"name", d.name},
            {"mimeType", "application/vnd.google-apps.document"},
            {"webViewLink", "https://docs.google.com/document/d/" + d.id + "/edit?usp=drivesdk"}};
  }
  Answer drive(const TrackerCall& c, const std::string& path, bool& created) {
    static const std::regex kFile(R"(^(/upload)?/drive/v3/files/([A-Za-z0-9_-]+)$)");
    std::smatch m;
    if (path == "/drive/v3/files" && c.method == "GET") {
      static const std::regex kQuery(
          R"(^appProperties has \{ key='([^']*)' and value='([^']*)' \} and '([^']*)' in parents and trashed = false$)");
      const std::string q = query_param(c.target, "q");
      std::smatch qm;
      if (!std::regex_match(q, qm, kQuery)) return {400, google_error(400, "Invalid Value"), {}};
      json out = json::array();
      for (const auto& d : gdocs) {
        const auto p = d.app_properties.find(qm[1].str());
        if (p != d.app_properties.end() && p->second == qm[2].str() &&
            std::find(d.parents.begin(), d.parents.end(), qm[3].str()) != d.parents.end()) {
          out.push_back(gdoc_json(d));
        }
      }
      return {200, json{{"kind", "drive#fileList"}, {"files", out}}, {}};
    }
    if (path == "/upload/drive/v3/files" && c.method == "POST") {
      if (query_param(c.target, "uploadType") != "multipart") {
        return {400, google_error(400, "Invalid uploadType"), {}};
      }
      const std::string type = c.header("content-type");
      const auto b = type.find("boundary=");
      if (!type.starts_with("multipart/related") || b == std::string::npos) {
        return {400, google_error(400, "multipart/related with a boundary expected"), {}};
      }
      const std::string delimiter = "--" + type.substr(b + 9);
      std::vector<std::pair<std::string, std::string>> parts;  // content type, content
      std::size_t at = c.body.find(delimiter);
      while (at != std::string::npos) {
        at += delimiter.size();
        if (c.body.compare(at, 2, "--") == 0) break;
        const auto head_end = c.body.find("\r\n\r\n", at);
        const auto next = c.body.find("\r\n" + delimiter, at);
        if (head_end == std::string::npos || next == std::string::npos || head_end > next) {
          return {400, google_error(400, "Malformed multipart body"), {}};
        }
        std::string head = c.body.substr(at, head_end - at);
        std::transform(head.begin(), head.end(), head.begin(), ::tolower);
        const auto ct = head.find("content-type:");
        std::string part_type = ct == std::string::npos ? "" : head.substr(ct + 13);
        part_type = part_type.substr(part_type.find_first_not_of(' '));
        part_type = part_type.substr(0, part_type.find("\r\n"));
        parts.emplace_back(part_type, c.body.substr(head_end + 4, next - head_end - 4));
        at = next + 2;
      }
      if (parts.size() != 2 || !parts[0].first.starts_with("application/json")) {
        return {400, google_error(400, "Malformed multipart body"), {}};
      }
      const json meta = json::parse(parts[0].second, nullptr, false);
      if (!meta.is_object() ||
          meta.value("mimeType", "") != "application/vnd.google-apps.document" ||
          !meta.contains("parents") || !meta["parents"].is_array() || meta["parents"].empty() ||
          meta.value("name", "").empty()) {
        return {400, google_error(400, "Invalid metadata"), {}};
      }
      if (!parts[1].first.starts_with("text/html")) {
        return {400, google_error(400, "Conversion to a Google Doc needs an importable type"), {}};
      }
      StandInGoogleDoc d;
      d.id = fmt::format("1doc{:06d}Abc_-", next_doc++);
      d.name = meta["name"];
      for (const json& p : meta["parents"]) d.parents.push_back(p.get<std::string>());
      if (meta.contains("appProperties")) {
        for (const auto& [k, v] : meta["appProperties"].items())
          d.app_properties[k] = v.get<std::string>();
      }
      d.html = parts[1].second;
      d.revisions = 1;
      gdocs.push_back(d);
      created = true;
      return {200, gdoc_json(d), {}};
    }
    if (std::regex_match(path, m, kFile) && c.method == "PATCH") {
      StandInGoogleDoc* doc = nullptr;
      for (auto& d : gdocs) {
        if (d.id == m[2].str()) doc = &d;
      }
      if (!doc) return {404, google_error(404, "File not found: " + m[2].str() + "."), {}};
      if (m[1].matched) {
        if (query_param(c.target, "uploadType") != "media" ||
            !c.header("content-type").starts_with("text/html") || c.body.empty()) {
          return {400, google_error(400, "Media upload of text/html expected"), {}};
        }
        doc->html = c.body;
        doc->revisions += 1;
      } else {
        const json meta = json::parse(c.body, nullptr, false);
        if (!meta.is_object() || meta.value("name", "").empty()) {
          return {400, google_error(400, "Invalid metadata"), {}};
        }
        doc->name = meta["name"];
      }
      return {200, gdoc_json(*doc), {}};
    }
    return {404, google_error(404, "Not Found"), {}};
  }

  StandInIssue* find(const std::string& key) {
    for (auto& i : issues) {
      if (i.key == key) return &i;
    }
    return nullptr;
  }

  // Under mu.
  Answer route(const TrackerCall& c, bool& created) {
    if (scripted.remaining > 0 && (scripted.method.empty() || scripted.method == c.method) &&
        c.target.find(scripted.path_part) != std::string::npos) {
      --scripted.remaining;
      return {scripted.status, json{{"message", "scripted failure"}}, scripted.headers};
    }
    const std::string path = c.target.substr(0, c.target.find('?'));
    json body = json::parse(c.body, nullptr, false);
    std::smatch m;
    if (path.starts_with("/wiki/api/v2/")) {
      if (c.header("authorization") != "Basic " + base64(owner.user_ + ":" + owner.token_)) {
        return {401, json{{"message", "Unauthorized"}}, {}};
      }
      return confluence(c, path, body, created);
    }
    static const std::regex kContents(R"(^/repos/([^/]+/[^/]+)/contents/(.+)$)");
    if (std::regex_match(path, m, kContents)) {
      if (c.header("authorization") != "Bearer " + owner.token_) {
        return {401, json{{"message", "Bad credentials"}}, {}};
      }
      return contents(c, percent_decode(m[2].str()), body, created);
    }
    static const std::regex kGitLabProject(R"(^/api/v4/projects/([^/]+)$)");
    static const std::regex kGitLabFile(R"(^/api/v4/projects/([^/]+)/repository/files/([^/]+)$)");
    if (std::regex_match(path, m, kGitLabProject) || std::regex_match(path, m, kGitLabFile)) {
      if (c.header("private-token") != owner.token_) {
        return {401, json{{"message", "401 Unauthorized"}}, {}};
      }
      return gitlab_files(c, percent_decode(m[1].str()),
                          m.size() > 2 && m[2].matched ? percent_decode(m[2].str()) : "", body,
                          created);
    }
    if (path.starts_with("/rest/api/content")) {
      if (c.header("authorization") != "Bearer " + owner.token_) {
        return {401, json{{"statusCode", 401}, {"message", "Unauthorized"}}, {}};
      }
      return confluence_dc(c, path, body, created);
    }
    if (path.starts_with("/v1/")) {
      if (c.header("authorization") != "Bearer " + owner.token_) {
        return {401, notion_error(401, "unauthorized", "API token is invalid."), {}};
      }
      if (c.header("notion-version").empty()) {
        return {
            400, notion_error(400, "missing_version", "Notion-Version header is required."), {}};
      }
      return notion_route(c, path, body, created);
    }
    if (path == "/token") return google_token(c);
    if (path.starts_with("/drive/v3/") || path.starts_with("/upload/drive/v3/")) {
      const std::string auth = c.header("authorization");
      if (!auth.starts_with("Bearer ") || !google_tokens.count(auth.substr(7))) {
        return {401, google_error(401, "Request had invalid authentication credentials."), {}};
      }
      return drive(c, path, created);
    }
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
                               std::string method, std::string path_part) {
  std::lock_guard lock(impl_->mu);
  impl_->scripted = {n, status, std::move(headers), std::move(method), std::move(path_part)};
}

void TrackerStandIn::set_google_account(std::string client_email, std::string public_key_pem) {
  std::lock_guard lock(impl_->mu);
  impl_->google_email = std::move(client_email);
  impl_->google_public_pem = std::move(public_key_pem);
}

int TrackerStandIn::google_tokens_issued() const {
  std::lock_guard lock(impl_->mu);
  return impl_->google_issued;
}

void TrackerStandIn::expire_google_tokens() {
  std::lock_guard lock(impl_->mu);
  impl_->google_tokens.clear();
}

std::vector<StandInGoogleDoc> TrackerStandIn::google_docs() const {
  std::lock_guard lock(impl_->mu);
  return impl_->gdocs;
}

std::vector<StandInNotionPage> TrackerStandIn::notion_pages() const {
  std::lock_guard lock(impl_->mu);
  std::vector<StandInNotionPage> out;
  for (const std::string& id : impl_->notion_pages) {
    const auto& b = impl_->notion.at(id);
    StandInNotionPage p;
    p.id = b.id;
    p.parent = b.parent;
    p.title = b.content.value("title", "");
    p.url = "https://www.notion.so/" + without_dashes(b.id);
    p.archived = b.archived;
    for (const std::string& child : b.children) {
      const auto& c = impl_->notion.at(without_dashes(child));
      if (c.archived) continue;
      json block = {{"type", c.type},
                    {"text", Impl::plain(c.content.value("rich_text", json::array()))}};
      if (c.type == "table") {
        json cells = json::array();
        for (const std::string& r : c.children) {
          const auto& row = impl_->notion.at(without_dashes(r));
          if (row.archived) continue;
          json texts = json::array();
          for (const json& cell : row.content["cells"]) texts.push_back(Impl::plain(cell));
          cells.push_back(texts);
        }
        block["rows"] = cells.size();
        block["cells"] = cells;
      }
      p.blocks.push_back(block);
    }
    out.push_back(std::move(p));
  }
  return out;
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

std::vector<StandInPage> TrackerStandIn::pages() const {
  std::lock_guard lock(impl_->mu);
  return impl_->pages;
}

std::vector<StandInFile> TrackerStandIn::files() const {
  std::lock_guard lock(impl_->mu);
  return impl_->files;
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
