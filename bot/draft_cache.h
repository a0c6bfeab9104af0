// DraftCache: postmortems the API rendered (postmortem.md, .html, .json), kept so that
// reading an unchanged draft again costs a lookup instead of a render (a 1,000-event
// draft through the default template is about 4 ms of CPU).
//
// Never stale, by what an entry is checked against on every read:
// - the incident's DraftVersion (storage/store.h), read from the store in the request's
//   own read: triggers raise it in the same transaction as any change to what the draft is
//   made from, whichever code path or replica made it; an entry made at another version is
//   never served. The `related` number counts only for a draft that lists related
//   incidents (one with a cause note): other drafts do not depend on other incidents.
// - the clock: a draft also depends on when it is made. While an incident is not resolved
//   its durations run to "now", so its entry is fresh until the next whole second (the
//   precision the draft shows); after that only the review's due-date horizon moves, by
//   UTC day, so the entry is fresh until the next UTC midnight. A served draft keeps the
//   "drafted at" time of when it was made.
//
// Bounded: entries take at most `byte_budget` bytes (bodies plus a fixed overhead each);
// the least recently used go first, and a body larger than the whole budget is not kept.
// A budget of 0 keeps nothing.
//
// Thread-safe: any thread may call any method; one mutex guards the index, and bodies are
// shared immutable strings, copied by the caller outside the lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/model.h"
#include "storage/store.h"

namespace scribe {

enum class DraftFormat { kMarkdown, kHtml, kJson };

class DraftCache {
 public:
  struct Entry {
    DraftVersion version;
    bool uses_related = false;  // lists related incidents: version.related counts too
    Timestamp drafted_at{};     // the `now` it was made at
    Timestamp fresh_until{};    // served while drafted_at <= now < fresh_until
    std::string etag;           // quoted, as sent in the ETag header
    std::string content_type;
    std::string body;
  };

  struct Stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t evictions = 0;  // made room for newer entries
    std::size_t entries = 0;
    std::size_t bytes = 0;
  };

  // api.draft_cache_bytes by default: room for the three formats of a 10,000-event draft,
  // or for dozens of ordinary ones.
  static constexpr std::size_t kDefaultBudget = 8u << 20;
  // What an entry costs beyond its body and tag (the index and the list node, roughly).
  static constexpr std::size_t kEntryOverhead = 256;

  explicit DraftCache(std::size_t byte_budget) : budget_(byte_budget) {}

  // The entry of (incident, format) if it was made at `version` and is fresh at `now`
  // (counted as a hit), else null (a miss; a stale entry found is dropped).
  std::shared_ptr<const Entry> find(IncidentId incident, DraftFormat format,
                                    const DraftVersion& version, Timestamp now);
  // Keeps `entry` as the newest of (incident, format), replacing what was there, then
  // evicts the least recently used entries until the budget holds.
  void put(IncidentId incident, DraftFormat format, std::shared_ptr<const Entry> entry);

  Stats stats() const;
  std::size_t budget() const { return budget_; }

  // When a draft made at `now` stops being fresh: the next whole second while the incident
  // is ongoing, else the next UTC midnight.
  static Timestamp fresh_until(Timestamp now, bool ongoing);
  // The ETag of an entry: unique per incident, format, version and drafting time.
  static std::string etag(IncidentId incident, DraftFormat format, const DraftVersion& version,
                          bool uses_related, Timestamp drafted_at);
  // Whether an If-None-Match header value names `etag` (weak comparison, as RFC 9110
  // requires for If-None-Match; "*" names any).
  static bool none_match_names(std::string_view if_none_match, std::string_view etag);

 private:
  struct Key {
    IncidentId incident;
    DraftFormat format;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::int64_t>{}(k.incident * 4 + static_cast<std::int64_t>(k.format));
    }
  };
  struct Slot {
    Key key;
    std::shared_ptr<const Entry> entry;
    std::size_t bytes;
  };
  using Lru = std::list<Slot>;  // most recently used first

  static std::size_t cost(const Entry& e) {
    return e.body.size() + e.etag.size() + e.content_type.size() + kEntryOverhead;
  }
  void erase(Lru::iterator it);  // mu_ held

  const std::size_t budget_;
  mutable std::mutex mu_;
  Lru lru_;
  std::unordered_map<Key, Lru::iterator, KeyHash> index_;
  std::size_t bytes_ = 0;
  Stats counts_;  // hits, misses, evictions
};

}  // namespace scribe
