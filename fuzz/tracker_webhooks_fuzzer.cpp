// The issue trackers' webhook parsers (trackers/webhooks.h) on arbitrary input. The first
// byte picks the sender ('0' GitHub, '1' GitLab, '2' Jira, others by value modulo 3); the
// first line is the event header for GitHub and GitLab and the signature header for all
// three; the rest is the body. Promises checked: nothing throws; anything but a JSON object
// is malformed; a state change has a key and no reason, anything else a reason and no key;
// a GitHub or GitLab key is the configured project's, "#", and a positive issue number (the
// form TrackerClient gives the stored key); a Jira key is the body's issue.key; the same
// input parses the same way twice; and the signature check accepts exactly "sha256=" and the
// body's HMAC in hex of either case.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "trackers/webhooks.h"
#include "util/secret.h"
#include "util/strings.h"

using namespace scribe;
using trackers::WebhookEvent;

namespace {

constexpr std::string_view kRepo = "acme/web";
constexpr std::string_view kProjectPath = "grp/proj";
constexpr std::string_view kProjectId = "15";
constexpr std::string_view kSecret = "fuzz-webhook-secret";

std::string describe(const WebhookEvent& e) {
  return std::to_string(static_cast<int>(e.what)) + " key=" + e.key + " reason=" + e.reason +
         " closed=" + (e.closed ? "1" : "0") + " actor=" + e.actor;
}

bool same(const WebhookEvent& a, const WebhookEvent& b) {
  return a.what == b.what && a.reason == b.reason && a.key == b.key && a.closed == b.closed &&
         a.actor == b.actor;
}

// "<project>#<n>" with n a decimal number from 1 to INT64_MAX without leading zeros.
bool scoped_key_of(std::string_view key, std::string_view project) {
  if (!key.starts_with(project) || key.size() < project.size() + 2) return false;
  if (key[project.size()] != '#') return false;
  const std::string_view n = key.substr(project.size() + 1);
  if (n.size() > 19 || n.front() == '0') return false;
  for (const char c : n) {
    if (c < '0' || c > '9') return false;
  }
  return n.size() < 19 || n <= "9223372036854775807";
}

void check_shape(const WebhookEvent& e, std::string_view input) {
  if (e.what == WebhookEvent::What::kState) {
    FUZZ_CHECK(!e.key.empty() && e.reason.empty(), describe(e) + " <- " + std::string(input));
  } else {
    FUZZ_CHECK(e.key.empty() && !e.reason.empty(), describe(e) + " <- " + std::string(input));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::silence_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const unsigned sender = static_cast<unsigned char>(input[0]) % 3;
  std::string_view rest = input.substr(1);
  const auto newline = rest.find('\n');
  const std::string_view header =
      newline == std::string_view::npos ? std::string_view() : rest.substr(0, newline);
  const std::string_view body = newline == std::string_view::npos ? rest : rest.substr(newline + 1);

  const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  const bool object = parsed.is_object();

  switch (sender) {
    case 0: {
      const WebhookEvent e = trackers::parse_github(header, body, kRepo);
      check_shape(e, input);
      if (!object) FUZZ_CHECK(e.what == WebhookEvent::What::kMalformed, std::string(input));
      if (e.what == WebhookEvent::What::kState) {
        FUZZ_CHECK(header == "issues", std::string(input));
        FUZZ_CHECK(scoped_key_of(e.key, kRepo), describe(e) + " <- " + std::string(input));
      }
      FUZZ_CHECK(same(e, trackers::parse_github(header, body, kRepo)), std::string(input));
      break;
    }
    case 1: {
      for (const std::string_view project : {kProjectPath, kProjectId}) {
        const WebhookEvent e = trackers::parse_gitlab(header, body, project);
        check_shape(e, input);
        if (!object) FUZZ_CHECK(e.what == WebhookEvent::What::kMalformed, std::string(input));
        if (e.what == WebhookEvent::What::kState) {
          FUZZ_CHECK(scoped_key_of(e.key, project), describe(e) + " <- " + std::string(input));
        }
        FUZZ_CHECK(same(e, trackers::parse_gitlab(header, body, project)), std::string(input));
      }
      break;
    }
    default: {
      const WebhookEvent e = trackers::parse_jira(body);
      check_shape(e, input);
      if (!object) FUZZ_CHECK(e.what == WebhookEvent::What::kMalformed, std::string(input));
      if (e.what == WebhookEvent::What::kState) {
        const auto& issue = parsed.at("issue");
        FUZZ_CHECK(issue.at("key").is_string() && issue.at("key").get<std::string>() == e.key,
                   describe(e) + " <- " + std::string(input));
      }
      FUZZ_CHECK(same(e, trackers::parse_jira(body)), std::string(input));
      break;
    }
  }

  // The signature check, with the first line as the header.
  const std::string good = "sha256=" + hmac_sha256_hex(kSecret, body);
  FUZZ_CHECK(good.size() == 7 + 64, good);
  FUZZ_CHECK(trackers::verify_hub_signature(kSecret, body, good), std::string(input));
  const bool accepted = trackers::verify_hub_signature(kSecret, body, header);
  const bool matches = header.size() == good.size() && header.starts_with("sha256=") &&
                       lower(header.substr(7)) == good.substr(7);
  FUZZ_CHECK(accepted == matches, std::string(input));
  FUZZ_CHECK(!trackers::verify_hub_signature("", body, good), std::string(input));
  return 0;
}
