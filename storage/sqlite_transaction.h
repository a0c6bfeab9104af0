// SqliteTransaction: the Transaction interface over one Connection, for the length of one
// transaction that the store has begun (and will commit or roll back); used by one thread
// at a time, like its connection. On the writer connection it may also use the writer's
// memo (WriterMemo) of what the writer alone can change.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/sqlite_connection.h"
#include "storage/store.h"

namespace scribe::sqlite {

// What the writer connection remembers between its writes, so that a command does not read
// again what no one else can have changed: each channel's current incident (as
// current_incident answers) and time zone settings, and each incident's largest event
// number. One process owns a SQLite database and only its writer connection writes, so the
// memo stays exact as long as whoever owns it forgets (SqliteStore, on the writer thread):
// - the incidents when a row of `incidents` changes, the zones when one of `channel_zones`
//   does, and the numbers when one of `events` does (SQLite's update hook on the writer
//   connection, which sees every row a statement or a trigger writes);
// - everything when a savepoint or the transaction is rolled back (what was remembered in
//   it may be gone), and when another connection has committed (PRAGMA data_version: a tool
//   writing to the file around the server).
// Bounded: a memo that grows past kMaxEntries entries is forgotten whole.
class WriterMemo {
 public:
  static constexpr std::size_t kMaxEntries = 4096;

  // The channel's current incident (nullopt inside: it has none); null when not known.
  const std::optional<Incident>* current_incident(const ChannelRef& channel) const {
    const auto it = incidents_.find(channel);
    return it == incidents_.end() ? nullptr : &it->second;
  }
  void remember_current_incident(const ChannelRef& channel, const std::optional<Incident>& i) {
    if (incidents_.size() >= kMaxEntries) incidents_.clear();
    incidents_.insert_or_assign(channel, i);
  }
  const std::vector<ChannelZone>* channel_zones(const ChannelRef& channel) const {
    const auto it = zones_.find(channel);
    return it == zones_.end() ? nullptr : &it->second;
  }
  void remember_channel_zones(const ChannelRef& channel, const std::vector<ChannelZone>& zones) {
    if (zones_.size() >= kMaxEntries) zones_.clear();
    zones_.insert_or_assign(channel, zones);
  }
  std::optional<int> last_event_seq(IncidentId incident) const {
    const auto it = seqs_.find(incident);
    if (it == seqs_.end()) return std::nullopt;
    return it->second;
  }
  void remember_last_event_seq(IncidentId incident, int seq) {
    if (seqs_.size() >= kMaxEntries) seqs_.clear();
    seqs_.insert_or_assign(incident, seq);
  }

  void forget_incidents() { incidents_.clear(); }
  void forget_channel_zones() { zones_.clear(); }
  void forget_event_seqs() { seqs_.clear(); }
  void forget() {
    forget_incidents();
    forget_channel_zones();
    forget_event_seqs();
  }
  bool empty() const { return incidents_.empty() && zones_.empty() && seqs_.empty(); }

 private:
  struct ChannelLess {
    bool operator()(const ChannelRef& a, const ChannelRef& b) const {
      return std::tie(a.channel, a.workspace, a.platform) <
             std::tie(b.channel, b.workspace, b.platform);
    }
  };
  std::map<ChannelRef, std::optional<Incident>, ChannelLess> incidents_;
  std::map<ChannelRef, std::vector<ChannelZone>, ChannelLess> zones_;
  std::unordered_map<IncidentId, int> seqs_;
};

class SqliteTransaction final : public Transaction {
 public:
  // `memo`: the writer's, for a writable transaction on the writer connection; null
  // elsewhere (readers, tools).
  SqliteTransaction(Connection& connection, bool writable, WriterMemo* memo = nullptr)
      : connection_(connection), writable_(writable), memo_(memo) {}

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

  // The largest seq of the incident's events (0: none), looked up once per transaction, or
  // once while the writer's memo keeps it.
  int last_event_seq(IncidentId incident);
  void remember_last_event_seq(IncidentId incident, int seq) {
    last_event_seq_ = {incident, seq};
    if (memo_ != nullptr) memo_->remember_last_event_seq(incident, seq);
  }

  Connection& connection_;
  bool writable_;
  WriterMemo* memo_;
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
