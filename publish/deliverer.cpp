#include "publish/deliverer.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "commands/publishing.h"
#include "postmortem/draft.h"
#include "postmortem/html.h"
#include "postmortem/record.h"
#include "postmortem/review_report.h"
#include "util/secret.h"

namespace scribe::publish {
namespace {

DeliveryResult permanent(std::string why) {
  return {DeliveryResult::Outcome::kPermanent, "", std::nullopt, std::move(why)};
}

DeliveryResult sent(std::string id) {
  return {DeliveryResult::Outcome::kSent, std::move(id), std::nullopt, ""};
}

DeliveryResult from(const CallResult& r) {
  DeliveryResult d;
  d.outcome = r.outcome == CallResult::Outcome::kPermanent ? DeliveryResult::Outcome::kPermanent
                                                           : DeliveryResult::Outcome::kRetry;
  d.retry_after = r.retry_after;
  d.error = r.error;
  return d;
}

}  // namespace

PublishDeliverer::PublishDeliverer(Store& store, CommandHandler& handler,
                                   std::vector<std::unique_ptr<Destination>> destinations,
                                   std::shared_ptr<const Reviewer> reviewer,
                                   std::shared_ptr<const DraftTemplate> draft_template,
                                   std::string default_zone, Clock clock)
    : store_(store),
      handler_(handler),
      destinations_(std::move(destinations)),
      reviewer_(std::move(reviewer)),
      draft_template_(std::move(draft_template)),
      default_zone_(std::move(default_zone)),
      clock_(std::move(clock)) {}

DeliveryResult PublishDeliverer::deliver(const OutboxMessage& message,
                                         const std::optional<std::string>&) {
  const auto job = publish_job_from_json(message.content);
  if (!job) return permanent("not a publishing job: " + message.content);
  Destination* destination = nullptr;
  for (const auto& d : destinations_) {
    if (d->name() == job->destination) destination = d.get();
  }
  if (!destination) return permanent(fmt::format("{} is not configured", job->destination));

  std::optional<IncidentRecord> record;
  std::optional<Publication> previous;
  store_.read([&](Transaction& tx) {
    record = read_record(tx, job->incident_id, default_zone_);
    previous = tx.find_publication(job->incident_id, job->destination);
  });
  if (!record) return permanent(fmt::format("no incident {}", job->incident_id));

  const Timestamp now = clock_();
  const PostmortemReview review = review_postmortem(*record, *reviewer_, now);
  const Draft draft = assemble_draft(std::move(*record), now);
  Page page;
  page.key = draft.ref;
  page.title = fmt::format("{}: {} \u2014 postmortem", draft.ref, draft.incident.title);
  page.markdown = render_reviewed_markdown(draft, review, "/", 0, draft_template_.get());
  page.html = markdown_to_html(page.markdown);
  page.file_name = fmt::format("{:%Y-%m-%d}-{}-{}.md",
                               std::chrono::floor<std::chrono::days>(draft.incident.declared_at),
                               draft.ref, slug(draft.incident.title));
  // The draft says when it was generated; that alone is no change worth a new version.
  Draft stable = draft;
  stable.generated_at = Timestamp{};
  const std::string content_sha = sha256_hex(
      page.title + "\n" + render_reviewed_markdown(stable, review, "/", 0, draft_template_.get()));
  if (previous && previous->content_sha == content_sha) return sent(previous->remote_id);

  Written written;
  const CallResult r = destination->write(page, previous, written);
  if (!r.ok()) return from(r);
  Publication publication;
  publication.incident_id = job->incident_id;
  publication.destination = job->destination;
  publication.remote_id = written.remote_id;
  publication.url = written.url;
  publication.version = written.version;
  publication.content_sha = content_sha;
  publication.published_at = now;
  spdlog::info("published {} to {} (version {}): {}", draft.ref, destination->display(),
               written.version, written.url);
  store_.write([&](Transaction& tx) {
    handler_.published_in(tx, publication, destination->display(), now);
  });
  return sent(written.remote_id);
}

}  // namespace scribe::publish
