#include "storage/leadership.h"

#include <atomic>
#include <string_view>
#include <utility>

#include "storage/postgres_leadership.h"

namespace scribe {
namespace {

// SQLite: one process owns the database file, so it always leads.
class SoleLeadership final : public Leadership {
 public:
  ~SoleLeadership() override { SoleLeadership::stop(); }

  void start(OnChange on_change) override {
    if (on_change_) return;
    on_change_ = std::move(on_change);
    leading_ = true;
    on_change_(true);
  }

  void stop() override {
    if (!leading_.exchange(false)) return;
    on_change_(false);
  }

  bool leading() const override { return leading_.load(); }

 private:
  OnChange on_change_;
  std::atomic<bool> leading_{false};
};

}  // namespace

std::unique_ptr<Leadership> open_leadership(const std::string& location,
                                            const LeadershipOptions& options) {
  const std::string_view loc = location;
  if (loc.starts_with("postgresql://") || loc.starts_with("postgres://")) {
    return open_postgres_leadership(location, options);
  }
  return std::make_unique<SoleLeadership>();
}

}  // namespace scribe
