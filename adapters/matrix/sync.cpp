#include "adapters/matrix/sync.h"

#include <algorithm>
#include <future>
#include <memory>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/json_fields.h"
#include "util/percent.h"
#include "util/random.h"

namespace scribe::matrix {
namespace {

using nlohmann::json;

// The most events read back into one room's gap per response: beyond this (an incident room
// does not see thousands of messages in one poll) the rest of the gap is logged as skipped.
constexpr std::size_t kMaxGapEvents = 2000;

const json& timeline_types() {
  static const json types = json::array(
      {"m.room.message", "m.reaction", "m.room.member", "m.room.encryption", "m.room.encrypted"});
  return types;
}

bool token_refused(const ClientResult& r) {
  return r.errcode == "M_UNKNOWN_TOKEN" || r.errcode == "M_MISSING_TOKEN";
}

bool rate_limited(const ClientResult& r) {
  return r.http_status == 429 || r.errcode == "M_LIMIT_EXCEEDED";
}

}  // namespace

std::string SyncLoop::stream_name(std::string_view user_id) {
  return fmt::format("matrix-sync:{}", user_id);
}

json SyncLoop::filter(int timeline_limit) {
  const json nothing = {{"not_types", json::array({"*"})}};
  return json{
      {"presence", nothing},
      {"account_data", nothing},
      {"room",
       {{"timeline", {{"types", timeline_types()}, {"limit", timeline_limit}}},
        {"state", {{"types", json::array({"m.room.encryption"})}, {"lazy_load_members", true}}},
        {"ephemeral", nothing},
        {"account_data", nothing},
        {"include_leave", false}}},
  };
}

json SyncLoop::events_of(const json& response, std::string_view user_id, bool timeline) {
  json out = json::array();
  const json* rooms = object_at(response, "rooms");
  if (rooms == nullptr) return out;
  const auto add_all = [&](const json* section, const std::string& room_id, bool only_encryption) {
    if (section == nullptr) return;
    const auto list = section->find("events");
    if (list == section->end() || !list->is_array()) return;
    for (const json& e : *list) {
      if (!e.is_object()) continue;
      if (only_encryption && string_at(e, "type") != "m.room.encryption") continue;
      json event = e;
      event["room_id"] = room_id;
      out.push_back(std::move(event));
    }
  };
  if (const json* join = object_at(*rooms, "join"); join != nullptr) {
    for (const auto& [room_id, room] : join->items()) {
      if (!room.is_object()) continue;
      add_all(object_at(room, "state"), room_id, /*only_encryption=*/true);
      if (timeline) add_all(object_at(room, "timeline"), room_id, /*only_encryption=*/false);
    }
  }
  if (const json* invite = object_at(*rooms, "invite"); invite != nullptr) {
    for (const auto& [room_id, room] : invite->items()) {
      const json* state = room.is_object() ? object_at(room, "invite_state") : nullptr;
      if (state == nullptr) continue;
      const auto list = state->find("events");
      if (list == state->end() || !list->is_array()) continue;
      for (const json& e : *list) {
        if (!e.is_object() || string_at(e, "type") != "m.room.member" ||
            string_at(e, "state_key") != user_id) {
          continue;
        }
        const json* content = object_at(e, "content");
        if (content == nullptr || string_at(*content, "membership") != "invite") continue;
        json event = e;
        event["room_id"] = room_id;
        event["unsigned"]["invite_room_state"] = *list;
        out.push_back(std::move(event));
      }
    }
  }
  return out;
}

SyncLoop::SyncLoop(Options options, const RoomEvents& events, CommandHandler& handler, Store& store,
                   Clock clock)
    : options_(std::move(options)),
      events_(events),
      handler_(handler),
      store_(store),
      clock_(std::move(clock)),
      api_([this] {
        ClientApi::Options api = options_.api;
        api.user_id.clear();  // a bot account acts as itself
        // The long poll, plus time for the homeserver to answer after it.
        api.timeout = options_.poll_timeout + std::chrono::seconds(30);
        return api;
      }()),
      filter_(filter(options_.timeline_limit).dump()),
      initial_filter_(filter(0).dump()) {
  api_.set_cancel_flag(&stopping_);
}

SyncLoop::~SyncLoop() { stop(); }

void SyncLoop::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void SyncLoop::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool SyncLoop::pause(std::chrono::milliseconds delay) {
  std::unique_lock lock(mu_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

std::chrono::milliseconds SyncLoop::backoff() {
  const int doublings = std::min(failures_ - 1, 16);
  std::chrono::milliseconds delay = options_.backoff_first * (1LL << std::max(doublings, 0));
  delay = std::min(delay, options_.backoff_max);
  // Jitter: between half and all of it, so many Scribes do not return in step.
  return std::chrono::milliseconds(random_between(delay.count() / 2, delay.count()));
}

bool SyncLoop::after_failure(const ClientResult& r, std::string_view what) {
  if (stopping_) return false;
  ++failures_;
  if (token_refused(r)) {
    if (token_accepted_.exchange(false)) {
      spdlog::error(
          "matrix sync: the homeserver refused the bot account's access token ({}: {}) during "
          "{}: it was revoked, logged out or is wrong. Get a new one (scribe matrix-login), set "
          "SCRIBE_MATRIX_ACCESS_TOKEN and restart; /readyz answers 503 until the homeserver "
          "accepts a token again",
          r.errcode, r.error, what);
    }
    return pause(options_.backoff_max);
  }
  if (rate_limited(r)) {
    const auto wait = r.retry_after.value_or(backoff());
    spdlog::warn("matrix sync: rate limited by the homeserver during {} ({}): waiting {} ms", what,
                 r.error, wait.count());
    --failures_;  // the homeserver said how long; not an outage
    return pause(wait);
  }
  const auto wait = backoff();
  spdlog::warn("matrix sync: {} failed ({}{}{}); retrying in {} ms (failure {} in a row)", what,
               r.errcode, r.errcode.empty() ? "" : ": ", r.error, wait.count(), failures_);
  return pause(wait);
}

std::optional<std::string> SyncLoop::load_position() {
  std::optional<std::string> position;
  store_.read(
      [&](Transaction& tx) { position = tx.stream_position(stream_name(options_.user_id)); });
  return position;
}

bool SyncLoop::commit(const json& events, const std::string& next_batch) {
  // The promise belongs to the completion: a completion dropped uncalled (the work threw
  // something other than a StoreError, which the handler logs as a programming error and
  // does not report) breaks it, and this thread goes on instead of waiting for ever.
  auto outcome = std::make_shared<std::promise<std::optional<StoreError>>>();
  auto done = outcome->get_future();
  const Timestamp now = clock_();
  const std::string stream = stream_name(options_.user_id);
  // `events` outlives the write: this thread waits for its outcome below.
  handler_.transact_async(
      [this, &events, &next_batch, &stream, now](Transaction& tx) {
        const bool enqueued = events_.apply(tx, events, now);
        tx.set_stream_position(stream, next_batch, now);
        return enqueued;
      },
      // Moved: this thread must hold no reference of its own, or the promise outlives a
      // dropped completion.
      [outcome = std::move(outcome)](std::optional<StoreError> error) {
        outcome->set_value(std::move(error));
      });
  std::optional<StoreError> error;
  try {
    error = done.get();
  } catch (const std::future_error&) {
    error = StoreError("an internal error; nothing of this response was kept");
  }
  if (error) {
    ++failures_;
    const auto wait = backoff();
    spdlog::error(
        "matrix sync: could not store {} events up to {}: {}; reading them again in {} ms",
        events.size(), next_batch, error->what(), wait.count());
    pause(wait);
    return false;
  }
  return true;
}

bool SyncLoop::fill_gaps(json& response, const std::string& since, ClientResult& failure) {
  json* rooms =
      response.contains("rooms") && response["rooms"].is_object() ? &response["rooms"] : nullptr;
  if (rooms == nullptr || !rooms->contains("join") || !(*rooms)["join"].is_object()) return true;
  const std::string gap_filter = json{{"types", timeline_types()}}.dump();
  for (auto& [room_id, room] : (*rooms)["join"].items()) {
    if (!room.is_object() || !room.contains("timeline") || !room["timeline"].is_object()) continue;
    json& timeline = room["timeline"];
    if (!timeline.value("limited", false)) continue;
    std::string from = string_at(timeline, "prev_batch");
    if (from.empty()) continue;
    json older = json::array();  // newest first, as /messages gives them with dir=b
    while (older.size() < kMaxGapEvents) {
      const ClientResult page = api_.request(
          "GET", fmt::format("/_matrix/client/v3/rooms/{}/messages?dir=b&limit=100&from={}&to={}"
                             "&filter={}",
                             percent_encode(room_id), percent_encode(from), percent_encode(since),
                             percent_encode(gap_filter)));
      if (!page.ok) {
        failure = page;
        return false;
      }
      const auto chunk = page.json.find("chunk");
      if (chunk == page.json.end() || !chunk->is_array() || chunk->empty()) break;
      for (const json& e : *chunk) older.push_back(e);
      const std::string end = string_at(page.json, "end");
      if (end.empty() || end == from) break;
      from = end;
    }
    if (older.size() >= kMaxGapEvents) {
      spdlog::warn("matrix sync: more than {} events in {} since the last sync; older ones skipped",
                   kMaxGapEvents, room_id);
    }
    spdlog::info("matrix sync: {} had more events than one response holds; read {} more", room_id,
                 older.size());
    json merged = json::array();
    for (auto it = older.rbegin(); it != older.rend(); ++it) merged.push_back(*it);
    for (const json& e : timeline.value("events", json::array())) merged.push_back(e);
    timeline["events"] = std::move(merged);
  }
  return true;
}

void SyncLoop::run() {
  std::optional<std::string> since;
  while (!stopping_) {
    try {
      since = load_position();
      break;
    } catch (const StoreError& e) {
      ++failures_;
      spdlog::error("matrix sync: cannot read the stored sync position: {}", e.what());
      if (!pause(backoff())) return;
    }
  }
  if (since) {
    spdlog::info("matrix sync: {} resumes from its stored position", options_.user_id);
  } else {
    spdlog::info("matrix sync: first start for {}: starting from now (no history is replayed)",
                 options_.user_id);
  }
  while (!stopping_) {
    const bool first = !since.has_value();
    std::string path =
        "/_matrix/client/v3/sync?filter=" + percent_encode(first ? initial_filter_ : filter_);
    if (first) {
      path += "&timeout=0";
    } else {
      path += fmt::format("&timeout={}&since={}", options_.poll_timeout.count(),
                          percent_encode(*since));
    }
    ClientResult result = api_.request("GET", path);
    if (stopping_) return;
    std::string next_batch = result.ok ? string_at(result.json, "next_batch") : std::string();
    if (result.ok && next_batch.empty()) {
      result.ok = false;
      result.error = "a sync response without next_batch";
    }
    if (!result.ok) {
      if (!after_failure(result, "sync")) return;
      continue;
    }
    if (!first) {
      ClientResult failure;
      if (!fill_gaps(result.json, *since, failure)) {
        if (!after_failure(failure, "reading a room's missed events")) return;
        continue;
      }
    }
    if (!token_accepted_.exchange(true)) {
      spdlog::info("matrix sync: the homeserver accepts the access token again");
    }
    const json events = events_of(result.json, options_.user_id, /*timeline=*/!first);
    if (!commit(events, next_batch)) continue;
    if (first) spdlog::info("matrix sync: {} starts at {}", options_.user_id, next_batch);
    failures_ = 0;
    since = std::move(next_batch);
  }
}

ClientResult password_login(const std::string& homeserver_url, const std::string& user,
                            const std::string& password, const std::string& device_name) {
  ClientApi::Options options;
  options.homeserver_url = homeserver_url;
  ClientApi api(std::move(options));
  return api.request("POST", "/_matrix/client/v3/login",
                     json{{"type", "m.login.password"},
                          {"identifier", {{"type", "m.id.user"}, {"user", user}}},
                          {"password", password},
                          {"initial_device_display_name", device_name}});
}

}  // namespace scribe::matrix
