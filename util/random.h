// Random numbers for retry jitter, one generator per thread that asks for one.
#pragma once

#include <cstdint>

namespace scribe {

// Uniform in [low, high] (low <= high), from a Mersenne Twister of the calling thread,
// seeded from std::random_device the first time that thread asks. Not for secrets.
std::int64_t random_between(std::int64_t low, std::int64_t high);

}  // namespace scribe
