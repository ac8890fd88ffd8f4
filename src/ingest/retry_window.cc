#include "ingest/retry_window.h"

#include <fmt/format.h>

#include "devices/event_key.h"

namespace atrium::ingest {

std::string RetryWindow::keyFor(const std::string& content_key) {
  const auto now = clock_.monotonic();
  std::lock_guard lock(mu_);
  prune(now);
  auto it = seen_.find(content_key);
  if (it != seen_.end() && now - it->second.first <= window_) return it->second.key;
  const auto wall =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
          .count();
  std::string key = devices::sha256Hex(fmt::format("{}@{}", content_key, wall));
  seen_[content_key] = Seen{now, key};
  return key;
}

std::optional<std::string> RetryWindow::peek(const std::string& content_key) {
  const auto now = clock_.monotonic();
  std::lock_guard lock(mu_);
  auto it = seen_.find(content_key);
  if (it != seen_.end() && now - it->second.first <= window_) return it->second.key;
  return std::nullopt;
}

void RetryWindow::remember(const std::string& content_key, const std::string& key) {
  const auto now = clock_.monotonic();
  std::lock_guard lock(mu_);
  prune(now);
  auto it = seen_.find(content_key);
  if (it != seen_.end() && it->second.key == key) return;
  seen_[content_key] = Seen{now, key};
}

void RetryWindow::prune(std::chrono::steady_clock::time_point now) {
  if (now - last_prune_ < window_) return;
  last_prune_ = now;
  for (auto it = seen_.begin(); it != seen_.end();) {
    it = now - it->second.first > window_ ? seen_.erase(it) : std::next(it);
  }
}

}  // namespace atrium::ingest
