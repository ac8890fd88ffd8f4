// Keeps a log line about something that can repeat per packet (a refused trap, a flood from one
// address) to at most one per interval, carrying the count of occurrences since the last line.
// Not thread-safe: the caller serialises.
#pragma once

#include <chrono>
#include <cstdint>

namespace atrium::ingest {

class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  // Counts one occurrence at `now`. Returns how many occurrences the line due now reports (this
  // one and those held back since the last line), or 0 when no line is due yet.
  std::uint64_t note(std::chrono::steady_clock::time_point now) {
    ++pending_;
    if (logged_once_ && now - last_ < interval_) return 0;
    logged_once_ = true;
    last_ = now;
    const std::uint64_t n = pending_;
    pending_ = 0;
    return n;
  }

 private:
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_{};
  bool logged_once_ = false;
  std::uint64_t pending_ = 0;
};

}  // namespace atrium::ingest
