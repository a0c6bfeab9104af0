// The read connections of a store backend: a fixed set, handed out one read at a time
// (a Lease); a read that finds none free waits for one. Thread-safe; every connection is
// used by one thread at a time. Shared by the SQLite and PostgreSQL stores.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace scribe {

template <typename Connection>
class ConnectionPool {
 public:
  // Before any Lease: puts `connection` in the pool.
  void add(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(connection));
  }

  // A connection borrowed for one read, given back when the lease ends.
  class Lease {
   public:
    explicit Lease(ConnectionPool& pool) : pool_(pool) {
      std::unique_lock lock(pool_.mu_);
      pool_.cv_.wait(lock, [&] { return !pool_.free_.empty(); });
      connection_ = std::move(pool_.free_.back());
      pool_.free_.pop_back();
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
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> free_;
};

}  // namespace scribe
