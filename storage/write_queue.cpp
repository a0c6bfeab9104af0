#include "storage/write_queue.h"

#include <algorithm>
#include <future>
#include <stdexcept>
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
  std::promise<void> committed;
  push([&fn](Transaction& tx) { fn(tx); },
       [&committed](std::exception_ptr error) {
         if (error) {
           committed.set_exception(error);
         } else {
           committed.set_value();
         }
       });
  committed.get_future().get();
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
    for (Pending& p : batch) p.done(p.error);
    batch.clear();  // what the writes captured is released outside the lock
    lock.lock();
  }
}

}  // namespace scribe
