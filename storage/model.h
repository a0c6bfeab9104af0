// The incident record as every layer sees it: plain values, no platform types.
// Adapters translate platform identities into `Person`/`ChannelRef` before anything
// reaches commands/, storage/ or postmortem/.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scribe {

// Millisecond precision is kept in storage; drafts show seconds.
using Timestamp = std::chrono::sys_time<std::chrono::milliseconds>;
using IncidentId = std::int64_t;

// A chat user as the platform named them. `id` is stable (Slack U123, Matrix @a:b);
// `name` is what humans read and may change.
struct Person {
  std::string id;
  std::string name;
  bool operator==(const Person&) const = default;
};

// Where an incident lives: a Slack channel or a Matrix room.
struct ChannelRef {
  std::string platform;   // "slack", "matrix"
  std::string workspace;  // Slack team id; Matrix homeserver; may be empty
  std::string channel;    // channel / room id
  bool operator==(const ChannelRef&) const = default;
};

enum class Severity { kSev1 = 1, kSev2 = 2, kSev3 = 3, kSev4 = 4 };

enum class IncidentStatus { kOpen, kMitigated, kResolved, kClosed };

// Where the postmortem document stands, apart from the incident: written (draft), handed
// to reviewers (`/incident review request`), approved (final).
enum class PostmortemStatus { kDraft, kInReview, kFinal };

struct Incident {
  IncidentId id = 0;
  ChannelRef channel;
  std::string title;
  Severity severity = Severity::kSev3;
  IncidentStatus status = IncidentStatus::kOpen;
  Person commander;
  Timestamp declared_at{};
  std::optional<Timestamp> mitigated_at;
  std::optional<Timestamp> resolved_at;
  std::optional<Timestamp> closed_at;
  // Who sees the postmortem through to the end, when someone other than the commander was
  // named. Unset means the commander (see postmortem_owner_of).
  std::optional<Person> postmortem_owner;
  PostmortemStatus postmortem_status = PostmortemStatus::kDraft;
  // Set when the commander closed the incident over the close gate's objections
  // (`/incident close anyway <reason>`): the reason they gave.
  std::optional<std::string> closed_anyway;
};

// Someone other than the commander and the postmortem owner approved the postmortem.
// A channel's time zone as set with `/incident tz`: the latest setting is the channel's
// zone; earlier ones stay as its audit trail.
struct ChannelZone {
  ChannelRef channel;
  std::string zone;  // an IANA name, validated by whoever set it
  Person set_by;
  Timestamp set_at{};
  bool operator==(const ChannelZone&) const = default;
};

// Where an incident's postmortem was published (commands/publishing.h): one page per
// incident and destination, updated in place.
struct Publication {
  IncidentId incident_id = 0;
  std::string destination;   // "confluence", "git"
  std::string remote_id;     // the destination's id of the page or file (Confluence page id,
                             // the file's path)
  std::string url;           // where people read it
  std::int64_t version = 0;  // the destination's version or revision last written
  std::string content_sha;   // SHA-256 of what was last written: an unchanged draft is not
                             // written again
  Timestamp published_at{};
  bool operator==(const Publication&) const = default;
};

struct Approval {
  IncidentId incident_id = 0;
  Person by;
  Timestamp at{};
  bool operator==(const Approval&) const = default;
};

// The postmortem owner in effect: the one named, else the commander. Empty (no id, no
// name) only when neither is known.
const Person& postmortem_owner_of(const Incident& i);

// What a timeline entry records. Milestones are written by /incident commands; the
// typed kinds (#detected, #alert, …) feed the draft's key durations.
enum class EventKind {
  kNote,
  kDetected,
  kAlert,
  kAction,
  kComms,
  kImpact,
  kDeclared,
  kSeverityChanged,
  kCommanderChanged,
  kMitigated,
  kResolved,
  kReopened,
  kClosed,
};

bool is_milestone(EventKind kind);

// A link kept with a timeline event: the chat message it came from (a pinned or 📌
// message), or a file or image that message carried. Adapters keep only http(s) URLs.
struct EventLink {
  enum class Kind { kMessage, kFile, kImage };
  Kind kind = Kind::kMessage;
  std::string title;  // the file's name; empty for kMessage
  std::string url;
  bool operator==(const EventLink&) const = default;
};

struct TimelineEvent {
  std::int64_t id = 0;  // global row id
  IncidentId incident_id = 0;
  int seq = 0;  // per-incident number users refer to ("edit 3")
  EventKind kind = EventKind::kNote;
  Timestamp occurred_at{};  // when it happened (may be backdated)
  Timestamp recorded_at{};  // when Scribe was told
  Person author;
  std::string text;
  bool deleted = false;
  int revision = 0;              // 0 = as first recorded; each edit/delete adds one
  std::vector<EventLink> links;  // the message's permalink, its files; kept through edits
};

// The audit trail: every edit or deletion stores what the event looked like before.
struct EventRevision {
  std::int64_t event_id = 0;
  int seq = 0;
  int revision = 0;    // the revision that was replaced
  std::string change;  // "edit" or "delete"
  EventKind kind = EventKind::kNote;
  Timestamp occurred_at{};
  std::string text;
  Person changed_by;
  Timestamp changed_at{};
};

// Postmortem notes, repeatable per section.
enum class NoteSection {
  kSummary,
  kImpact,
  kCause,
  kWhy,
  kWentWell,
  kWentWrong,
  kLucky,
  kLesson,
  // The remaining sections of a complete postmortem (stored by name, like the others).
  kTrigger,     // what set it off: the deploy, the config push, the traffic surge
  kDetection,   // how it was noticed: which alert, which customer report
  kResolution,  // what ended it
  kLink,        // supporting material: dashboards, tickets, chat threads
};

struct Note {
  std::int64_t id = 0;
  IncidentId incident_id = 0;
  NoteSection section = NoteSection::kSummary;
  std::string text;
  Person author;
  Timestamp created_at{};
};

// Google's action item kinds; kNone when the author gave none (the draft flags it).
enum class ActionKind { kNone, kDetect, kMitigate, kPrevent, kProcess };

// kDropped: "won't do", decided and explained (ActionItem::drop_reason); never reminded.
enum class ActionStatus { kOpen, kDone, kDropped };

struct ActionItem {
  std::int64_t id = 0;
  IncidentId incident_id = 0;
  int seq = 0;
  std::string text;
  std::optional<Person> owner;
  std::optional<std::string> due;  // YYYY-MM-DD, a calendar date in the incident's zone
  ActionKind kind = ActionKind::kNone;
  ActionStatus status = ActionStatus::kOpen;
  Person created_by;
  Timestamp created_at{};
  std::optional<Timestamp> done_at;
  std::optional<Person> done_by;
  // "Snooze": no reminder about this item is sent before this instant.
  std::optional<Timestamp> snoozed_until;
  // Why it won't be done; set while the status is kDropped.
  std::optional<std::string> drop_reason;
  // The issue that tracks this item in the team's issue tracker, once one was created:
  // the tracker's key for it ("OPS-12", "#34") and its web address. Set by the tracker
  // extension (trackers/); the core only stores and shows them.
  std::optional<std::string> tracker_key;
  std::string tracker_url;
};

// The action items' audit trail: each change to an item after it was added, one field at
// a time, with the value before and after as people read them.
struct ActionRevision {
  std::int64_t action_id = 0;
  int seq = 0;         // the item's number in its incident
  std::string field;   // "text", "owner", "due", "kind" or "status"
  std::string before;  // "" when the field was empty ("no owner")
  std::string after;
  Person changed_by;
  Timestamp changed_at{};
};

// A job in the outbox: something Scribe decided to do on a platform (post a message,
// replace one, read a marked message back, join a room), kept in the store until it is
// done, so that a restart or an outage of the platform never loses it. The outbox hands it
// to the deliverer registered for (channel.platform, kind).
enum class OutboxStatus { kPending, kSent, kFailed };

enum class JobKind {
  kPost,    // post `content`, an OutgoingMessage (commands/outgoing.h), as a new message
  kUpdate,  // replace the earlier message OutgoingMessage::replaces names with `content`
  kFetch,   // read a marked message back and record it; `content` is the adapter's own
  kJoin,    // join channel.channel (the bot was invited); `content` is unused
  // post `content` (an OutgoingMessage) to a person directly (Slack DM, Matrix direct
  // room): channel.channel is the person's platform id, channel.workspace theirs too
  kDirect,
  // Issue-tracker jobs (channel.platform is kTrackerPlatform; commands/tracking.h):
  kTrackCreate,   // create the issue for an action item; `content` names the item
  kTrackState,    // close or reopen that issue; `content` names the item and the state
  kTrackRefresh,  // read the state back and apply it (the periodic fallback)
  // Publish an incident's postmortem to a destination (channel.platform is
  // kPublishPlatform, channel.workspace the destination; commands/publishing.h).
  kPublish,
};

struct OutboxMessage {
  std::int64_t id = 0;
  ChannelRef channel;
  JobKind kind = JobKind::kPost;
  std::string content;
  // Another outbox message this one replies under (a thread); sent only after it.
  std::optional<std::int64_t> thread_parent;
  // Enqueueing the same non-empty key twice keeps the first: reminders use it so that a
  // restart between "due" and "sent" still sends once.
  std::string dedupe_key;
  OutboxStatus status = OutboxStatus::kPending;
  int attempts = 0;
  Timestamp created_at{};
  Timestamp next_attempt_at{};
  std::optional<Timestamp> sent_at;
  std::string delivered_id;  // the platform's id of the posted message (Slack ts)
  std::string last_error;
  // A delivery of this job may have reached the platform without being recorded: a sender
  // died holding its claim, or a post got no answer. The deliverer then looks for the
  // message (by a marker it posts with) before it posts again, so it appears once.
  bool in_doubt = false;
  // Not stored: set by the outbox's sender when `thread_parent` was given up, so this
  // reply goes to the channel on its own, marked as such (see mark_thread_parent_lost).
  bool thread_parent_lost = false;
};

// Stable lower-case names used in storage, JSON and commands ("sev1", "went-well", …).
std::string_view to_string(Severity s);
std::string_view to_string(IncidentStatus s);
std::string_view to_string(PostmortemStatus s);  // "draft", "in_review", "final"
std::string_view to_string(EventKind k);
std::string_view to_string(EventLink::Kind k);  // "message", "file", "image"
std::optional<EventLink::Kind> event_link_kind_from_string(std::string_view s);
std::string_view to_string(NoteSection s);
std::string_view to_string(ActionKind k);
std::string_view to_string(ActionStatus s);
std::string_view to_string(OutboxStatus s);
std::string_view to_string(JobKind k);
std::optional<Severity> severity_from_string(std::string_view s);  // "sev1", "SEV-1", "1"
std::optional<IncidentStatus> incident_status_from_string(std::string_view s);
std::optional<PostmortemStatus> postmortem_status_from_string(std::string_view s);
std::optional<EventKind> event_kind_from_string(std::string_view s);
std::optional<NoteSection> note_section_from_string(std::string_view s);
std::optional<ActionKind> action_kind_from_string(std::string_view s);
std::optional<ActionStatus> action_status_from_string(std::string_view s);
std::optional<OutboxStatus> outbox_status_from_string(std::string_view s);
std::optional<JobKind> job_kind_from_string(std::string_view s);

// "INC-42": how people refer to incidents in chat.
std::string incident_ref(IncidentId id);
// Accepts "42", "INC-42", "inc-42".
std::optional<IncidentId> parse_incident_ref(std::string_view s);

}  // namespace scribe
