#include "storage/sqlite_schema.h"

#include <iterator>
#include <string_view>

namespace scribe::sqlite {
namespace {

// Versioned schema. A migration is never edited once released: add a new one.
// One migration: a short name for `scribe migrate --status`, and its SQL. Not an aggregate,
// so that an entry written as a bare SQL string does not compile (brace elision would
// otherwise pair it with the next entry's name).
struct Migration {
  constexpr Migration(std::string_view n, std::string_view s) : name(n), sql(s) {}
  std::string_view name;
  std::string_view sql;
};

constexpr Migration kMigrations[] = {
    // 1: incidents, timeline with audit trail, notes, action items, drafts.
    {"incidents, timeline and its audit trail, notes, action items, drafts", R"sql(
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  platform TEXT NOT NULL,
  workspace TEXT NOT NULL,
  channel TEXT NOT NULL,
  title TEXT NOT NULL,
  severity INTEGER NOT NULL,
  status TEXT NOT NULL,
  commander_id TEXT NOT NULL,
  commander_name TEXT NOT NULL,
  declared_at INTEGER NOT NULL,
  mitigated_at INTEGER,
  resolved_at INTEGER,
  closed_at INTEGER
);
CREATE INDEX incidents_by_channel ON incidents(platform, workspace, channel, id);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  author_id TEXT NOT NULL,
  author_name TEXT NOT NULL,
  text TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0,
  revision INTEGER NOT NULL DEFAULT 0,
  UNIQUE (incident_id, seq)
);
CREATE TABLE event_revisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id INTEGER NOT NULL REFERENCES events(id),
  revision INTEGER NOT NULL,
  change TEXT NOT NULL,
  kind TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  text TEXT NOT NULL,
  changed_by_id TEXT NOT NULL,
  changed_by_name TEXT NOT NULL,
  changed_at INTEGER NOT NULL
);
CREATE INDEX event_revisions_by_event ON event_revisions(event_id, revision);
CREATE TABLE notes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  section TEXT NOT NULL,
  text TEXT NOT NULL,
  author_id TEXT NOT NULL,
  author_name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX notes_by_incident ON notes(incident_id, id);
CREATE TABLE actions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  seq INTEGER NOT NULL,
  text TEXT NOT NULL,
  owner_id TEXT,
  owner_name TEXT,
  due TEXT,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  created_by_id TEXT NOT NULL,
  created_by_name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  done_at INTEGER,
  done_by_id TEXT,
  done_by_name TEXT,
  UNIQUE (incident_id, seq)
);
CREATE TABLE drafts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  created_at INTEGER NOT NULL,
  markdown TEXT NOT NULL
);
CREATE INDEX drafts_by_incident ON drafts(incident_id, id);
)sql"},
    // 2: the outbox of messages to send, and inbound deliveries already seen.
    {"outbox and inbound deliveries", R"sql(
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  platform TEXT NOT NULL,
  workspace TEXT NOT NULL,
  channel TEXT NOT NULL,
  content TEXT NOT NULL,
  thread_parent INTEGER REFERENCES outbox(id),
  dedupe_key TEXT,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  sent_at INTEGER,
  delivered_id TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX outbox_by_dedupe_key ON outbox(dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX outbox_pending ON outbox(status, next_attempt_at, id);
CREATE INDEX outbox_pending_by_channel ON outbox(status, platform, workspace, channel, id);
CREATE TABLE inbound_deliveries (
  source TEXT NOT NULL,
  key TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (source, key)
);
CREATE INDEX actions_open_due ON actions(status, due);
)sql"},
    // 3: reminders: snoozed action items, and incidents by resolution time (follow-ups).
    {"reminders: snoozed action items, incidents by resolution time", R"sql(
ALTER TABLE actions ADD COLUMN snoozed_until INTEGER;
CREATE INDEX incidents_by_resolved_at ON incidents(resolved_at) WHERE resolved_at IS NOT NULL;
)sql"},
    // 4: typed outbox jobs. Before, a fetch was queued for a made-up platform
    // ("slack-fetch", "matrix-fetch"), a join was a post whose content was {"join": room},
    // and an update a post whose content named the message it `replaces`.
    {"typed outbox jobs", R"sql(
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'post';
UPDATE outbox SET kind = 'fetch', platform = substr(platform, 1, length(platform) - 6)
  WHERE platform LIKE '%-fetch';
UPDATE outbox SET kind = 'join'
  WHERE kind = 'post' AND json_valid(content) AND json_type(content, '$.join') IS NOT NULL;
UPDATE outbox SET kind = 'update'
  WHERE kind = 'post' AND json_valid(content) AND json_type(content, '$.replaces') = 'text'
    AND json_extract(content, '$.replaces') != '';
)sql"},
    // 5: action items' life: a dropped item's reason, the audit trail of changes, and
    // owners' open items across incidents (`/action mine`).
    {"action items' life: drop reasons, audit trail, owners' items", R"sql(
ALTER TABLE actions ADD COLUMN drop_reason TEXT;
CREATE TABLE action_revisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  action_id INTEGER NOT NULL REFERENCES actions(id),
  field TEXT NOT NULL,
  before TEXT NOT NULL,
  after TEXT NOT NULL,
  changed_by_id TEXT NOT NULL,
  changed_by_name TEXT NOT NULL,
  changed_at INTEGER NOT NULL
);
CREATE INDEX action_revisions_by_action ON action_revisions(action_id, id);
CREATE INDEX actions_by_owner ON actions(owner_id, owner_name) WHERE status = 'open';
)sql"},
    // 6: the postmortem owner, when someone other than the commander was named (NULL: the
    // commander, as before).
    {"postmortem owner", R"sql(
ALTER TABLE incidents ADD COLUMN postmortem_owner_id TEXT;
ALTER TABLE incidents ADD COLUMN postmortem_owner_name TEXT;
)sql"},
    // 7: the postmortem's own life: draft, in review, final; approvals; a close over the
    // close gate's objections and its reason.
    {"postmortem status, approvals, close over the gate", R"sql(
ALTER TABLE incidents ADD COLUMN postmortem_status TEXT NOT NULL DEFAULT 'draft';
ALTER TABLE incidents ADD COLUMN closed_anyway TEXT;
CREATE TABLE postmortem_approvals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  by_id TEXT NOT NULL,
  by_name TEXT NOT NULL,
  approved_at INTEGER NOT NULL
);
CREATE INDEX postmortem_approvals_by_incident ON postmortem_approvals(incident_id, id);
)sql"},
    // 8: replays. A signed
    // request's key lives until its replay window closes (expires_at, then purged), with
    // the answer it got, so a replay is answered the same and changes nothing.
    {"replay keys with expiry and answers", R"sql(
ALTER TABLE inbound_deliveries ADD COLUMN expires_at INTEGER;
ALTER TABLE inbound_deliveries ADD COLUMN answer TEXT;
CREATE INDEX inbound_deliveries_expiring ON inbound_deliveries(expires_at)
  WHERE expires_at IS NOT NULL;
)sql"},
    // 9: channel time zones (`/incident tz`), every setting kept as the audit trail; the
    // latest one of a channel is in force.
    {"channel time zones", R"sql(
CREATE TABLE channel_zones (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  platform TEXT NOT NULL,
  workspace TEXT NOT NULL,
  channel TEXT NOT NULL,
  zone TEXT NOT NULL,
  set_by_id TEXT NOT NULL,
  set_by_name TEXT NOT NULL,
  set_at INTEGER NOT NULL
);
CREATE INDEX channel_zones_by_channel ON channel_zones(platform, workspace, channel, id);
)sql"},
    // 10: links kept with an event (a pinned message's permalink, its files and images), as
    // a JSON array [{"kind", "title", "url"}]; NULL when there are none.
    {"links kept with timeline events", R"sql(
ALTER TABLE events ADD COLUMN links TEXT;
)sql"},
    // 11: issue trackers: the issue that tracks an action item (its key and web address), so a
    // tracker's webhook can find the item by key.
    {"issue tracker keys of action items", R"sql(
ALTER TABLE actions ADD COLUMN tracker_key TEXT;
ALTER TABLE actions ADD COLUMN tracker_url TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX actions_by_tracker_key ON actions(tracker_key) WHERE tracker_key IS NOT NULL;
)sql"},
    // 12: alerts that arrived for a channel with no incident open, until one is declared.
    {"alerts held for channels without an incident", R"sql(
CREATE TABLE held_alerts (
  id INTEGER PRIMARY KEY,
  platform TEXT NOT NULL,
  workspace TEXT NOT NULL,
  channel TEXT NOT NULL,
  kind TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  author_id TEXT NOT NULL,
  author_name TEXT NOT NULL,
  text TEXT NOT NULL,
  links TEXT
);
CREATE INDEX held_alerts_by_channel ON held_alerts(platform, workspace, channel, occurred_at);
CREATE INDEX held_alerts_by_age ON held_alerts(received_at);
)sql"},
    // 13: positions of inbound streams Scribe pulls (a Matrix bot account's sync token),
    // written in the same transaction as the effects of what was read up to them.
    {"positions of pulled inbound streams", R"sql(
CREATE TABLE stream_positions (
  stream TEXT PRIMARY KEY,
  position TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
)sql"},
    // 14: where each incident's postmortem was published, one page per destination.
    {"publications of postmortems", R"sql(
CREATE TABLE publications (
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  destination TEXT NOT NULL,
  remote_id TEXT NOT NULL,
  url TEXT NOT NULL,
  version INTEGER NOT NULL,
  content_sha TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  PRIMARY KEY (incident_id, destination)
);
)sql"},
    // 15: the readiness probe's scratch row: written and deleted in one transaction, so a
    // probe needs the room a small command needs, and leaves nothing behind.
    {"readiness probe scratch table", R"sql(
CREATE TABLE store_probe (id INTEGER PRIMARY KEY, pad BLOB NOT NULL);
)sql"},
    // 16: outbox claims of replicas sharing a database (Transaction::claim_outbox): who
    // took a job and until when. A single SQLite process never sets them.
    {"outbox claims", R"sql(
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claim_expires_at INTEGER;
)sql"},
    // 17: a job whose delivery may have happened unrecorded (OutboxMessage::in_doubt).
    {"outbox jobs in doubt", R"sql(
ALTER TABLE outbox ADD COLUMN in_doubt INTEGER NOT NULL DEFAULT 0;
)sql"},
    // 18: draft versions. What the API's cached drafts are checked against (bot/draft_cache.h):
    // a number per incident that every change to what its postmortem is made from raises, in
    // the changing statement's own transaction (triggers, so no write path can forget it);
    // the row of incident 0 stands for what every incident's "related incidents" are made
    // from (other incidents' cause notes, fields and open items). A new event needs no
    // trigger: it always takes the incident's next number (append_event), so the highest
    // event number, read beside these, moves with it; the one trigger on inserts raises the
    // version only for an event that would not move it. Plain UPDATEs: a row that is missing
    // stays missing, and then the store reports no version and nothing is served from a cache.
    {"draft versions for cached drafts", R"sql(
CREATE TABLE draft_versions (
  incident_id INTEGER PRIMARY KEY,
  version INTEGER NOT NULL
);
INSERT INTO draft_versions (incident_id, version) SELECT id, 1 FROM incidents;
INSERT INTO draft_versions (incident_id, version) VALUES (0, 1);
CREATE TRIGGER draft_versions_incident_insert AFTER INSERT ON incidents BEGIN
  INSERT INTO draft_versions (incident_id, version) VALUES (NEW.id, 1)
    ON CONFLICT (incident_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER draft_versions_incident_update AFTER UPDATE ON incidents BEGIN
  UPDATE draft_versions SET version = version + 1 WHERE incident_id IN (NEW.id, OLD.id)
    OR (incident_id = 0 AND EXISTS (SELECT 1 FROM notes WHERE incident_id IN (NEW.id, OLD.id)
                                                          AND section = 'cause'));
END;
CREATE TRIGGER draft_versions_incident_delete AFTER DELETE ON incidents BEGIN
  UPDATE draft_versions SET version = version + 1 WHERE incident_id IN (OLD.id, 0);
END;
CREATE TRIGGER draft_versions_event_insert AFTER INSERT ON events
WHEN NEW.seq < (SELECT MAX(seq) FROM events WHERE incident_id = NEW.incident_id) BEGIN
  UPDATE draft_versions SET version = version + 1 WHERE incident_id = NEW.incident_id;
END;
CREATE TRIGGER draft_versions_event_update AFTER UPDATE ON events BEGIN
  UPDATE draft_versions SET version = version + 1
    WHERE incident_id IN (NEW.incident_id, OLD.incident_id);
END;
CREATE TRIGGER draft_versions_event_delete AFTER DELETE ON events BEGIN
  UPDATE draft_versions SET version = version + 1 WHERE incident_id = OLD.incident_id;
END;
CREATE TRIGGER draft_versions_note_insert AFTER INSERT ON notes BEGIN
  UPDATE draft_versions SET version = version + 1
    WHERE incident_id = NEW.incident_id OR (incident_id = 0 AND NEW.section = 'cause');
END;
CREATE TRIGGER draft_versions_note_update AFTER UPDATE ON notes BEGIN
  UPDATE draft_versions SET version = version + 1
    WHERE incident_id IN (NEW.incident_id, OLD.incident_id)
       OR (incident_id = 0 AND 'cause' IN (NEW.section, OLD.section));
END;
CREATE TRIGGER draft_versions_note_delete AFTER DELETE ON notes BEGIN
  UPDATE draft_versions SET version = version + 1
    WHERE incident_id = OLD.incident_id OR (incident_id = 0 AND OLD.section = 'cause');
END;
CREATE TRIGGER draft_versions_action_insert AFTER INSERT ON actions BEGIN
  UPDATE draft_versions SET version = version + 1 WHERE incident_id = NEW.incident_id
    OR (incident_id = 0 AND EXISTS (SELECT 1 FROM notes WHERE incident_id = NEW.incident_id
                                                          AND section = 'cause'));
END;
CREATE TRIGGER draft_versions_action_update AFTER UPDATE ON actions BEGIN
  UPDATE draft_versions SET version = version + 1
    WHERE incident_id IN (NEW.incident_id, OLD.incident_id)
       OR (incident_id = 0 AND EXISTS (SELECT 1 FROM notes
                                       WHERE incident_id IN (NEW.incident_id, OLD.incident_id)
                                         AND section = 'cause'));
END;
CREATE TRIGGER draft_versions_action_delete AFTER DELETE ON actions BEGIN
  UPDATE draft_versions SET version = version + 1 WHERE incident_id = OLD.incident_id
    OR (incident_id = 0 AND EXISTS (SELECT 1 FROM notes WHERE incident_id = OLD.incident_id
                                                          AND section = 'cause'));
END;
CREATE TRIGGER draft_versions_action_revision_insert AFTER INSERT ON action_revisions BEGIN
  UPDATE draft_versions SET version = version + 1
    WHERE incident_id IN (SELECT incident_id FROM actions WHERE id = NEW.action_id);
END;
CREATE TRIGGER draft_versions_action_revision_update AFTER UPDATE ON action_revisions BEGIN
  UPDATE draft_versions SET version = version + 1
    WHERE incident_id IN (SELECT incident_id FROM actions WHERE id IN (NEW.action_id, OLD.action_id));
END;
CREATE TRIGGER draft_versions_action_revision_delete AFTER DELETE ON action_revisions BEGIN
  UPDATE draft_versions SET version = version + 1
    WHERE incident_id IN (SELECT incident_id FROM actions WHERE id = OLD.action_id);
END;
CREATE TRIGGER draft_versions_approval_insert AFTER INSERT ON postmortem_approvals BEGIN
  UPDATE draft_versions SET version = version + 1 WHERE incident_id = NEW.incident_id;
END;
CREATE TRIGGER draft_versions_approval_update AFTER UPDATE ON postmortem_approvals BEGIN
  UPDATE draft_versions SET version = version + 1
    WHERE incident_id IN (NEW.incident_id, OLD.incident_id);
END;
CREATE TRIGGER draft_versions_approval_delete AFTER DELETE ON postmortem_approvals BEGIN
  UPDATE draft_versions SET version = version + 1 WHERE incident_id = OLD.incident_id;
END;
CREATE TRIGGER draft_versions_zone_insert AFTER INSERT ON channel_zones BEGIN
  UPDATE draft_versions SET version = version + 1 WHERE incident_id IN (
    SELECT id FROM incidents
    WHERE platform = NEW.platform AND workspace = NEW.workspace AND channel = NEW.channel);
END;
CREATE TRIGGER draft_versions_zone_update AFTER UPDATE ON channel_zones BEGIN
  UPDATE draft_versions SET version = version + 1 WHERE incident_id IN (
    SELECT id FROM incidents
    WHERE (platform = NEW.platform AND workspace = NEW.workspace AND channel = NEW.channel)
       OR (platform = OLD.platform AND workspace = OLD.workspace AND channel = OLD.channel));
END;
CREATE TRIGGER draft_versions_zone_delete AFTER DELETE ON channel_zones BEGIN
  UPDATE draft_versions SET version = version + 1 WHERE incident_id IN (
    SELECT id FROM incidents
    WHERE platform = OLD.platform AND workspace = OLD.workspace AND channel = OLD.channel);
END;
)sql"},
};

}  // namespace

int latest_schema_version() { return static_cast<int>(std::size(kMigrations)); }

std::string_view migration_name(int version) {
  if (version < 1 || version > latest_schema_version()) return {};
  return kMigrations[version - 1].name;
}

void migrate(Connection& c) {
  c.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "applied_at INTEGER NOT NULL)");
  c.exec("BEGIN IMMEDIATE");
  try {
    std::int64_t current = 0;
    {
      Stmt s = c.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      if (s.step()) current = s.i64(0);
    }
    const auto known = static_cast<std::int64_t>(std::size(kMigrations));
    if (current > known) {
      throw StoreError(fmt::format("database schema version {} is newer than this build knows ({})",
                                   current, known));
    }
    for (std::int64_t v = current + 1; v <= known; ++v) {
      c.exec(std::string(kMigrations[v - 1].sql));
      Stmt s = c.prepare(
          "INSERT INTO schema_migrations (version, applied_at) VALUES (?, "
          "CAST(strftime('%s','now') AS INTEGER))");
      s.bind(1, v).run();
    }
    c.exec("COMMIT");
  } catch (...) {
    c.exec_quietly("ROLLBACK");
    throw;
  }
}

}  // namespace scribe::sqlite
