// OutboxSender over a real SQLite store, with a scripted Deliverer standing in for the
// platform (the real Slack deliverer is tested against a stand-in Slack server) and a
// clock the test moves by hand: no sleeping.
#include "outbox/outbox.h"

#include <deque>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/store.h"
#include "test_support.h"

namespace scribe {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Outcome = DeliveryResult::Outcome;

struct Delivery {
  std::int64_t id;
  std::string channel;
  std::optional<std::string> thread_id;
  bool in_doubt = false;
};

// Answers from a script (then "sent"), and remembers every call.
class ScriptedDeliverer : public Deliverer {
 public:
  DeliveryResult deliver(const OutboxMessage& m,
                         const std::optional<std::string>& thread_id) override {
    calls.push_back({m.id, m.channel.channel, thread_id, m.in_doubt});
    if (during) during();
    if (!script.empty()) {
      DeliveryResult r = script.front();
      script.pop_front();
      return r;
    }
    return {Outcome::kSent, "ts-" + std::to_string(m.id), std::nullopt, ""};
  }
  std::deque<DeliveryResult> script;
  std::vector<Delivery> calls;
  std::function<void()> during;  // runs in each delivery (a slow platform moves the clock)
};

class OutboxTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(test::make_temp_dir("scribe_outbox_", dir_));
    open();
  }
  void TearDown() override {
    sender_.reset();
    store_.reset();
    test::remove_temp_dir(dir_);
  }

  // A fresh store and sender on the same file: what a restart does.
  void open() {
    sender_.reset();
    store_.reset();
    store_ = open_store((dir_ / "scribe.db").string());
    auto deliverer = std::make_unique<ScriptedDeliverer>();
    deliverer_ = deliverer.get();
    sender_ = std::make_unique<OutboxSender>(
        *store_, [this] { return now_; }, options_);
    sender_->add_deliverer("slack", {JobKind::kPost, JobKind::kUpdate}, std::move(deliverer));
  }

  std::int64_t enqueue(const std::string& channel, std::optional<std::int64_t> parent = {},
                       std::string key = {}) {
    OutboxMessage m;
    m.channel = ChannelRef{"slack", "T1", channel};
    m.content = R"({"text":"hello"})";
    m.thread_parent = parent;
    m.dedupe_key = std::move(key);
    m.created_at = now_;
    m.next_attempt_at = now_;
    std::int64_t id = 0;
    store_->write([&](Transaction& tx) { id = tx.enqueue(m); });
    return id;
  }

  OutboxMessage message(std::int64_t id) {
    std::optional<OutboxMessage> m;
    store_->read([&](Transaction& tx) { m = tx.find_outbox(id); });
    EXPECT_TRUE(m.has_value());
    return m.value_or(OutboxMessage{});
  }

  std::vector<std::int64_t> delivered_ids() const {
    std::vector<std::int64_t> ids;
    for (const auto& c : deliverer_->calls) ids.push_back(c.id);
    return ids;
  }

  std::filesystem::path dir_;
  OutboxSender::Options options_;
  Timestamp now_ = test::utc(2026, 11, 21, 10, 0);
  std::unique_ptr<Store> store_;
  std::unique_ptr<OutboxSender> sender_;
  ScriptedDeliverer* deliverer_ = nullptr;
};

// A job is started only in the first half of its claim's lease, so that it is done before
// another replica may take it; what is left of the batch goes in the next pass.
TEST_F(OutboxTest, NoJobIsStartedInTheSecondHalfOfItsLease) {
  options_.claim_lease = seconds(10);
  open();
  deliverer_->during = [this] { now_ += seconds(3); };  // each delivery takes 3 s
  const auto a = enqueue("C1");
  const auto b = enqueue("C2");
  const auto c = enqueue("C3");
  EXPECT_EQ(sender_->run_once(), 2) << "started at 0 s and 3 s; not at 6 s of a 10 s lease";
  EXPECT_EQ(message(c).status, OutboxStatus::kPending);
  EXPECT_EQ(message(c).attempts, 0);
  EXPECT_EQ(sender_->run_once(), 1);
  EXPECT_EQ(delivered_ids(), (std::vector<std::int64_t>{a, b, c}));
  EXPECT_EQ(message(c).status, OutboxStatus::kSent);
}

// A post that got no answer may have been delivered: the job stays in doubt until it is
// sent, so the deliverer looks for it before posting again, also after a restart.
TEST_F(OutboxTest, AnAttemptWithoutAnAnswerLeavesTheJobInDoubt) {
  const auto a = enqueue("C1");
  DeliveryResult lost{Outcome::kRetry, "", std::nullopt, "transport: timeout"};
  lost.maybe_delivered = true;
  deliverer_->script.push_back(lost);
  EXPECT_EQ(sender_->run_once(), 1);
  EXPECT_FALSE(deliverer_->calls.at(0).in_doubt);
  EXPECT_TRUE(message(a).in_doubt);

  open();  // a restart: a new sender and deliverer
  deliverer_->script.push_back({Outcome::kRetry, "", std::nullopt, "HTTP 503"});
  now_ += std::chrono::hours(1);
  EXPECT_EQ(sender_->run_once(), 1);
  EXPECT_TRUE(message(a).in_doubt) << "a later plain failure does not clear it";
  now_ += std::chrono::hours(1);
  EXPECT_EQ(sender_->run_once(), 1);
  ASSERT_EQ(deliverer_->calls.size(), 2u);
  EXPECT_TRUE(deliverer_->calls[0].in_doubt);
  EXPECT_TRUE(deliverer_->calls[1].in_doubt);
  EXPECT_EQ(message(a).status, OutboxStatus::kSent);
}

TEST_F(OutboxTest, DeliversInOrderAndRecordsWhatWasPosted) {
  const auto a = enqueue("C1");
  const auto b = enqueue("C1");
  const auto c = enqueue("C2");
  // One per channel per pass: a channel's next message waits for the one before it.
  EXPECT_EQ(sender_->run_once(), 2);
  EXPECT_EQ(sender_->run_once(), 1);
  EXPECT_EQ(sender_->run_once(), 0);
  EXPECT_EQ(delivered_ids(), (std::vector<std::int64_t>{a, c, b}));
  for (auto id : {a, b, c}) {
    const OutboxMessage m = message(id);
    EXPECT_EQ(m.status, OutboxStatus::kSent);
    EXPECT_EQ(m.delivered_id, "ts-" + std::to_string(id));
    EXPECT_EQ(m.attempts, 1);
    EXPECT_EQ(m.sent_at, now_);
  }
}

TEST_F(OutboxTest, RetryAfterIsHonouredAndHoldsBackOnlyItsChannel) {
  const auto first = enqueue("C1");
  const auto second = enqueue("C1");
  const auto elsewhere = enqueue("C2");
  deliverer_->script.push_back({Outcome::kRetry, "", seconds(30), "HTTP 429"});
  EXPECT_EQ(sender_->run_once(), 2);  // first (rate limited) and elsewhere (sent)
  EXPECT_EQ(message(first).status, OutboxStatus::kPending);
  EXPECT_EQ(message(first).next_attempt_at, now_ + seconds(30) + milliseconds(1));
  EXPECT_EQ(message(first).last_error, "HTTP 429");
  EXPECT_EQ(message(elsewhere).status, OutboxStatus::kSent);

  now_ += seconds(30);
  EXPECT_EQ(sender_->run_once(), 0) << "not before Retry-After, and the channel stays in order";
  now_ += milliseconds(1);
  EXPECT_EQ(sender_->run_once(), 1);
  EXPECT_EQ(sender_->run_once(), 1);
  EXPECT_EQ(delivered_ids(), (std::vector<std::int64_t>{first, elsewhere, first, second}));
  EXPECT_EQ(message(first).attempts, 2);
  EXPECT_EQ(message(second).status, OutboxStatus::kSent);
}

TEST_F(OutboxTest, BackoffGrowsWithJitterWithinBounds) {
  const auto id = enqueue("C1");
  milliseconds previous_full{0};
  for (int attempt = 1; attempt <= 6; ++attempt) {
    deliverer_->script.push_back({Outcome::kRetry, "", std::nullopt, "HTTP 500"});
    ASSERT_EQ(sender_->run_once(), 1);
    const OutboxMessage m = message(id);
    const auto wait = std::chrono::duration_cast<milliseconds>(m.next_attempt_at - now_);
    const milliseconds full = milliseconds(1000) * (1 << (attempt - 1));
    EXPECT_GE(wait, full / 2) << attempt;
    EXPECT_LE(wait, full) << attempt;
    EXPECT_GT(full, previous_full);
    previous_full = full;
    now_ = m.next_attempt_at;
  }
}

TEST_F(OutboxTest, PermanentErrorsAreGivenUpAndTheChannelMovesOn) {
  const auto doomed = enqueue("C1");
  const auto next = enqueue("C1");
  deliverer_->script.push_back({Outcome::kPermanent, "", std::nullopt, "channel_not_found"});
  sender_->run_once();
  sender_->run_once();
  EXPECT_EQ(message(doomed).status, OutboxStatus::kFailed);
  EXPECT_EQ(message(doomed).last_error, "channel_not_found");
  EXPECT_EQ(message(next).status, OutboxStatus::kSent);
  now_ += std::chrono::hours(1);
  EXPECT_EQ(sender_->run_once(), 0) << "a failed message is not retried";
}

TEST_F(OutboxTest, PassingFailuresAreGivenUpAfterADay) {
  const auto id = enqueue("C1");
  for (int i = 0; i < 1000 && message(id).status == OutboxStatus::kPending; ++i) {
    deliverer_->script.push_back({Outcome::kRetry, "", std::nullopt, "timeout"});
    now_ = std::max(now_, message(id).next_attempt_at);
    sender_->run_once();
  }
  EXPECT_EQ(message(id).status, OutboxStatus::kFailed);
  EXPECT_GT(now_ - message(id).created_at, std::chrono::hours(24));
}

TEST_F(OutboxTest, RepliesGoIntoTheirParentsThread) {
  const auto parent = enqueue("C1");
  const auto reply = enqueue("C1", parent);
  sender_->run_once();
  sender_->run_once();
  ASSERT_EQ(deliverer_->calls.size(), 2u);
  EXPECT_EQ(deliverer_->calls[0].thread_id, std::nullopt);
  EXPECT_EQ(deliverer_->calls[1].id, reply);
  EXPECT_EQ(deliverer_->calls[1].thread_id, "ts-" + std::to_string(parent));
}

TEST_F(OutboxTest, ARestartResumesWithWhatIsStillPendingAndSendsEachOnce) {
  const auto a = enqueue("C1");
  const auto b = enqueue("C1");
  sender_->run_once();  // a is delivered; then the process "dies"
  ASSERT_EQ(delivered_ids(), std::vector<std::int64_t>{a});
  open();
  EXPECT_EQ(sender_->run_once(), 1);
  EXPECT_EQ(sender_->run_once(), 0);
  EXPECT_EQ(delivered_ids(), std::vector<std::int64_t>{b}) << "the new sender sends only b";
}

TEST_F(OutboxTest, ADedupeKeyIsEnqueuedOnce) {
  const auto first = enqueue("C1", std::nullopt, "reminder:action:7:due");
  const auto again = enqueue("C1", std::nullopt, "reminder:action:7:due");
  EXPECT_EQ(first, again);
  EXPECT_EQ(sender_->run_once(), 1);
  EXPECT_EQ(sender_->run_once(), 0);
}

TEST_F(OutboxTest, AMessageForAPlatformWithoutADelivererFails) {
  OutboxMessage m;
  m.channel = ChannelRef{"matrix", "", "!room:example.org"};
  m.content = R"({"text":"hello"})";
  m.created_at = m.next_attempt_at = now_;
  std::int64_t id = 0;
  store_->write([&](Transaction& tx) { id = tx.enqueue(m); });
  sender_->run_once();
  EXPECT_EQ(message(id).status, OutboxStatus::kFailed);
  EXPECT_TRUE(deliverer_->calls.empty());
}

}  // namespace
}  // namespace scribe
