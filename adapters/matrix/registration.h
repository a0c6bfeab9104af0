// The application-service registration a homeserver operator installs (Synapse:
// `app_service_config_files`; Conduit: `@conduit:… register-appservice` with the YAML), and
// the random tokens in it. `scribe matrix-registration` prints it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace scribe::matrix {

struct RegistrationOptions {
  std::string id = "scribe";      // unique among the homeserver's application services
  std::string url;                // where the homeserver reaches Scribe, e.g. http://scribe:8080
  std::string homeserver_domain;  // the server name, e.g. example.org
  std::string as_token;           // Scribe -> homeserver (SCRIBE_MATRIX_AS_TOKEN)
  std::string hs_token;           // homeserver -> Scribe (SCRIBE_MATRIX_HS_TOKEN)
  std::string sender_localpart = "scribe";  // the bot user: @scribe:example.org
};

// The registration YAML. Every string is a double-quoted YAML scalar (escaped), the user
// namespace is exclusive and matches exactly the bot user (a regex with the localpart and
// domain escaped), rate_limited is false (a bot answering an incident must not be
// throttled), no aliases or rooms are claimed, and ephemeral events are not requested.
std::string registration_yaml(const RegistrationOptions& options);

// "@scribe:example.org".
std::string bot_user_id(std::string_view sender_localpart, std::string_view homeserver_domain);

// `bytes` random bytes from OpenSSL's CSPRNG, as lower-case hex (32 bytes: 64 characters).
// Throws std::runtime_error when the generator fails.
std::string random_token(std::size_t bytes = 32);

// Helpers, exposed for tests: a string as a double-quoted YAML scalar; a string with the
// characters special in a regular expression (POSIX/PCRE/Python re) backslash-escaped.
std::string yaml_quote(std::string_view s);
std::string regex_escape(std::string_view s);

}  // namespace scribe::matrix
