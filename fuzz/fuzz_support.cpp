#include "fuzz/fuzz_support.h"

#include <stdlib.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <system_error>
#include <vector>

#include <date/date.h>
#include <date/tz.h>
#include <spdlog/spdlog.h>

#include "adapters/matrix/platform.h"
#include "adapters/slack/platform.h"
#include "adapters/slack/signature.h"
#include "commands/handler.h"
#include "commands/invocation.h"

namespace scribe::fuzz {
namespace {

using namespace std::chrono_literals;

Invocation command(const ChannelRef& channel, const Person& user, std::string word,
                   std::string text, Timestamp at, std::vector<Person> mentions = {}) {
  Invocation inv;
  inv.channel = channel;
  inv.user = user;
  inv.command = std::move(word);
  inv.text = std::move(text);
  inv.mentions = std::move(mentions);
  inv.received_at = at;
  return inv;
}

// An incident with a little of everything, so edits, deletions, buttons and drafts have
// something to work on.
void seed_incident(Store& store, CommandHandler& handler, const ChannelRef& channel,
                   const Person& alice, const Person& bob) {
  const Timestamp t = now() - 25min;
  handler.handle(command(channel, alice, "incident", "start sev2 Checkout errors", t));
  handler.handle(command(channel, alice, "timeline", "#detected 5xx alerts fired", t + 1min));
  handler.handle(command(channel, bob, "timeline", "-20m #impact users see errors", t + 2min));
  handler.handle(command(channel, alice, "action",
                         "retry budget for checkout @" + bob.name + " due +3d #prevent", t + 3min,
                         {bob}));
  handler.handle(command(channel, bob, "incident", "cause connection pool exhausted", t + 4min));
  // A seed the grammar refused would quietly make every target shallower.
  store.read([&](Transaction& tx) {
    const auto incident = tx.current_incident(channel);
    if (!incident || tx.events(incident->id, false).size() < 3 ||
        tx.actions(incident->id).empty() || tx.notes(incident->id).empty()) {
      invariant_failed("the seeded incident is complete", channel.channel);
    }
  });
}

void remove_db_files(const std::filesystem::path& db) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(db.string() + suffix, ec);
  }
}

}  // namespace

Timestamp now() { return Timestamp{date::sys_days{date::year{2026} / 11 / 20} + 14h + 30min}; }

HandlerOptions handler_options() {
  HandlerOptions options;
  options.platforms.add(std::string(slack::kPlatform), slack::traits());
  options.platforms.add(std::string(matrix::kPlatform), matrix::traits());
  options.posting_platforms = {std::string(slack::kPlatform), std::string(matrix::kPlatform)};
  return options;
}

void silence_logs() { spdlog::set_level(spdlog::level::off); }

const date::time_zone& zone(unsigned index) {
  static const std::array<const date::time_zone*, 6> zones = {
      date::locate_zone("UTC"),
      date::locate_zone("Europe/Berlin"),
      date::locate_zone("America/New_York"),
      date::locate_zone("Australia/Lord_Howe"),  // DST shifts by 30 minutes
      date::locate_zone("Asia/Kathmandu"),       // UTC+05:45
      date::locate_zone("Pacific/Apia"),         // skipped a whole day in 2011
  };
  return *zones[index % zones.size()];
}

ScratchStore::ScratchStore() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "scribe-fuzz-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  dir_ = tmpl;
  auto seeded = open_store((dir_ / "template.db").string());
  CommandHandler handler(*seeded, date::locate_zone("UTC"), handler_options());
  const ChannelRef slack{"slack", std::string(kSlackTeam), std::string(kSlackChannel)};
  seed_incident(*seeded, handler, slack, Person{"U0ALICE", "alice"}, Person{"U0BOB", "bob"});
  const ChannelRef matrix{"matrix", "example.org", std::string(kMatrixRoom)};
  seed_incident(*seeded, handler, matrix, Person{"@alice:example.org", "alice"},
                Person{"@bob:example.org", "bob"});
  seeded.reset();  // checkpoints: template.db alone holds everything
}

ScratchStore::~ScratchStore() {
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

Store& ScratchStore::fresh() {
  store_.reset();
  const std::filesystem::path work = dir_ / "work.db";
  remove_db_files(work);
  std::filesystem::copy_file(dir_ / "template.db", work);
  store_ = open_store(work.string());
  return *store_;
}

HttpResponse await_answer(const std::function<void(Respond)>& call) {
  auto answered = std::make_shared<std::promise<HttpResponse>>();
  std::future<HttpResponse> answer = answered->get_future();
  call([answered](HttpResponse r) { answered->set_value(std::move(r)); });
  if (answer.wait_for(std::chrono::minutes(1)) != std::future_status::ready) {
    invariant_failed("the endpoint answered within a minute", "no answer");
  }
  return answer.get();
}

std::string store_fingerprint(Store& store) {
  std::string out;
  const auto ms = [](Timestamp t) { return std::to_string(t.time_since_epoch().count()); };
  store.read([&](Transaction& tx) {
    for (const Incident& inc : tx.list_incidents(1000)) {
      out += "incident " + std::to_string(inc.id) + " " + std::string(to_string(inc.status)) + " " +
             std::string(to_string(inc.severity)) + " " + inc.commander.id + " " + inc.title + " " +
             (inc.mitigated_at ? ms(*inc.mitigated_at) : "-") + " " +
             (inc.resolved_at ? ms(*inc.resolved_at) : "-") + "\n";
      for (const TimelineEvent& e : tx.events(inc.id, /*include_deleted=*/true)) {
        out += " event " + std::to_string(e.seq) + " " + std::to_string(e.revision) + " " +
               ms(e.occurred_at) + " " + e.text + "\n";
      }
      out += " revisions " + std::to_string(tx.revisions(inc.id).size()) + "\n";
      out += " notes " + std::to_string(tx.notes(inc.id).size()) + "\n";
      for (const ActionItem& a : tx.actions(inc.id)) {
        out += " action " + std::to_string(a.seq) + " " + std::string(to_string(a.status)) + " " +
               std::string(to_string(a.kind)) + " " + (a.owner ? a.owner->id : "-") + " " +
               a.due.value_or("-") + " " + (a.snoozed_until ? ms(*a.snoozed_until) : "-") + " " +
               a.text + " / " + a.drop_reason.value_or("-") + "\n";
      }
      out += " action revisions " + std::to_string(tx.action_revisions(inc.id).size()) + "\n";
    }
    for (std::int64_t id = 1;; ++id) {
      const auto message = tx.find_outbox(id);
      if (!message) break;
      out += "outbox " + std::to_string(id) + " " + message->channel.channel + " " +
             message->content + "\n";
    }
  });
  return out;
}

HttpRequest signed_slack_request(std::string target, std::string body,
                                 std::string_view content_type, Timestamp at) {
  const std::string stamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count());
  HttpRequest r;
  r.method = "POST";
  r.target = std::move(target);
  r.headers.emplace_back("content-type", std::string(content_type));
  r.headers.emplace_back(std::string(slack::kTimestampHeader), stamp);
  r.headers.emplace_back(std::string(slack::kSignatureHeader),
                         slack::compute_signature(kSigningSecret, stamp, body));
  r.body = std::move(body);
  return r;
}

std::string form_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void invariant_failed(std::string_view what, std::string_view detail) {
  std::string shown;
  for (unsigned char c : detail.substr(0, 4000)) {
    if (c >= 0x20 && c < 0x7f) {
      shown += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      shown += buf;
    }
  }
  std::fprintf(stderr, "\n==== broken invariant: %.*s\n---- in: %s\n",
               static_cast<int>(what.size()), what.data(), shown.c_str());
  std::abort();
}

}  // namespace scribe::fuzz
