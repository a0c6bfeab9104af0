// The read connections of a store backend, handed out one read at a time (a Lease); a
// read that finds none free waits for one. Either a fixed set added before the first
// read, or up to a capacity opened as reads need them: a server that reads nothing holds
// no read connection. Thread-safe; every connection is used by one thread at a time.
// Shared by the SQLite and PostgreSQL stores.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace scribe {

template <typename Connection>
class ConnectionPool {
 public:
  using Opener = std::function<std::unique_ptr<Connection>()>;

  // A fixed set: see add.
  ConnectionPool() = default;
  // Opened on demand: a read that finds no connection free opens one with `open` while
  // fewer than `capacity` are open, and waits for one otherwise. A connection once opened
  // stays in the pool. An `open` that throws fails that read alone (the error reaches its
  // caller) and leaves room for the next read to try again.
  ConnectionPool(Opener open, std::size_t capacity) : open_(std::move(open)), capacity_(capacity) {}

  // Before any Lease: puts `connection` in the pool.
  void add(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(connection));
  }

  // Connections opened so far (a fixed set's added ones are not counted).
  std::size_t opened() const {
    std::lock_guard lock(mu_);
    return opened_;
  }

  // A connection borrowed for one read, given back when the lease ends.
  class Lease {
   public:
    explicit Lease(ConnectionPool& pool) : pool_(pool) {
      std::unique_lock lock(pool_.mu_);
      pool_.cv_.wait(lock, [&] { return !pool_.free_.empty() || pool_.opened_ < pool_.capacity_; });
      if (!pool_.free_.empty()) {
        connection_ = std::move(pool_.free_.back());
        pool_.free_.pop_back();
        return;
      }
      ++pool_.opened_;  // the slot is taken while it opens, outside the lock
      lock.unlock();
      try {
        connection_ = pool_.open_();
      } catch (...) {
        lock.lock();
        --pool_.opened_;
        lock.unlock();
        pool_.cv_.notify_one();
        throw;
      }
    }
    ~Lease() {
      {
        std::lock_guard lock(pool_.mu_);
        pool_.free_.push_back(std::move(connection_));
      }
      pool_.cv_.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& connection() { return *connection_; }

   private:
    ConnectionPool& pool_;
    std::unique_ptr<Connection> connection_;
  };

 private:
  const Opener open_;
  const std::size_t capacity_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> free_;
  std::size_t opened_ = 0;
};

}  // namespace scribe
