#include "util/worker_pool.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <future>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace scribe {
namespace {

struct ThreadFacts {
  std::string name;
  int nice = 0;
};

ThreadFacts facts_of_a_task(WorkerPool& pool) {
  std::promise<ThreadFacts> seen;
  auto future = seen.get_future();
  EXPECT_TRUE(pool.post([&seen] {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    seen.set_value({name, nice});
  }));
  return future.get();
}

TEST(WorkerPool, RunsEveryTaskPostedBeforeItIsDestroyed) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(2, "test");
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(pool.post([&ran] { ++ran; }));
  }
  EXPECT_EQ(ran.load(), 1000);
}

TEST(WorkerPool, ATaskThatThrowsLeavesThePoolWorking) {
  WorkerPool pool(1, "test");
  ASSERT_TRUE(pool.post([] { throw std::runtime_error("boom"); }));
  std::promise<void> later;
  ASSERT_TRUE(pool.post([&later] { later.set_value(); }));
  later.get_future().get();
}

TEST(WorkerPool, ThreadsCarryThePoolsNameAndNormalPriorityByDefault) {
  WorkerPool pool(1, "a-rather-long-pool-name");
  const ThreadFacts facts = facts_of_a_task(pool);
  EXPECT_EQ(facts.name, "a-rather-long-p");  // the OS keeps 15 bytes
  EXPECT_EQ(facts.nice, getpriority(PRIO_PROCESS, 0));
}

TEST(WorkerPool, ABackgroundPoolRunsAtItsLowerPriority) {
  const int base = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  if (base > 9) GTEST_SKIP() << "the test already runs at nice " << base;
  WorkerPool pool(2, "background", 10);
  EXPECT_EQ(facts_of_a_task(pool).nice, 10);
  // The caller's own priority is unchanged: only the pool's threads were lowered.
  EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())), base);
}

}  // namespace
}  // namespace scribe
