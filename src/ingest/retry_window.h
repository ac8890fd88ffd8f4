// Tells a retried post from a new one with the same content. A system that got no answer posts
// the same document again within seconds (Cisco: about ten times at one-second intervals), and
// that retry must be stored once; but the same content arriving later is a new event (a second
// boot with the same identification, the same call event on another day). So the stored key is
// the content key salted with the time it was first seen, and a repeat within the window gets
// the same salted key.
//
// The window is per node: a retry that a load balancer sends to another node within the window
// is stored twice (the cluster issue moves this check into the database).
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace atrium::ingest {

class RetryWindow {
 public:
  RetryWindow(std::chrono::milliseconds window, const Clock& clock) : window_(window), clock_(clock) {}

  // The key to store for content seen now.
  std::string keyFor(const std::string& content_key);

 private:
  struct Seen {
    std::chrono::steady_clock::time_point first;
    std::string key;
  };
  void prune(std::chrono::steady_clock::time_point now);

  std::chrono::milliseconds window_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Seen> seen_;
  std::chrono::steady_clock::time_point last_prune_{};
};

}  // namespace atrium::ingest
