// Store: where incidents live. Every change goes through `write`, which runs the given
// function inside one transaction: either all of it is committed (durably, before
// `write` returns) or none of it is. Backends (SQLite, PostgreSQL) are chosen at
// start-up; callers only ever see `Store` and `Transaction`.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "storage/model.h"

namespace scribe {

// Error policy (for the whole project, not only the store):
// - Exceptions are for infrastructure failures only: the store cannot read or write
//   (StoreError), memory runs out. Whoever means "could not save, try again" (an endpoint
//   answering 503, a "nothing was recorded" reply) catches StoreError, not std::exception:
//   a programming error must not be reported to users as a storage hiccup.
// - Input that does not parse is not exceptional: a parser returns its value or why not
//   (util/parsed.h, Parsed<T>, or a result of the same shape) and never throws for what a
//   user, a platform or an old stored row contains.
// - Domain refusals ("already an open incident") are neither: they are replies.
// - Threads that must not die (the outbox sender, the scheduler) catch everything at
//   their loop, log it, and try again later.

// Thrown for failures of the storage itself (disk full, lost connection, bad schema).
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What an incident holds, as the per-incident caps count it (commands/limits.h).
enum class IncidentPart { kEvents, kNotes, kActions };

// What trends across incidents are computed from (postmortem/trends.h): the incidents
// declared since a time, their action items and cause notes, and per incident the
// earliest #impact and earliest #detected/#alert event that is not deleted.
struct TrendsRows {
  std::vector<Incident> incidents;  // by id
  std::vector<ActionItem> actions;  // of those incidents, by id
  std::vector<Note> causes;         // NoteSection::kCause notes of those incidents, by id
  // incident id -> occurred_at of its earliest #impact / #detected or #alert event
  std::vector<std::pair<IncidentId, Timestamp>> impact_started;
  std::vector<std::pair<IncidentId, Timestamp>> detected;
};

// What a postmortem draft of one incident was made from, as numbers that only grow, raised
// in the changing transaction: `incident` with every change to the incident's own rows (its
// fields, event edits and deletions, notes, action items and their history, approvals, its
// channel's time zone), `events` (its highest event number) with every event added, and
// `related` with every change that can alter any incident's related incidents (other
// incidents' cause notes, fields and open items).
struct DraftVersion {
  std::int64_t incident = 0;
  std::int64_t events = 0;
  std::int64_t related = 0;
  friend bool operator==(const DraftVersion&, const DraftVersion&) = default;
};

// The operations available inside one transaction. Valid only during the callback, and
// only on the thread that runs it.
class Transaction {
 public:
  virtual ~Transaction() = default;

  // Incidents.
  virtual IncidentId insert_incident(const Incident& incident) = 0;
  virtual void update_incident(const Incident& incident) = 0;
  virtual std::optional<Incident> find_incident(IncidentId id) = 0;
  // The channel's most recently declared incident that is not closed.
  virtual std::optional<Incident> current_incident(const ChannelRef& channel) = 0;
  // The channel's most recently declared incident, closed or not (follow-up of its
  // action items after it was closed).
  virtual std::optional<Incident> latest_incident(const ChannelRef& channel) = 0;
  // Newest first, at most `limit`.
  virtual std::vector<Incident> list_incidents(int limit) = 0;
  // A page of that list: newest first, only incidents with id < `before`, at most `limit`.
  // Ids never change and new incidents get larger ones, so pages do not shift.
  virtual std::vector<Incident> list_incidents_before(IncidentId before, int limit) = 0;
  // How many of `part` the incident holds: timeline events (deleted ones included: they
  // are kept), postmortem notes, action items. For the per-incident caps.
  virtual std::int64_t count_in_incident(IncidentId incident, IncidentPart part) = 0;

  // Timeline. `append_event` assigns id and the next per-incident seq.
  virtual TimelineEvent append_event(TimelineEvent event) = 0;
  virtual std::optional<TimelineEvent> find_event(IncidentId incident, int seq) = 0;
  // In order of occurrence (then seq). Deleted events only when asked for.
  virtual std::vector<TimelineEvent> events(IncidentId incident, bool include_deleted) = 0;
  // Replaces an event's current state and records `previous` in the audit trail.
  virtual void revise_event(const TimelineEvent& updated, const EventRevision& previous) = 0;
  virtual std::vector<EventRevision> revisions(IncidentId incident) = 0;

  // Channel time zones (`/incident tz`). Every setting is kept; the latest is in force.
  virtual void set_channel_zone(const ChannelZone& setting) = 0;
  // The settings of `channel`, oldest first (empty: the service's zone).
  virtual std::vector<ChannelZone> channel_zones(const ChannelRef& channel) = 0;

  // Alerts that arrived for a channel with no incident open (alerts/): kept so that the
  // next incident declared there can take in the recent ones with their own times.
  // `alert.incident_id`, `seq` and `id` are ignored. Holding one also forgets alerts held
  // longer than a day anywhere, so the table stays small.
  virtual void hold_alert(const ChannelRef& channel, const TimelineEvent& alert) = 0;
  // The alerts held for `channel` that occurred at or after `since`, oldest first; every
  // alert held for the channel is forgotten (older ones are stale, the rest are taken).
  virtual std::vector<TimelineEvent> take_held_alerts(const ChannelRef& channel,
                                                      Timestamp since) = 0;

  // Approvals of the incident's postmortem, oldest first.
  virtual void add_approval(const Approval& approval) = 0;
  virtual std::vector<Approval> approvals(IncidentId incident) = 0;

  // Where the incident's postmortem was published (commands/publishing.h).
  virtual std::optional<Publication> find_publication(IncidentId incident,
                                                      std::string_view destination) = 0;
  // Inserts or replaces the row of (incident_id, destination).
  virtual void save_publication(const Publication& publication) = 0;
  virtual std::vector<Publication> publications(IncidentId incident) = 0;

  // Postmortem notes, in the order they were given.
  virtual Note add_note(Note note) = 0;
  virtual std::vector<Note> notes(IncidentId incident) = 0;

  // Action items. `add_action` assigns id and the next per-incident seq.
  virtual ActionItem add_action(ActionItem item) = 0;
  virtual void update_action(const ActionItem& item) = 0;
  virtual std::optional<ActionItem> find_action(IncidentId incident, int seq) = 0;
  virtual std::vector<ActionItem> actions(IncidentId incident) = 0;
  // Updates an item and records `changes` (its audit trail) in the same transaction.
  virtual void revise_action(const ActionItem& updated,
                             const std::vector<ActionRevision>& changes) = 0;
  // The incident's action item changes, oldest first.
  virtual std::vector<ActionRevision> action_revisions(IncidentId incident) = 0;
  // Open items owned by `owner` in incidents on `platform`, across all incidents, by
  // incident and seq. An owner is matched by id when the item's owner has one, else by
  // name (an @name the platform did not resolve).
  virtual std::vector<ActionItem> open_actions_owned_by(const Person& owner,
                                                        std::string_view platform) = 0;

  // Incidents in one state, oldest first (the scheduler's reminders).
  virtual std::vector<Incident> incidents_with_status(IncidentStatus status) = 0;
  // Open action items with a due date, of any incident, closed ones included: follow-up
  // outlives the incident (reminders). By id.
  virtual std::vector<ActionItem> open_actions_with_due_date() = 0;
  // Every open action item, of any incident, by id (the weekly digest).
  virtual std::vector<ActionItem> open_actions() = 0;
  virtual std::optional<ActionItem> find_action_by_id(std::int64_t id) = 0;
  // The rows trends are computed from, for incidents declared at or after `since`, in
  // five queries (whatever the number of incidents).
  virtual TrendsRows trends_rows(Timestamp since) = 0;
  // For recurrence (postmortem/recurrence.h): the incidents before `before` (by id) that have
  // a cause note, those notes, and their open action items; no events.
  virtual TrendsRows cause_rows(IncidentId before) = 0;
  // Action items across incidents (GET /api/actions): those whose owner's id or name is
  // `owner` (when given) with `status` (when given), dated ones first by due date, then by
  // id; at most `limit`.
  virtual std::vector<ActionItem> find_actions(const std::optional<std::string>& owner,
                                               std::optional<ActionStatus> status, int limit) = 0;
  // The item whose tracker issue has this key (ActionItem::tracker_key), if any.
  virtual std::optional<ActionItem> find_action_by_tracker_key(std::string_view key) = 0;
  // Open items with a tracker issue and an id above `after`, by id, at most `limit` (the
  // periodic refresh walks them a page at a time).
  virtual std::vector<ActionItem> open_tracked_actions(std::int64_t after, int limit) = 0;
  // Resolved or closed incidents with from <= resolved_at <= to, oldest resolution first
  // (the follow-up review).
  virtual std::vector<Incident> incidents_resolved_between(Timestamp from, Timestamp to) = 0;

  // Outbox. `enqueue` returns the message's id; with a dedupe_key already used it
  // changes nothing and returns the existing message's id.
  virtual std::int64_t enqueue(OutboxMessage message) = 0;
  virtual std::optional<OutboxMessage> find_outbox(std::int64_t id) = 0;
  // The message enqueued with this dedupe key, if any.
  virtual std::optional<OutboxMessage> find_outbox_by_key(std::string_view dedupe_key) = 0;
  // Pending jobs whose time has come, by id; only the oldest pending job of each channel
  // is eligible, so a channel's messages (and a thread's replies) stay in order. Fetch jobs
  // are a lane of their own: the oldest pending fetch of each channel is eligible too.
  virtual std::vector<OutboxMessage> due_outbox(Timestamp now, int limit) = 0;
  // The sender's way to take due jobs (in a write): up to `limit` of what due_outbox(now)
  // returns, each claimed by `owner` until now + `lease`, so that no other process takes it
  // meanwhile; update_outbox ends the claim, and a claim whose owner died ends with its
  // lease. A job claimed while another owner's claim was on it (that owner died) comes back
  // with in_doubt set. The default is due_outbox, for stores that cannot claim.
  virtual std::vector<OutboxMessage> claim_outbox(Timestamp now, int limit, std::string_view owner,
                                                  std::chrono::milliseconds lease) {
    (void)owner;
    (void)lease;
    return due_outbox(now, limit);
  }
  // The earliest next_attempt_at among the messages due_outbox could return, if any.
  virtual std::optional<Timestamp> next_outbox_attempt() = 0;
  virtual void update_outbox(const OutboxMessage& message) = 0;
  // How many jobs are in `status` now (the outbox gauges of /metrics).
  virtual std::int64_t count_outbox(OutboxStatus status) = 0;

  // Inbound deduplication (Slack event retries, Matrix transaction ids): true the first
  // time `key` is seen for `source`, false on every repeat.
  virtual bool first_delivery(std::string_view source, std::string_view key, Timestamp at) = 0;
  // The same for a key that matters only until `expires_at` (a signed request within its
  // replay window): the store purges it after that, off the request path, so such keys
  // take bounded room however many requests come.
  virtual bool first_delivery_until(std::string_view source, std::string_view key, Timestamp at,
                                    Timestamp expires_at) = 0;
  // What was answered to a delivery (set_delivery_answer), so that a replay can be answered
  // the same; nullopt when nothing was recorded.
  virtual std::optional<std::string> delivery_answer(std::string_view source,
                                                     std::string_view key) = 0;
  virtual void set_delivery_answer(std::string_view source, std::string_view key,
                                   std::string_view answer) = 0;

  // Stream positions: where an inbound stream that Scribe pulls (rather than one pushed to
  // it) was read up to, by stream name. Set in the same transaction as the effects of what
  // was read, so a crash neither skips nor repeats what came in. nullopt: never set.
  virtual std::optional<std::string> stream_position(std::string_view stream) = 0;
  virtual void set_stream_position(std::string_view stream, std::string_view position,
                                   Timestamp at) = 0;

  // The incident's DraftVersion in this transaction's snapshot; nullopt when there is no
  // such incident or the store keeps no versions (then nothing may be served from a cache).
  virtual std::optional<DraftVersion> draft_version(IncidentId incident) {
    (void)incident;
    return std::nullopt;
  }

  // Drafts stored when an incident is resolved; the newest is returned.
  virtual void save_draft(IncidentId incident, Timestamp created_at,
                          const std::string& markdown) = 0;
  virtual std::optional<std::string> latest_draft(IncidentId incident) = 0;
};

// Whether a store can record; see Store::health.
struct StoreHealth {
  bool ready = true;
  std::string reason;  // when not ready
};

// Threads: a Store is safe to use from any number of threads at once (listener threads,
// the outbox's sender, the scheduler). Writes go through one queue drained by one writer
// thread, which owns the write connection: it commits a batch of queued writes per
// transaction, one savepoint per write, so one fsync covers many commands, and completes
// each write with its own outcome once its batch is durable (a write that fails is rolled
// back alone; a failed commit fails every write of the batch). Reads run on a small pool
// of read connections. So `fn` runs on another thread than its caller: it must use only
// the Transaction it is given and what it captured, never thread-local state, and a
// Transaction must not be kept or used outside its `fn`. Commands open no transactions:
// CommandHandler::transact does, in one place (commands/handler.h).
//
// The *_async forms never block their caller: listener threads use them. `done` is called
// exactly once, on a store thread (or on the caller's, when the store is closing), with
// nullptr once the change is durable (the read finished) or with why not: StoreError when
// the store failed, or whatever `fn` threw (then nothing of it was committed). `done` must
// not block and must not call the blocking write() or read().
class Store {
 public:
  using Done = std::function<void(std::exception_ptr)>;
  virtual ~Store() = default;

  // Runs `fn` in a read-write transaction and commits it durably before returning. If `fn`
  // throws, its changes are rolled back and the exception propagates; if the commit
  // fails, StoreError. Blocks: not for the listener's threads.
  virtual void write(const std::function<void(Transaction&)>& fn) = 0;
  // Runs `fn` on a consistent snapshot; changes made through it are an error. Blocks.
  virtual void read(const std::function<void(Transaction&)>& fn) = 0;

  // The same, completion style (see above). The defaults run the blocking forms on the
  // caller's thread (for stores used only in tests).
  virtual void write_async(std::function<void(Transaction&)> fn, Done done);
  virtual void read_async(std::function<void(Transaction&)> fn, Done done);

  // Cheap liveness probe.
  virtual bool healthy() = 0;

  // Whether the store can take a write now, and if not why, in words for people
  // ("the disk is full"): for /readyz. A backend may check its files and make a real
  // write to find out, so this blocks briefly: not for the listener's threads. The
  // default asks healthy().
  virtual StoreHealth health();

  // Why writes are known to fail now (the episode the store has logged), without checking
  // again; empty when they are not known to. For the "nothing was recorded" replies.
  virtual std::string trouble() { return {}; }
};

inline StoreHealth Store::health() {
  return healthy() ? StoreHealth{} : StoreHealth{false, "the store does not answer"};
}

struct StoreOptions {
  // SQLite only: "full" (survives power loss) or "normal" (survives kill -9).
  std::string sqlite_synchronous = "normal";
  // PostgreSQL only: read connections per process (plus one for the writer).
  int db_pool_size = 4;
};

// Opens the backend named by `location`: a file path (SQLite) or a postgresql:// URL.
// Applies pending migrations before returning. Throws StoreError when it cannot.
std::unique_ptr<Store> open_store(const std::string& location, const StoreOptions& options = {});

}  // namespace scribe
