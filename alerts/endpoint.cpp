#include "alerts/endpoint.h"

#include <memory>
#include <vector>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "alerts/parse.h"
#include "util/secret.h"
#include "util/strings.h"

namespace scribe::alerts {
namespace {

// Where each PagerDuty incident's events went, for its notes (which name only the incident).
constexpr std::string_view kRouteSource = "alert-route:pagerduty";

HttpResponse answer(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body) + "\n";
  return r;
}

std::string_view source_of(Sender s) {
  return s == Sender::kPagerDuty ? "pagerduty" : "alertmanager";
}

std::string route_text(const ChannelRef& c) {
  return fmt::format("{}\n{}\n{}", c.platform, c.workspace, c.channel);
}

std::optional<ChannelRef> route_from(const std::string& text) {
  const auto a = text.find('\n');
  const auto b = a == std::string::npos ? a : text.find('\n', a + 1);
  if (b == std::string::npos) return std::nullopt;
  return ChannelRef{text.substr(0, a), text.substr(a + 1, b - a - 1), text.substr(b + 1)};
}

// The password of "Basic base64(user:password)"; empty when it is not one.
std::string basic_password(std::string_view credentials) {
  if (credentials.size() > 4096) return {};
  std::string decoded(3 * ((credentials.size() + 3) / 4) + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                reinterpret_cast<const unsigned char*>(credentials.data()),
                                static_cast<int>(credentials.size()));
  if (n < 0) return {};
  decoded.resize(static_cast<std::size_t>(n));
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (std::size_t pad = credentials.size(); pad > 0 && credentials[pad - 1] == '='; --pad) {
    if (!decoded.empty()) decoded.pop_back();
  }
  const auto colon = decoded.find(':');
  return colon == std::string::npos ? std::string() : decoded.substr(colon + 1);
}

struct Tally {
  int recorded = 0;
  int declared = 0;
  int held = 0;
  int duplicate = 0;
  int full = 0;
  int unrouted = 0;

  void count(AlertOutcome o) {
    switch (o) {
      case AlertOutcome::kRecorded:
        ++recorded;
        break;
      case AlertOutcome::kDeclared:
        ++declared;
        break;
      case AlertOutcome::kHeld:
        ++held;
        break;
      case AlertOutcome::kDuplicate:
        ++duplicate;
        break;
      case AlertOutcome::kIncidentFull:
        ++full;
        break;
    }
  }
  std::string text() const {
    return fmt::format(
        "recorded {}, declared {}, held for the next incident {}, duplicate {}, not recorded "
        "(incident full) {}, no channel {}",
        recorded, declared, held, duplicate, full, unrouted);
  }
};

}  // namespace

AlertEndpoint::AlertEndpoint(Sender sender, Settings settings, CommandHandler& handler, Clock clock)
    : sender_(sender),
      settings_(std::move(settings)),
      handler_(handler),
      clock_(std::move(clock)) {}

bool AlertEndpoint::configured() const {
  return sender_ == Sender::kPagerDuty ? settings_.pagerduty_enabled()
                                       : settings_.alertmanager_enabled();
}

std::string AlertEndpoint::verify(const HttpRequest& r) const {
  if (sender_ == Sender::kPagerDuty) {
    const std::string_view sig = r.header("x-pagerduty-signature");
    if (sig.empty()) return "missing X-PagerDuty-Signature";
    if (!verify_pagerduty_signature(settings_.pagerduty_webhook_secret, r.body, sig)) {
      return "X-PagerDuty-Signature does not match the body";
    }
    return {};
  }
  const std::string_view auth = trim(r.header("authorization"));
  if (auth.empty()) return "missing Authorization";
  std::string given;
  if (starts_with_ci(auth, "bearer ")) {
    given = std::string(trim(auth.substr(7)));
  } else if (starts_with_ci(auth, "basic ")) {
    given = basic_password(trim(auth.substr(6)));
  } else {
    return "Authorization is neither Bearer nor Basic";
  }
  if (given.empty() || !secret_equals(given, settings_.alertmanager_token)) {
    return "wrong token";
  }
  return {};
}

void AlertEndpoint::handle(const HttpRequest& request, Respond respond) {
  const std::string_view source = source_of(sender_);
  if (std::string why = verify(request); !why.empty()) {
    spdlog::warn("{} webhook refused: {}", source, why);
    return respond(answer(401, "not verified: " + why));
  }
  const Parsed parsed =
      sender_ == Sender::kPagerDuty
          ? parse_pagerduty(request.body)
          : parse_alertmanager(request.body, settings_.alertmanager_channel_label);
  if (parsed.what == Parsed::What::kMalformed) {
    return respond(answer(400, "malformed: " + parsed.reason));
  }
  if (parsed.what == Parsed::What::kIgnored) {
    return respond(answer(200, "ignored: " + parsed.reason));
  }

  const Timestamp now = clock_();
  const Person author = sender_ == Sender::kPagerDuty ? Person{"pagerduty", "PagerDuty"}
                        : parsed.sender.empty()       ? Person{"alertmanager", "Alertmanager"}
                                                      : Person{lower(parsed.sender), parsed.sender};
  // Routed here where the settings tell; PagerDuty notes inside the transaction.
  struct Item {
    AlertReport report;
    bool routed = false;
    std::string pd_incident;  // PagerDuty: the incident whose route to remember or look up
  };
  auto items = std::make_shared<std::vector<Item>>();
  for (const ParsedAlert& a : parsed.alerts) {
    Item item;
    AlertReport& r = item.report;
    r.source = std::string(source);
    r.key = a.key;
    r.begins = a.begins;
    r.kind = a.kind;
    r.occurred_at = a.occurred_at;
    r.received_at = now;
    r.author = author;
    r.text = a.text;
    if (!a.link.empty()) {
      r.links.push_back(EventLink{EventLink::Kind::kMessage, std::string(author.name), a.link});
    }
    std::optional<ChannelRef> channel;
    if (sender_ == Sender::kPagerDuty) {
      item.pd_incident = a.incident_id;
      const auto by_id = settings_.pagerduty_services.find(a.service_id);
      const auto by_name = settings_.pagerduty_services.find(a.service_name);
      if (!a.service_id.empty() && by_id != settings_.pagerduty_services.end()) {
        channel = by_id->second;
      } else if (!a.service_name.empty() && by_name != settings_.pagerduty_services.end()) {
        channel = by_name->second;
      } else if (!a.service_id.empty()) {
        channel = settings_.pagerduty_channel;  // notes (no service) look theirs up later
      }
      if (settings_.pagerduty_declare && a.begins && lower(a.urgency) == "high") {
        AlertDeclaration d;
        d.title = a.title.empty() ? "PagerDuty incident" : a.title;
        const auto sev = settings_.pagerduty_severities.find(a.priority);
        d.severity = sev == settings_.pagerduty_severities.end() ? Severity::kSev2 : sev->second;
        r.declare = d;
      }
    } else {
      if (!a.channel_label.empty() && settings_.resolve_channel) {
        channel = settings_.resolve_channel(a.channel_label);
        if (!channel) {
          spdlog::warn("alertmanager: label {}=\"{}\" names no channel Scribe knows",
                       settings_.alertmanager_channel_label, a.channel_label);
        }
      }
      if (!channel) {
        const auto by_receiver = settings_.alertmanager_receivers.find(a.receiver);
        channel = by_receiver != settings_.alertmanager_receivers.end()
                      ? std::optional<ChannelRef>(by_receiver->second)
                      : settings_.alertmanager_channel;
      }
    }
    if (channel) {
      r.channel = *channel;
      item.routed = true;
    }
    items->push_back(std::move(item));
  }

  auto tally = std::make_shared<Tally>();
  handler_.transact_async(
      [this, items, tally, now](Transaction& tx) {
        bool enqueued = false;
        for (Item& item : *items) {
          if (sender_ == Sender::kPagerDuty && !item.pd_incident.empty()) {
            if (item.routed) {
              // Remembered for the incident's notes; the first route stays.
              if (tx.first_delivery(kRouteSource, item.pd_incident, now)) {
                tx.set_delivery_answer(kRouteSource, item.pd_incident,
                                       route_text(item.report.channel));
              }
            } else if (auto known = tx.delivery_answer(kRouteSource, item.pd_incident)) {
              if (auto channel = route_from(*known)) {
                item.report.channel = *channel;
                item.routed = true;
              }
            }
          }
          if (!item.routed) {
            ++tally->unrouted;
            continue;
          }
          const AlertOutcome outcome = handler_.alert_in(tx, item.report);
          tally->count(outcome);
          enqueued = enqueued || outcome == AlertOutcome::kDeclared;
        }
        return enqueued;
      },
      [tally, source, respond = std::move(respond)](std::optional<StoreError> error) {
        if (error) {
          spdlog::error("{} webhook not recorded: {}", source, error->what());
          return respond(answer(503, "not recorded; please retry"));
        }
        if (tally->unrouted > 0) {
          spdlog::warn("{} webhook: {} alert(s) for no configured channel were ignored", source,
                       tally->unrouted);
        }
        respond(answer(200, tally->text()));
      });
}

}  // namespace scribe::alerts
