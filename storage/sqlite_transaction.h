// SqliteTransaction: the Transaction interface over one Connection, for the length of one
// transaction that the store has begun (and will commit or roll back). Holds no state of
// its own beyond the connection; used by one thread at a time, like its connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/sqlite_connection.h"
#include "storage/store.h"

namespace scribe::sqlite {

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(Connection& connection, bool writable)
      : connection_(connection), writable_(writable) {}

  IncidentId insert_incident(const Incident& i) override;
  void update_incident(const Incident& i) override;
  std::optional<Incident> find_incident(IncidentId id) override;
  std::optional<Incident> current_incident(const ChannelRef& channel) override;
  std::optional<Incident> latest_incident(const ChannelRef& channel) override;
  std::vector<Incident> list_incidents(int limit) override;
  std::vector<Incident> list_incidents_before(IncidentId before, int limit) override;
  std::int64_t count_in_incident(IncidentId incident, IncidentPart part) override;
  TimelineEvent append_event(TimelineEvent event) override;
  std::optional<TimelineEvent> find_event(IncidentId incident, int seq) override;
  std::vector<TimelineEvent> events(IncidentId incident, bool include_deleted) override;
  void revise_event(const TimelineEvent& updated, const EventRevision& previous) override;
  std::vector<EventRevision> revisions(IncidentId incident) override;
  void set_channel_zone(const ChannelZone& setting) override;
  std::vector<ChannelZone> channel_zones(const ChannelRef& channel) override;
  void hold_alert(const ChannelRef& channel, const TimelineEvent& alert) override;
  std::vector<TimelineEvent> take_held_alerts(const ChannelRef& channel, Timestamp since) override;
  void add_approval(const Approval& approval) override;
  std::vector<Approval> approvals(IncidentId incident) override;
  std::optional<Publication> find_publication(IncidentId incident,
                                              std::string_view destination) override;
  void save_publication(const Publication& publication) override;
  std::vector<Publication> publications(IncidentId incident) override;
  Note add_note(Note note) override;
  std::vector<Note> notes(IncidentId incident) override;
  ActionItem add_action(ActionItem item) override;
  void update_action(const ActionItem& item) override;
  std::optional<ActionItem> find_action(IncidentId incident, int seq) override;
  std::vector<ActionItem> actions(IncidentId incident) override;
  void revise_action(const ActionItem& updated,
                     const std::vector<ActionRevision>& changes) override;
  std::vector<ActionRevision> action_revisions(IncidentId incident) override;
  std::vector<ActionItem> open_actions_owned_by(const Person& owner,
                                                std::string_view platform) override;
  void save_draft(IncidentId incident, Timestamp created_at, const std::string& markdown) override;
  std::optional<std::string> latest_draft(IncidentId incident) override;
  std::optional<DraftVersion> draft_version(IncidentId incident) override;
  std::vector<Incident> incidents_with_status(IncidentStatus status) override;
  std::vector<ActionItem> open_actions_with_due_date() override;
  std::vector<ActionItem> open_actions() override;
  std::optional<ActionItem> find_action_by_id(std::int64_t id) override;
  TrendsRows trends_rows(Timestamp since) override;
  TrendsRows cause_rows(IncidentId before) override;
  std::vector<ActionItem> find_actions(const std::optional<std::string>& owner,
                                       std::optional<ActionStatus> status, int limit) override;
  std::optional<ActionItem> find_action_by_tracker_key(std::string_view key) override;
  std::vector<ActionItem> open_tracked_actions(std::int64_t after, int limit) override;
  std::vector<Incident> incidents_resolved_between(Timestamp from, Timestamp to) override;
  std::int64_t enqueue(OutboxMessage message) override;
  std::optional<OutboxMessage> find_outbox(std::int64_t id) override;
  std::optional<OutboxMessage> find_outbox_by_key(std::string_view dedupe_key) override;
  std::vector<OutboxMessage> due_outbox(Timestamp now, int limit) override;
  std::vector<OutboxMessage> claim_outbox(Timestamp now, int limit, std::string_view owner,
                                          std::chrono::milliseconds lease) override;
  std::optional<Timestamp> next_outbox_attempt() override;
  void update_outbox(const OutboxMessage& message) override;
  std::int64_t count_outbox(OutboxStatus status) override;
  bool first_delivery(std::string_view source, std::string_view key, Timestamp at) override;
  bool first_delivery_until(std::string_view source, std::string_view key, Timestamp at,
                            Timestamp expires_at) override;
  std::optional<std::string> delivery_answer(std::string_view source,
                                             std::string_view key) override;
  void set_delivery_answer(std::string_view source, std::string_view key,
                           std::string_view answer) override;

  std::optional<std::string> stream_position(std::string_view stream) override;
  void set_stream_position(std::string_view stream, std::string_view position,
                           Timestamp at) override;

  // Removes up to `limit` delivery keys whose window closed before `now`, oldest first (the
  // store's maintenance); returns how many it removed.
  std::int64_t purge_expired_deliveries(Timestamp now, int limit);
  // The readiness probe: writes a 64 KiB row and deletes it (store_probe), so the commit
  // needs at least the log pages a command does (a /timeline line touches a dozen pages
  // across its table and indexes; a smaller probe fitted in the room a refused command
  // left and called a full disk ready).
  void probe();

 private:
  Stmt prepare(std::string_view sql) { return connection_.prepare(sql); }
  void require_writable() const {
    if (!writable_) throw StoreError("write attempted in a read-only transaction");
  }
  std::int64_t last_id() const { return sqlite3_last_insert_rowid(connection_.db()); }
  // The next per-incident number users refer to ("edit 3"); unique by the schema.
  int next_seq(std::string_view sql, IncidentId incident) {
    Stmt s = prepare(sql);
    s.bind(1, incident);
    s.step();
    return static_cast<int>(s.i64(0));
  }

  // The largest seq of the incident's events (0: none), looked up once per transaction.
  int last_event_seq(IncidentId incident);

  Connection& connection_;
  bool writable_;
  std::optional<std::pair<IncidentId, int>> last_event_seq_;
  // The rows first_delivery* inserted in this transaction, so that set_delivery_answer
  // finds them by rowid (a recent page) instead of by key: delivery keys are random (Slack
  // signatures), and a second lookup by key is a second random index page per command.
  struct InsertedDelivery {
    std::string source;
    std::string key;
    std::int64_t rowid;
  };
  std::vector<InsertedDelivery> inserted_deliveries_;
};

}  // namespace scribe::sqlite
