// The read-only JSON/Markdown API: `GET /api/incidents` (paged: bot/paging.h),
// `/api/incidents/{id}` and
// `/api/incidents/{id}/postmortem.{md,html,json}`, `/api/trends` and `/api/actions`, behind a
// bearer token compared in constant time. With no token configured the API refuses every request.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <semaphore>
#include <string>
#include <string_view>

#include "bot/draft_cache.h"
#include "net/http_message.h"
#include "postmortem/review.h"
#include "postmortem/template.h"
#include "storage/store.h"

namespace scribe {

//
// Thread-safe: called by every listener thread. An answer about one incident (its record,
// its postmortem in any format) holds a copy of the whole incident while it is made, so
// at most kConcurrentRenders are made at once (others wait their turn), and one of at
// least kReleaseAfterBytes returns the memory it freed to the system (memory.h).
class Api {
 public:
  static constexpr std::ptrdiff_t kConcurrentRenders = 2;
  static constexpr std::size_t kReleaseAfterBytes = 1u << 20;

  // The postmortems carry their review (`review` in the JSON, a section at the end of the
  // Markdown and HTML), made with `review`.
  // With `draft_template` (`draft.template`), postmortem.md and .html are made from it.
  // Local times are the channel's zone, else `default_zone` (the service's).
  // `draft_cache_bytes` bounds the rendered postmortems kept for repeated reads
  // (draft_cache.h); 0 keeps none.
  Api(Store& store, std::string token, std::function<Timestamp()> clock,
      const ReviewSettings& review = {},
      std::shared_ptr<const DraftTemplate> draft_template = nullptr,
      std::string default_zone = "UTC", std::size_t draft_cache_bytes = DraftCache::kDefaultBudget);

  // `path` is the target without its query string; `query` what followed '?'.
  // The postmortems carry an ETag and answer a matching If-None-Match with 304.
  HttpResponse handle(const HttpRequest& request, std::string_view path, std::string_view query);

  DraftCache::Stats draft_cache_stats() const { return cache_.stats(); }

 private:
  // One of the kConcurrentRenders turns, held for the lifetime of the object.
  class RenderSlot {
   public:
    explicit RenderSlot(Api& api);
    ~RenderSlot();
    RenderSlot(const RenderSlot&) = delete;
    RenderSlot& operator=(const RenderSlot&) = delete;
    // How large the answer made under this turn is.
    void rendered(std::size_t bytes) { rendered_ = bytes; }

   private:
    Api& api_;
    std::size_t rendered_ = 0;
  };

  // GET /api/incidents/{id}: the whole record as JSON.
  HttpResponse incident_answer(IncidentId id);
  // GET /api/incidents/{id}/postmortem.<format>, rendered at `now` and kept in the cache.
  HttpResponse postmortem_answer(IncidentId id, DraftFormat format, Timestamp now,
                                 const HttpRequest& request);
  // 200 with the entry's body, or 304 when the request's If-None-Match names its ETag.
  static HttpResponse answer_from(const DraftCache::Entry& entry, const HttpRequest& request);
  // GET /api/trends?since=90d&format=json|md|html (postmortem/trends.h).
  HttpResponse trends_answer(std::string_view query);
  // GET /api/actions?owner=&status=&overdue=&limit=: items across incidents.
  HttpResponse actions_answer(std::string_view query);

  Store& store_;
  std::string token_;
  std::function<Timestamp()> clock_;
  std::counting_semaphore<kConcurrentRenders> renders_{kConcurrentRenders};
  std::shared_ptr<const Reviewer> reviewer_;
  std::shared_ptr<const DraftTemplate> draft_template_;
  std::string default_zone_;  // the service's zone, for channels without `/incident tz`
  DraftCache cache_;
};

}  // namespace scribe
