#include "bot/memory.h"

#include <malloc.h>

namespace scribe {

void configure_allocator() {
#ifdef __GLIBC__
  // Fixed thresholds turn off glibc's adaptive ones, which after one large buffer is freed
  // raise the mmap threshold to its size (up to 32 MiB) and the trim threshold to twice
  // that: the next drafts' buffers then come from the arenas, and a thread's arena keeps
  // up to 64 MiB of free space at its top, which malloc_trim does not return. With these,
  // buffers of 128 KiB and more are mapped and unmapped on free, and arena tops are
  // trimmed as they are freed.
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
#endif
}

void release_free_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

long long free_heap_bytes() {
#ifdef __GLIBC__
  const struct mallinfo2 info = mallinfo2();
  return static_cast<long long>(info.fordblks);
#else
  return -1;
#endif
}

MemoryReleaser::MemoryReleaser(Options options) : options_(options) {
  thread_ = std::thread([this] { loop(); });
}

MemoryReleaser::~MemoryReleaser() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void MemoryReleaser::loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, options_.interval, [this] { return stopping_; })) {
    lock.unlock();
    if (free_heap_bytes() > static_cast<long long>(options_.threshold)) release_free_memory();
    lock.lock();
  }
}

}  // namespace scribe
