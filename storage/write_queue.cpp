#include "storage/write_queue.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace scribe {

void WriteQueue::start(std::function<void(Batch&)> commit_batch) {
  commit_batch_ = std::move(commit_batch);
  writer_ = std::thread([this] { writer_loop(); });
  writer_id_ = writer_.get_id();
}

void WriteQueue::close() {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();  // commits what is queued first
}

void WriteQueue::push(std::function<void(Transaction&)> fn, Store::Done done) {
  {
    std::lock_guard lock(mu_);
    if (!closing_) {
      queue_.push_back(Pending{std::move(fn), std::move(done), nullptr});
      if (queue_.size() == 1) cv_.notify_one();
      return;
    }
  }
  done(std::make_exception_ptr(StoreError("the store is closing")));
}

void WriteQueue::write_and_wait(const std::function<void(Transaction&)>& fn) {
  if (std::this_thread::get_id() == writer_id_) {
    throw std::logic_error("Store::write called on the writer thread");
  }
  // Not a std::promise: its set_exception keeps a reference to the error on the writer
  // thread until after the waiter is woken, so the writer could be the one to free an
  // exception the waiter has been reading. Here the error moves into the slot under the
  // lock; the writer keeps no reference, and everything the waiter reads is freed by it.
  struct Outcome {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::exception_ptr error;
  } outcome;
  push([&fn](Transaction& tx) { fn(tx); },
       [&outcome](std::exception_ptr error) {
         std::lock_guard lock(outcome.mu);
         outcome.error = std::move(error);
         outcome.done = true;
         outcome.cv.notify_one();  // under the lock: `outcome` lives on the waiter's stack
       });
  std::unique_lock lock(outcome.mu);
  outcome.cv.wait(lock, [&] { return outcome.done; });
  if (outcome.error) std::rethrow_exception(std::move(outcome.error));
}

std::exception_ptr WriteQueue::own_copy(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const StoreError& e) {
    // A new message string: copying the exception would share its reference-counted one.
    return std::make_exception_ptr(StoreError(std::string(e.what())));
  } catch (...) {
    return error;  // not a store failure: the write's own exception, never shared
  }
}

void WriteQueue::complete(Batch& batch) {
  // A failure of the whole batch is one exception object in every write's error, and the
  // writes' waiters are on different threads: each gets its own, so that no exception (or
  // its message) is read on one thread while its last reference is dropped on another.
  for (std::size_t i = 1; i < batch.size(); ++i) {
    if (!batch[i].error) continue;
    for (std::size_t j = 0; j < i; ++j) {
      if (batch[j].error == batch[i].error) {
        batch[i].error = own_copy(batch[i].error);
        break;
      }
    }
  }
  // Moved, not copied: the writer keeps no reference to what it hands over.
  for (Pending& p : batch) p.done(std::move(p.error));
}

void WriteQueue::writer_loop() {
  Batch batch;
  batch.reserve(kMaxBatch);
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
    if (queue_.empty()) return;  // closing, and everything queued is done
    const std::size_t n = std::min(queue_.size(), kMaxBatch);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    commit_batch_(batch);
    complete(batch);
    batch.clear();  // what the writes captured is released outside the lock
    lock.lock();
  }
}

}  // namespace scribe
