// In a sanitized build (SCRIBE_SANITIZE) the `scribe` processes the end-to-end tests start
// are sanitized too. Their reports go to their stderr, which the test reads; a report fails
// the test program even when the process exited as the test expected (a leak is reported
// only at a clean exit). ctest runs each test in its own program, so the failure lands on
// the test that started that process.
#include <string>

#include <gtest/gtest.h>

#include "support/scribe_process.h"

namespace scribe::testing {
namespace {

class SanitizerReports : public ::testing::Environment {
 public:
  void TearDown() override {
    for (const std::string& report : ScribeProcess::sanitizer_reports()) {
      ADD_FAILURE() << "a scribe process of this test reported:\n" << report;
    }
  }
};

[[maybe_unused]] ::testing::Environment* const kSanitizerReports =
    ::testing::AddGlobalTestEnvironment(new SanitizerReports);

}  // namespace
}  // namespace scribe::testing
