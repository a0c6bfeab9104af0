// Google Docs as a publishing destination: the HTML draft uploaded through the Drive API
// (v3) and converted to a Google Doc in a configured folder, one document per incident
// whose content is replaced on every later publication. Authenticated as a service
// account: a JWT signed with the account's RSA key (RS256, OpenSSL) is exchanged at the
// token endpoint for an access token, which is reused until shortly before it expires.
// The pieces are functions here so they can be tested on their own; the destination
// itself is NOT thread-safe (the outbox's sender thread only).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "publish/destinations.h"
#include "publish/settings.h"

namespace scribe::publish {

// Access to the files the service account can see (the shared folder and what it makes
// there); drive.file alone does not reach a folder someone else created.
inline constexpr char kDriveScope[] = "https://www.googleapis.com/auth/drive";
inline constexpr char kJwtBearerGrant[] = "urn:ietf:params:oauth:grant-type:jwt-bearer";
// The property every document Scribe makes carries, valued with the incident ("INC-7"), so
// a document made before a crash is found again rather than made twice.
inline constexpr char kIncidentProperty[] = "scribeIncident";

// A key file's JSON (`type` service_account, client_email, private_key as an RSA PEM,
// token_uri); nullopt with `error` saying what is missing or wrong. The key is parsed,
// so a damaged key is refused here and not at the first publication.
std::optional<ServiceAccount> parse_service_account(std::string_view json_text, std::string& error);
// The same from a file; `error` also says when it cannot be read.
std::optional<ServiceAccount> read_service_account(const std::string& path, std::string& error);

// RFC 4648 §5 base64url without padding, as JWTs use.
std::string base64url(std::string_view in);

// The signed assertion for the token endpoint `audience`: header {"alg":"RS256",
// "typ":"JWT"}, claims iss (client_email), scope, aud, iat = `now`, exp = iat + 1 h.
// Empty with `error` set when the key cannot sign.
std::string service_account_jwt(const ServiceAccount& account, const std::string& audience,
                                std::string_view scope, std::chrono::system_clock::time_point now,
                                std::string& error);

// A multipart/related upload body: the JSON metadata, then `media` of `media_type`,
// separated by `boundary` (which must not occur in either).
std::string drive_multipart(const nlohmann::json& metadata, std::string_view media_type,
                            std::string_view media, std::string_view boundary);

// The Drive metadata that creates the Google Doc for `page` in `folder`.
nlohmann::json drive_create_metadata(const Page& page, const std::string& folder);

// The whole HTML document uploaded for `page` (its fragment with a UTF-8 head and title).
std::string drive_html(const Page& page);

std::unique_ptr<Destination> make_google_docs(const Settings& settings);

}  // namespace scribe::publish
