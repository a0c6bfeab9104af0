#include "util/random.h"

#include <memory>
#include <random>

namespace scribe {

std::int64_t random_between(std::int64_t low, std::int64_t high) {
  // Only a pointer is thread-local: a thread_local generator itself (2.5 KiB for
  // mt19937_64) sits in the static TLS block that every thread of the process gets zeroed
  // at its start, whether or not it ever retries. Allocated here, it costs only the threads
  // that draw a number.
  thread_local std::unique_ptr<std::mt19937_64> generator;
  if (!generator) generator = std::make_unique<std::mt19937_64>(std::random_device{}());
  std::uniform_int_distribution<std::int64_t> spread(low, high);
  return spread(*generator);
}

}  // namespace scribe
