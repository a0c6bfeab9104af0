#include "publish/google.h"

#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "net/rest.h"
#include "postmortem/html.h"
#include "util/json_fields.h"
#include "util/percent.h"

namespace scribe::publish {
namespace {

using nlohmann::json;

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

Key load_key(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return nullptr;
  Key key(PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  if (key && EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) return nullptr;
  return key;
}

CallResult unexpected(std::string_view what) {
  return {CallResult::Outcome::kRetry, fmt::format("unexpected answer from Google: {}", what),
          std::nullopt};
}

// A Drive query's string literal: quotes and backslashes escaped.
std::string drive_literal(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "'";
}

class GoogleDocs final : public Destination {
 public:
  explicit GoogleDocs(const Settings& s)
      : api_(trim_slash(s.google_api_url)),
        token_url_(s.google_token_url.empty() ? s.google_account.token_uri : s.google_token_url),
        folder_(s.google_folder),
        account_(s.google_account) {}

  std::string name() const override { return kGoogleDocs; }
  std::string display() const override { return "Google Docs"; }

  CallResult write(const Page& page, const std::optional<Publication>& previous,
                   Written& out) override {
    CallResult r = ensure_token();
    if (!r.ok()) return r;
    std::string id = previous ? previous->remote_id : std::string();
    json answer;
    if (id.empty()) {
      const std::string q = fmt::format(
          "appProperties has {{ key='{}' and value={} }} and {} in parents and trashed = false",
          kIncidentProperty, drive_literal(page.key), drive_literal(folder_));
      r = call("GET",
               fmt::format("{}/drive/v3/files?q={}&fields={}&supportsAllDrives=true"
                           "&includeItemsFromAllDrives=true",
                           api_, percent_encode(q), percent_encode("files(id,name,webViewLink)")),
               "", "", answer);
      if (!r.ok()) return r;
      const json* files = field_at(answer, "files");
      if (files && files->is_array() && !files->empty()) id = string_at((*files)[0], "id");
    }
    const std::string fields = "&fields=" + percent_encode("id,name,webViewLink");
    if (id.empty()) {
      const std::string html = drive_html(page);
      std::string boundary = make_boundary();
      while (html.find(boundary) != std::string::npos ||
             page.title.find(boundary) != std::string::npos) {
        boundary = make_boundary();
      }
      r = call("POST",
               api_ + "/upload/drive/v3/files?uploadType=multipart&supportsAllDrives=true" + fields,
               "multipart/related; boundary=" + boundary,
               drive_multipart(drive_create_metadata(page, folder_), "text/html; charset=UTF-8",
                               html, boundary),
               answer);
    } else {
      // The content is replaced and converted again; the name follows the title.
      r = call("PATCH",
               fmt::format("{}/upload/drive/v3/files/{}?uploadType=media&supportsAllDrives=true{}",
                           api_, percent_encode(id), fields),
               "text/html; charset=UTF-8", drive_html(page), answer);
      if (r.ok() && string_at(answer, "name") != page.title) {
        r = call("PATCH",
                 fmt::format("{}/drive/v3/files/{}?supportsAllDrives=true{}", api_,
                             percent_encode(id), fields),
                 "application/json; charset=UTF-8", json{{"name", page.title}}.dump(), answer);
      }
    }
    if (!r.ok()) return r;
    out.remote_id = string_at(answer, "id");
    if (out.remote_id.empty()) return unexpected("a file without id");
    out.url = string_at(answer, "webViewLink");
    if (out.url.empty()) {
      out.url = fmt::format("https://docs.google.com/document/d/{}/edit", out.remote_id);
    }
    out.version = (previous ? previous->version : 0) + 1;
    return r;
  }

 private:
  // A fresh access token unless the cached one has more than a minute left.
  CallResult ensure_token() {
    const auto now = std::chrono::steady_clock::now();
    if (!token_.empty() && now < token_expires_) return {};
    token_.clear();
    std::string error;
    const std::string jwt = service_account_jwt(account_, token_url_, kDriveScope,
                                                std::chrono::system_clock::now(), error);
    if (jwt.empty()) {
      return {CallResult::Outcome::kPermanent, "google.credentials: " + error, std::nullopt};
    }
    const std::string form =
        fmt::format("grant_type={}&assertion={}", form_encode(kJwtBearerGrant), form_encode(jwt));
    HttpResult http = http_.request(
        "POST", token_url_,
        {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"}, form);
    CallResult r = classify(http, std::chrono::system_clock::now());
    const json answer = json::parse(http.body, nullptr, /*allow_exceptions=*/false);
    if (!r.ok()) {
      // OAuth errors say what is wrong in `error` and `error_description`.
      if (const std::string e = string_at(answer, "error"); !e.empty()) {
        r.error += fmt::format(" from the token endpoint: {} {}", e,
                               string_at(answer, "error_description"));
      }
      return r;
    }
    const json* expires = field_at(answer, "expires_in");
    token_ = string_at(answer, "access_token");
    if (token_.empty() || !expires || !expires->is_number_integer() ||
        expires->get<long long>() <= 0) {
      token_.clear();
      return unexpected("a token answer without access_token or expires_in");
    }
    const auto lifetime = std::chrono::seconds(expires->get<long long>());
    // Renewed a minute early (half the lifetime when that is short), so no call goes out
    // with a token about to lapse.
    token_expires_ =
        now + lifetime - std::min<std::chrono::seconds>(std::chrono::seconds(60), lifetime / 2);
    return r;
  }

  // A Drive call with the access token; a 401 forgets the token so the retry gets another.
  CallResult call(const std::string& method, const std::string& url,
                  const std::string& content_type, const std::string& body, json& answer) {
    std::vector<std::string> headers = {"Authorization: Bearer " + token_,
                                        "Accept: application/json"};
    if (!content_type.empty()) headers.push_back("Content-Type: " + content_type);
    HttpResult http = http_.request(method, url, headers, body);
    CallResult r = classify(http, std::chrono::system_clock::now());
    const json parsed = json::parse(http.body, nullptr, /*allow_exceptions=*/false);
    if (r.ok()) {
      answer = parsed;
      return r;
    }
    // Google's errors: {"error": {"code": 403, "message": "...", "errors": [...]}}.
    if (const json* e = object_at(parsed, "error")) r.error += ": " + string_at(*e, "message");
    if (http.status == 401) {
      token_.clear();
      r.outcome = CallResult::Outcome::kRetry;
    }
    return r;
  }

  std::string make_boundary() {
    return fmt::format("scribe-{:016x}", std::uniform_int_distribution<unsigned long long>()(rng_));
  }

  std::string api_, token_url_, folder_;
  ServiceAccount account_;
  HttpClient http_;
  std::string token_;
  std::chrono::steady_clock::time_point token_expires_{};
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace

std::optional<ServiceAccount> parse_service_account(std::string_view json_text,
                                                    std::string& error) {
  const json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    error = "not a JSON object (a service account key file, from the Google Cloud console)";
    return std::nullopt;
  }
  if (const std::string type = string_at(j, "type"); !type.empty() && type != "service_account") {
    error = fmt::format("the key file's type is '{}', not service_account", type);
    return std::nullopt;
  }
  ServiceAccount a;
  a.client_email = string_at(j, "client_email");
  a.private_key = string_at(j, "private_key");
  a.token_uri = string_at(j, "token_uri");
  for (const auto& [field, value] :
       {std::pair{"client_email", &a.client_email}, std::pair{"private_key", &a.private_key},
        std::pair{"token_uri", &a.token_uri}}) {
    if (value->empty()) {
      error = fmt::format("the key file has no {}", field);
      return std::nullopt;
    }
  }
  if (!load_key(a.private_key)) {
    error = "the key file's private_key is not an RSA private key in PEM";
    return std::nullopt;
  }
  return a;
}

std::optional<ServiceAccount> read_service_account(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("cannot read {}", path);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto account = parse_service_account(text.str(), error);
  if (!account) error = fmt::format("{}: {}", path, error);
  return account;
}

std::string base64url(std::string_view in) {
  std::string out = base64_encode(in);
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::string service_account_jwt(const ServiceAccount& account, const std::string& audience,
                                std::string_view scope, std::chrono::system_clock::time_point now,
                                std::string& error) {
  const Key key = load_key(account.private_key);
  if (!key) {
    error = "the private key is not an RSA private key in PEM";
    return "";
  }
  const long long iat =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  const json claims = {{"iss", account.client_email},
                       {"scope", scope},
                       {"aud", audience},
                       {"iat", iat},
                       {"exp", iat + 3600}};
  const std::string input = base64url(header.dump()) + "." + base64url(claims.dump());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string signature;
  std::size_t length = 0;
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
            EVP_DigestSign(ctx, nullptr, &length,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  if (ok) {
    signature.resize(length);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &length,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    signature.resize(length);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    error = "signing the token request failed (OpenSSL)";
    return "";
  }
  return input + "." + base64url(signature);
}

std::string drive_multipart(const json& metadata, std::string_view media_type,
                            std::string_view media, std::string_view boundary) {
  return fmt::format(
      "--{0}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{1}\r\n--{0}\r\n"
      "Content-Type: {2}\r\n\r\n{3}\r\n--{0}--\r\n",
      boundary, metadata.dump(-1, ' ', false, json::error_handler_t::replace), media_type, media);
}

json drive_create_metadata(const Page& page, const std::string& folder) {
  return {{"name", page.title},
          {"mimeType", "application/vnd.google-apps.document"},
          {"parents", json::array({folder})},
          {"appProperties", {{kIncidentProperty, page.key}}}};
}

std::string drive_html(const Page& page) {
  return fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>"
      "<body>\n{}</body></html>\n",
      escape_html(page.title), page.html);
}

std::unique_ptr<Destination> make_google_docs(const Settings& settings) {
  return std::make_unique<GoogleDocs>(settings);
}

}  // namespace scribe::publish
