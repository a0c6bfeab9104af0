// WorkerPool: up to a fixed number of threads running posted tasks in order of posting.
// For work that may block (a SQLite read, a draft rendered from the store) and must not run
// on the HTTP listener's threads. A thread is started when a task is posted and every
// started one is busy: a pool nothing is posted to has no thread (an idle server's readers
// and API renderers cost no stack).
//
// Threads: post() may be called from any thread. A task runs on one of the pool's threads;
// an exception out of a task is logged and dropped (tasks report their own failures).
// The destructor runs every task already posted, then joins; post() after destruction
// has begun runs nothing and returns false.
//
// Threads carry the pool's name (as the OS shows it, cut to 15 bytes). A pool made with a
// positive `nice` runs at that lower CPU priority: for background work (the API's drafts)
// that must not take the cores from the threads acknowledging commands.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace scribe {

class WorkerPool {
 public:
  WorkerPool(std::size_t threads, std::string name, int nice = 0);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False (and the task dropped) once the pool is stopping.
  bool post(std::function<void()> task);

 private:
  void loop();

  const std::string name_;
  const std::size_t max_threads_;
  const int nice_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::size_t waiting_ = 0;  // started threads waiting for a task
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // grows under mu_ until stopping_
};

}  // namespace scribe
