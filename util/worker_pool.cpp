#include "util/worker_pool.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <system_error>
#include <utility>

#include <spdlog/spdlog.h>

namespace scribe {

WorkerPool::WorkerPool(std::size_t threads, std::string name, int nice)
    : name_(std::move(name)), max_threads_(threads), nice_(nice) {
  threads_.reserve(threads);
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();  // no thread is started once stopping_ is set
}

bool WorkerPool::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    tasks_.push_back(std::move(task));
    // A thread is started when every running one is busy, up to the pool's size: a pool
    // that is never posted to costs no thread, and one that is starts only what its
    // concurrency asks for.
    if (waiting_ < tasks_.size() && threads_.size() < max_threads_) {
      try {
        threads_.emplace_back([this] { loop(); });
      } catch (const std::system_error& e) {
        // No thread for it now: a running thread takes the task when free; with none at
        // all it would never run, so it is refused like a post to a stopping pool.
        spdlog::error("{}: cannot start a thread: {}", name_, e.what());
        if (threads_.empty()) {
          tasks_.pop_back();
          return false;
        }
      }
    }
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::loop() {
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  // On Linux a thread's nice value is its own (setpriority on its thread id). Lowering it
  // needs no privilege; if refused anyway, the pool still works at normal priority.
  if (nice_ > 0 && setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice_) != 0) {
    spdlog::warn("{} threads run at normal priority: {}", name_, std::strerror(errno));
  }
  std::unique_lock lock(mu_);
  for (;;) {
    ++waiting_;
    cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
    --waiting_;
    if (tasks_.empty()) return;  // stopping, and everything posted has run
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("{} task failed: {}", name_, e.what());
    }
    task = nullptr;  // whatever it captured is released outside the lock
    lock.lock();
  }
}

}  // namespace scribe
