// Time as an injected interface: nothing reads the system clock directly, so tests can drive a
// fake clock instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

namespace atrium {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
  virtual std::chrono::steady_clock::time_point monotonic() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point monotonic() const override {
    return std::chrono::steady_clock::now();
  }
};

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point start = {}) : now_(start.time_since_epoch()) {}
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::time_point(now_.load());
  }
  std::chrono::steady_clock::time_point monotonic() const override {
    return std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(now_.load()));
  }
  void advance(std::chrono::system_clock::duration d) { now_ = now_.load() + d; }

 private:
  std::atomic<std::chrono::system_clock::duration> now_;
};

// RFC 3339 in UTC with millisecond precision, e.g. 2026-11-25T19:11:22.123Z.
std::string formatTimestamp(std::chrono::system_clock::time_point t);

}  // namespace atrium
