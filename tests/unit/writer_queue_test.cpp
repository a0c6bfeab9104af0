// The SQLite store's writer queue (group commit): every write of a batch gets its own
// outcome, a failure at any step of a batch (BEGIN, a write's SAVEPOINT, its statements,
// its RELEASE, COMMIT) fails exactly the writes it should, no write is left waiting, and the
// store keeps working afterwards. Failures are injected through SqliteOptions::
// fault_injection, the writer's test-only seam.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "storage/sqlite_store.h"
#include "storage/store.h"
#include "storage/write_queue.h"
#include "test_support.h"

namespace scribe {
namespace {

constexpr int kWriters = 5;

Incident incident_titled(std::string title) {
  Incident i;
  i.channel = ChannelRef{"slack", "T0", "C0"};
  i.title = std::move(title);
  i.severity = Severity::kSev2;
  i.status = IncidentStatus::kOpen;
  i.commander = Person{"U0", "alice"};
  i.declared_at = test::utc(2026, 11, 20, 14, 0, 0, 0);
  return i;
}

std::string step_name(WriteStep s) {
  switch (s) {
    case WriteStep::kBegin:
      return "begin";
    case WriteStep::kSavepoint:
      return "savepoint";
    case WriteStep::kStatement:
      return "statement";
    case WriteStep::kRelease:
      return "release";
    case WriteStep::kCommit:
      return "commit";
  }
  return "?";
}

// Fails the `occurrence`-th arrival at `step` within the `batch`-th batch (counted by
// BEGINs), once.
struct Fault {
  WriteStep step = WriteStep::kBegin;
  int batch = 2;
  int occurrence = 1;

  std::mutex mu;
  int batches = 0;
  int seen = 0;
  bool fired = false;

  void operator()(WriteStep s) {
    std::lock_guard lock(mu);
    if (s == WriteStep::kBegin) {
      ++batches;
      seen = 0;
    }
    if (fired || batches != batch || s != step) return;
    if (++seen == occurrence) {
      fired = true;
      throw StoreError(fmt::format("injected failure at {}", step_name(step)));
    }
  }
};

class WriterQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("scribe-writer-queue-{}-{}", ::getpid(), counter_++);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> open(std::shared_ptr<Fault> fault) {
    SqliteOptions options;
    options.fault_injection = [fault](WriteStep s) { (*fault)(s); };
    return open_sqlite_store((dir_ / "scribe.db").string(), options);
  }

  // Holds the writer in a first batch while kWriters writes queue up, so that they form
  // the second batch together; returns each write's outcome ("" for success).
  static std::vector<std::string> batch_of_writers(Store& store) {
    std::promise<void> gate;
    std::shared_future<void> open_gate = gate.get_future().share();
    std::promise<void> holding;
    std::promise<void> first_done;
    store.write_async(
        [&](Transaction& tx) {
          holding.set_value();
          open_gate.wait();
          tx.insert_incident(incident_titled("first"));
        },
        [&](std::exception_ptr) { first_done.set_value(); });
    holding.get_future().wait();  // the writer is inside the first batch

    std::vector<std::promise<std::string>> outcomes(kWriters);
    for (int i = 0; i < kWriters; ++i) {
      store.write_async(
          [i](Transaction& tx) { tx.insert_incident(incident_titled(fmt::format("w{}", i))); },
          [&outcomes, i](std::exception_ptr error) {
            std::string why;
            if (error) {
              try {
                std::rethrow_exception(error);
              } catch (const std::exception& e) {
                why = e.what();
                if (why.empty()) why = "error";
              }
            }
            outcomes[static_cast<std::size_t>(i)].set_value(why);
          });
    }
    gate.set_value();
    std::vector<std::string> result;
    for (auto& o : outcomes) {
      auto f = o.get_future();
      // A writer left waiting fails here instead of hanging the suite.
      if (f.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
        ADD_FAILURE() << "a writer was never completed";
        result.emplace_back("hung");
        continue;
      }
      result.push_back(f.get());
    }
    first_done.get_future().wait();
    return result;
  }

  static std::set<std::string> titles(Store& store) {
    std::set<std::string> out;
    store.read([&](Transaction& tx) {
      for (const Incident& i : tx.list_incidents(100)) out.insert(i.title);
    });
    return out;
  }

  // The store still takes writes and reads after the failure.
  static void still_works(Store& store) {
    EXPECT_NO_THROW(
        store.write([](Transaction& tx) { tx.insert_incident(incident_titled("after")); }));
    EXPECT_TRUE(titles(store).count("after"));
    EXPECT_TRUE(store.healthy());
  }

  std::filesystem::path dir_;
  static inline int counter_ = 0;
};

TEST_F(WriterQueueTest, WithoutFaultsEveryWriterOfABatchSucceeds) {
  auto fault = std::make_shared<Fault>();
  fault->batch = -1;  // never
  auto store = open(fault);
  const auto outcomes = batch_of_writers(*store);
  for (const auto& o : outcomes) EXPECT_EQ(o, "");
  EXPECT_EQ(titles(*store), (std::set<std::string>{"first", "w0", "w1", "w2", "w3", "w4"}));
}

TEST_F(WriterQueueTest, AFailedBeginOrCommitFailsEveryWriterOfTheBatchAndStoresNothingOfIt) {
  for (WriteStep step : {WriteStep::kBegin, WriteStep::kCommit}) {
    SCOPED_TRACE(step_name(step));
    TearDown();
    SetUp();
    auto fault = std::make_shared<Fault>();
    fault->step = step;
    auto store = open(fault);
    const auto outcomes = batch_of_writers(*store);
    ASSERT_TRUE(fault->fired);
    for (const auto& o : outcomes)
      EXPECT_NE(o.find("injected failure at " + step_name(step)), std::string::npos) << o;
    EXPECT_EQ(titles(*store), (std::set<std::string>{"first"}));
    still_works(*store);
  }
}

TEST_F(WriterQueueTest, AFailureInOneWritersStepFailsThatWriterAloneAndKeepsTheOthers) {
  for (WriteStep step : {WriteStep::kSavepoint, WriteStep::kStatement, WriteStep::kRelease}) {
    for (int which : {1, 3, kWriters}) {
      SCOPED_TRACE(fmt::format("{} of writer {}", step_name(step), which));
      TearDown();
      SetUp();
      auto fault = std::make_shared<Fault>();
      fault->step = step;
      fault->occurrence = which;
      auto store = open(fault);
      const auto outcomes = batch_of_writers(*store);
      ASSERT_TRUE(fault->fired);
      std::set<std::string> expected{"first"};
      for (int i = 0; i < kWriters; ++i) {
        const std::string& o = outcomes[static_cast<std::size_t>(i)];
        if (i == which - 1) {
          EXPECT_NE(o.find("injected failure at " + step_name(step)), std::string::npos) << o;
        } else {
          EXPECT_EQ(o, "") << "writer " << i;
          expected.insert(fmt::format("w{}", i));
        }
      }
      EXPECT_EQ(titles(*store), expected);
      still_works(*store);
    }
  }
}

TEST_F(WriterQueueTest, AWriteThatThrowsIsRolledBackAloneWithItsOwnError) {
  auto fault = std::make_shared<Fault>();
  fault->batch = -1;
  auto store = open(fault);
  std::promise<std::string> bad;
  std::promise<std::string> good;
  auto outcome = [](std::promise<std::string>& p) {
    return [&p](std::exception_ptr e) {
      if (!e) return p.set_value("");
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        p.set_value(x.what());
      }
    };
  };
  store->write_async(
      [](Transaction& tx) {
        tx.insert_incident(incident_titled("half"));
        throw StoreError("the write's own failure");
      },
      outcome(bad));
  store->write_async([](Transaction& tx) { tx.insert_incident(incident_titled("whole")); },
                     outcome(good));
  EXPECT_EQ(bad.get_future().get(), "the write's own failure");
  EXPECT_EQ(good.get_future().get(), "");
  EXPECT_EQ(titles(*store), (std::set<std::string>{"whole"}));
}

TEST_F(WriterQueueTest, BlockingWriteOnTheWriterThreadIsRefusedNotADeadlock) {
  auto fault = std::make_shared<Fault>();
  fault->batch = -1;
  auto store = open(fault);
  std::promise<std::string> refused;
  store->write_async([](Transaction&) {},
                     [&](std::exception_ptr) {
                       try {
                         store->write([](Transaction&) {});
                         refused.set_value("not refused");
                       } catch (const std::logic_error& e) {
                         refused.set_value(e.what());
                       }
                     });
  EXPECT_NE(refused.get_future().get().find("writer thread"), std::string::npos);
}

// A failure of a whole batch reaches each write as an exception object of its own, moved out
// of the writer: the writes' waiters, on other threads, read their errors and free them
// alone. (Sharing one object showed under ThreadSanitizer as the outbox thread reading the
// message while the writer thread dropped the last reference to it.)
TEST(WriteQueueErrorsTest, EachWriteOfAFailedBatchGetsItsOwnErrorObject) {
  WriteQueue queue;
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int batches = 0;
  queue.start([&](WriteQueue::Batch& batch) {
    std::unique_lock lock(mu);
    ++batches;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
    const auto error = std::make_exception_ptr(StoreError("the disk is full"));
    for (WriteQueue::Pending& p : batch) p.error = error;
  });
  std::vector<std::exception_ptr> errors(kWriters);
  int completed = 0;
  queue.push([](Transaction&) {}, [](std::exception_ptr) {});
  {
    // The writer holds the first batch, so the next writes are all queued for one batch.
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return batches == 1; });
  }
  for (int i = 0; i < kWriters; ++i) {
    queue.push([](Transaction&) {},
               [&, i](std::exception_ptr error) {
                 std::lock_guard lock(mu);
                 errors[i] = std::move(error);
                 ++completed;
                 cv.notify_all();
               });
  }
  {
    std::unique_lock lock(mu);
    open = true;
    cv.notify_all();
    cv.wait(lock, [&] { return completed == kWriters; });
    EXPECT_EQ(batches, 2);
  }
  for (int i = 0; i < kWriters; ++i) {
    ASSERT_TRUE(errors[i]);
    for (int j = 0; j < i; ++j) EXPECT_NE(errors[i], errors[j]) << i << " shares " << j;
    try {
      std::rethrow_exception(errors[i]);
    } catch (const StoreError& e) {
      EXPECT_STREQ(e.what(), "the disk is full");
    }
  }

  // Blocking writes from several threads at once, as the outbox, the scheduler and the
  // shutdown write do: each reads its own error's message.
  std::vector<std::string> messages(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      try {
        queue.write_and_wait([](Transaction&) {});
      } catch (const StoreError& e) {
        messages[i] = e.what();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& m : messages) EXPECT_EQ(m, "the disk is full");
}

}  // namespace
}  // namespace scribe
