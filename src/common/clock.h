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

// Another clock shifted by a fixed offset (its monotonic time is not shifted). The test hook
// ATRIUM_TEST_CLOCK_OFFSET_MS runs a node on one, so the time-sync rule has a wrong clock to find.
class OffsetClock final : public Clock {
 public:
  OffsetClock(const Clock& base, std::chrono::milliseconds offset) : base_(base), offset_(offset) {}
  std::chrono::system_clock::time_point now() const override { return base_.now() + offset_; }
  std::chrono::steady_clock::time_point monotonic() const override { return base_.monotonic(); }
  std::chrono::milliseconds offset() const { return offset_; }

 private:
  const Clock& base_;
  std::chrono::milliseconds offset_;
};

// RFC 3339 in UTC with millisecond precision, e.g. 2026-11-25T19:11:22.123Z.
std::string formatTimestamp(std::chrono::system_clock::time_point t);

}  // namespace atrium
