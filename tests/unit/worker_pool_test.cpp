#include "util/worker_pool.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

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

// Threads of this process whose name is `name`.
int threads_named(const std::string& name) {
  int n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    if (std::getline(comm, line) && line == name) ++n;
  }
  return n;
}

// No thread until a task is posted; one more for each task posted while the started ones
// are all busy, up to the pool's size.
TEST(WorkerPool, ThreadsStartAsTasksNeedThemUpToThePoolsSize) {
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  bool release = false;
  const auto blocking = [&] {
    std::unique_lock lock(mu);
    ++running;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  const auto wait_running = [&](int n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return running == n; });
  };
  WorkerPool pool(2, "lazy-pool");
  EXPECT_EQ(threads_named("lazy-pool"), 0);
  ASSERT_TRUE(pool.post(blocking));
  wait_running(1);
  EXPECT_EQ(threads_named("lazy-pool"), 1);
  ASSERT_TRUE(pool.post(blocking));
  wait_running(2);
  EXPECT_EQ(threads_named("lazy-pool"), 2);
  ASSERT_TRUE(pool.post(blocking));  // waits for a free thread: no third one
  EXPECT_EQ(threads_named("lazy-pool"), 2);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  wait_running(3);
  EXPECT_EQ(threads_named("lazy-pool"), 2);
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
