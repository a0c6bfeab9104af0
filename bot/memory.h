// Giving memory back to the system after bursts. glibc's malloc keeps what a thread freed
// in that thread's arena for reuse: after a burst of large drafts on several listener
// threads at once, hundreds of MB stay with the process although nothing uses them.
// Scribe's bursts are short and rare, so handing the free pages back costs little.
//
// Thread-safe: everything here may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

namespace scribe {

// Sets malloc up to give large blocks back as they are freed (see memory.cpp for why and
// the measurements in README). Call once at start, before threads are started.
void configure_allocator();

// Returns the free pages of every malloc arena to the system (malloc_trim). Cheap when
// there is little to return; for a large render's leftovers, a few milliseconds.
void release_free_memory();

// Bytes malloc holds free, ready for reuse but not given back; -1 where unknown.
long long free_heap_bytes();

// A thread that looks every `interval` and releases free memory once malloc holds more
// than `threshold` bytes of it: the bursts that are not API renders (which release their
// own, see bot/api.h), such as many users asking for a long draft at once.
class MemoryReleaser {
 public:
  struct Options {
    std::chrono::milliseconds interval{10'000};
    std::size_t threshold = 16u << 20;
  };
  explicit MemoryReleaser(Options options);
  ~MemoryReleaser();  // stops and joins
  MemoryReleaser(const MemoryReleaser&) = delete;
  MemoryReleaser& operator=(const MemoryReleaser&) = delete;

 private:
  void loop();

  Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace scribe
