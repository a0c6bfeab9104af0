// scribe_matrix_idle_bench: what a connected, idle bot-account Scribe costs. Starts the
// stand-in homeserver and `scribe serve` with SCRIBE_MATRIX_ACCESS_TOKEN, waits for its
// first sync, then lets it long-poll the idle stand-in for --seconds (default 30) and
// prints its VmRSS (and RssAnon) and the CPU it used meanwhile, from /proc/<pid>.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>

#include "support/matrix_standin.h"
#include "support/scribe_process.h"

int main(int argc, char** argv) {
  int seconds = 30;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--seconds") seconds = std::atoi(argv[i + 1]);
  }
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() /
                       fmt::format("scribe-idle-{}-{}", getpid(), std::random_device{}());
  fs::create_directories(dir);
  scribe::testing::MatrixStandIn homeserver;
  homeserver.join_bot("!idle:standin.test");
  std::map<std::string, std::string> env = {
      {"SCRIBE_DB", (dir / "scribe.db").string()},
      {"SCRIBE_LOG_LEVEL", "info"},
      {"SCRIBE_MATRIX_HOMESERVER_URL", homeserver.base_url()},
      {"SCRIBE_MATRIX_USER_ID", homeserver.bot_user_id()},
      {"SCRIBE_MATRIX_ACCESS_TOKEN", homeserver.as_token()},
  };
  scribe::testing::ScribeProcessOptions options;
  options.inherit_scribe_env = false;
  int status = 0;
  {
    scribe::testing::ScribeProcess scribe(SCRIBE_BINARY, env, options);
    if (!homeserver.wait_for_sync_since(homeserver.stream_position())) {
      std::fprintf(stderr, "the first sync did not happen\n%s", scribe.logs().c_str());
      return 1;
    }
    // Settle: the start-up's allocations and threads.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const double cpu_before = scribe.cpu_seconds();
    const long rss_before = scribe.status_kib("VmRSS");
    const std::size_t syncs_before = homeserver.calls_to("/sync").size();
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = scribe.cpu_seconds() - cpu_before;
    const long rss = scribe.status_kib("VmRSS");
    const long anon = scribe.status_kib("RssAnon");
    const std::size_t syncs = homeserver.calls_to("/sync").size() - syncs_before;
    std::printf("idle bot-account scribe, %.1f s long-polling an idle homeserver\n", wall);
    std::printf("  /sync requests:      %zu (long polls of 30 s)\n", syncs);
    std::printf("  CPU (user+system):   %.3f s = %.4f%% of one core\n", cpu, 100.0 * cpu / wall);
    std::printf(
        "  VmRSS:               %.1f MiB (at start of the window %.1f MiB), RssAnon %.1f MiB\n",
        rss / 1024.0, rss_before / 1024.0, anon / 1024.0);
    std::printf("RESULT idle_cpu_seconds=%.3f idle_rss_kib=%ld idle_rss_anon_kib=%ld syncs=%zu\n",
                cpu, rss, anon, syncs);
    status = scribe.terminate();
  }
  fs::remove_all(dir);
  return status == 0 ? 0 : 1;
}
