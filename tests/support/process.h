// Child processes and temporary directories for tests that run the real programs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace atrium::testing {

// A directory under $TMPDIR (or /tmp) removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "atrium-test");
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A program started with fork/exec, its stdout and stderr appended to a log file. Killed
// (SIGKILL) on destruction if still running.
class ChildProcess {
 public:
  static Result<std::unique_ptr<ChildProcess>> spawn(const std::vector<std::string>& argv,
                                                     const std::filesystem::path& log_file,
                                                     const std::vector<std::string>& extra_env = {});
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();
  // Waits for the process to end; the exit code (128+signal if killed), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void signal(int sig);
  void kill();  // SIGKILL and reap
  std::string output() const;  // the log so far

 private:
  ChildProcess(pid_t pid, std::filesystem::path log_file) : pid_(pid), log_file_(std::move(log_file)) {}
  pid_t pid_;
  std::filesystem::path log_file_;
  std::optional<int> exit_code_;
};

// Runs a program to completion; returns its exit code and combined output.
struct RunResult {
  int exit_code = -1;
  std::string output;
};
RunResult runProgram(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(60),
                     const std::vector<std::string>& extra_env = {});

// Polls cond every interval until it holds or the timeout passes; returns whether it held.
bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval = std::chrono::milliseconds(50));

// Sends `request` as it is on a fresh connection to 127.0.0.1:port and reads until the server
// closes it (5 s at most): for requests a client library would tidy up (odd Host headers, HEAD).
std::string rawHttpExchange(std::uint16_t port, const std::string& request);

// A TCP port on 127.0.0.1 that was free a moment ago.
std::uint16_t freePort();
// A loopback UDP port that was free a moment ago.
std::uint16_t freeUdpPort();

std::string readFile(const std::filesystem::path& path);
void writeFile(const std::filesystem::path& path, const std::string& text);

}  // namespace atrium::testing
