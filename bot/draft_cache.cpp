#include "bot/draft_cache.h"

#include <chrono>

#include <date/date.h>
#include <fmt/format.h>

namespace scribe {

std::shared_ptr<const DraftCache::Entry> DraftCache::find(IncidentId incident, DraftFormat format,
                                                          const DraftVersion& version,
                                                          Timestamp now) {
  std::lock_guard lock(mu_);
  const auto it = index_.find(Key{incident, format});
  if (it == index_.end()) {
    ++counts_.misses;
    return nullptr;
  }
  const Entry& e = *it->second->entry;
  const bool same_version = e.version.incident == version.incident &&
                            e.version.events == version.events &&
                            (!e.uses_related || e.version.related == version.related);
  // A clock that went back (drafted_at in the future) is not trusted either.
  const bool fresh = e.drafted_at <= now && now < e.fresh_until;
  if (!same_version || !fresh) {
    erase(it->second);
    ++counts_.misses;
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  ++counts_.hits;
  return lru_.front().entry;
}

void DraftCache::put(IncidentId incident, DraftFormat format, std::shared_ptr<const Entry> entry) {
  if (!entry) return;
  const std::size_t bytes = cost(*entry);
  std::lock_guard lock(mu_);
  const Key key{incident, format};
  if (const auto it = index_.find(key); it != index_.end()) erase(it->second);
  if (bytes > budget_) return;  // would push out everything and still not fit
  while (bytes_ + bytes > budget_ && !lru_.empty()) {
    erase(std::prev(lru_.end()));
    ++counts_.evictions;
  }
  lru_.push_front(Slot{key, std::move(entry), bytes});
  index_[key] = lru_.begin();
  bytes_ += bytes;
}

DraftCache::Stats DraftCache::stats() const {
  std::lock_guard lock(mu_);
  Stats s = counts_;
  s.entries = lru_.size();
  s.bytes = bytes_;
  return s;
}

void DraftCache::erase(Lru::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(it->key);
  lru_.erase(it);
}

Timestamp DraftCache::fresh_until(Timestamp now, bool ongoing) {
  if (ongoing) {
    return std::chrono::floor<std::chrono::seconds>(now) + std::chrono::seconds{1};
  }
  return date::floor<date::days>(now) + date::days{1};
}

std::string DraftCache::etag(IncidentId incident, DraftFormat format, const DraftVersion& version,
                             bool uses_related, Timestamp drafted_at) {
  static constexpr char kFormats[] = {'m', 'h', 'j'};
  return fmt::format("\"{}{}-{}-{}-{}-{}\"", kFormats[static_cast<int>(format)], incident,
                     version.incident, version.events, uses_related ? version.related : 0,
                     drafted_at.time_since_epoch().count());
}

bool DraftCache::none_match_names(std::string_view header, std::string_view etag) {
  auto opaque = [](std::string_view tag) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    return tag;
  };
  const std::string_view ours = opaque(etag);
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*") return true;
    if (!item.empty() && opaque(item) == ours) return true;
  }
  return false;
}

}  // namespace scribe
