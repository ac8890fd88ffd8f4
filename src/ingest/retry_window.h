// Tells a retried post from a new one with the same content. A system that got no answer posts
// the same document again within seconds (Cisco: about ten times at one-second intervals), and
// that retry must be stored once; but the same content arriving later is a new event (a second
// boot with the same identification, the same call event on another day). So the stored key is
// the content key salted with the time it was first seen, and a repeat within the window gets
// the same salted key.
//
// This is the node's own window. On PostgreSQL ingest asks the installation's shared window first
// (store::ClusterStore::retryKey, one statement on the database clock), so a retry that a load
// balancer sends to another node gets the same key; this window decides only while the database
// is unreachable (the events then go to the spool), and remembers the keys the shared window
// handed out so a retry during an outage keeps its key. A single node (SQLite) uses it alone.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace atrium::ingest {

class RetryWindow {
 public:
  RetryWindow(std::chrono::milliseconds window, const Clock& clock)
      : window_(window), clock_(clock) {}

  // The key to store for content seen now.
  std::string keyFor(const std::string& content_key);
  // The key this window holds for content first seen within the window, if any.
  std::optional<std::string> peek(const std::string& content_key);
  // Records the key the shared window gave content seen now (kept while it is the same key).
  void remember(const std::string& content_key, const std::string& key);

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
