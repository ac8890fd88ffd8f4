// HTTP feedback as it arrives at POST /feedback/{secret}: the secret names the system, the body
// is a Cisco xAPI feedback document (<Event>, <Status>, <Configuration>) or a Cisco MCU XML-RPC
// eventNotification, and the events it holds go to the EventSink. Blocking (database, fsync):
// the API server runs it on its database pool.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/result.h"
#include "ingest/event_sink.h"
#include "ingest/retry_window.h"
#include "store/cluster_store.h"
#include "store/device_store.h"

namespace atrium::ingest {

struct FeedbackStats {
  std::uint64_t posts = 0;           // accepted posts
  std::uint64_t events = 0;          // events in accepted posts
  std::uint64_t unknown_secret = 0;  // refused: no system has the secret
  std::uint64_t malformed = 0;       // refused: the body could not be parsed
};

class FeedbackIngest {
 public:
  // `shared_retries`: the installation's retry window in the database (a cluster); nullptr
  // keeps the node's own window only (a single node).
  FeedbackIngest(store::DeviceStore& store, EventSink& sink, const Clock& clock, std::string node,
                 store::ClusterStore* shared_retries = nullptr);

  // The number of events accepted (durable). Errors: not_found (unknown secret; nothing
  // stored), invalid_argument (malformed body: a malformed-input ticket and a "malformed" event
  // are recorded), unavailable (neither the database nor the spool took the events).
  Result<std::size_t> handle(std::string_view secret, std::string_view body,
                             const std::string& peer_address);

  FeedbackStats stats() const;

 private:
  // The system with this secret: from the cache while fresh or while the database is down.
  Result<std::string> systemFor(const std::string& secret);
  // The idempotency key for content seen now: the shared window's while the database answers,
  // the node's own otherwise.
  std::string retryKeyFor(const std::string& content_key);
  void noteUnknownSecret(const std::string& peer_address);
  Status recordMalformed(const std::string& system_id, std::string_view body,
                         const std::string& peer_address, const std::string& reason);

  store::DeviceStore& store_;
  EventSink& sink_;
  const Clock& clock_;
  std::string node_;
  store::ClusterStore* shared_retries_;
  // A repeat of a post within a minute is the system retrying (stored once); later, a new event.
  static constexpr std::chrono::milliseconds kRetryWindow{60'000};
  RetryWindow retries_{kRetryWindow, clock_};

  struct CachedSystem {
    std::string system_id;
    std::chrono::steady_clock::time_point fetched;
  };
  std::mutex mu_;
  std::unordered_map<std::string, CachedSystem> by_secret_;
  std::chrono::steady_clock::time_point last_unknown_log_{};
  std::uint64_t unknown_since_log_ = 0;

  std::atomic<std::uint64_t> posts_{0};
  std::atomic<std::uint64_t> events_{0};
  std::atomic<std::uint64_t> unknown_secret_{0};
  std::atomic<std::uint64_t> malformed_{0};
};

}  // namespace atrium::ingest
