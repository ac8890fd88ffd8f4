// HTTP feedback as it arrives at POST /feedback/{secret}: the secret names the system, the body
// is a Cisco xAPI feedback document (<Event>, <Status>, <Configuration>) or a Cisco MCU XML-RPC
// eventNotification, and the events it holds go to the EventSink. Blocking (database, fsync):
// the API server runs it on its database pool.
//
// Retries: every feedback event carries the key of its content (StoredEvent::retry_key), and the
// store keeps one event per content within store::kRetryWindow, so a retry is stored once
// whichever node receives it and whether it is committed directly or replayed from a spool.
//
// Secrets: every known system's secret is loaded at start, those of systems created since are
// read every second and all of them again every minute, so that while the database is away the
// node still takes (and spools) the posts of every system, even right after its own restart.
//
// Limits: a post becomes at most `max_events_per_post` events, and a system's feedback at most
// `max_events_per_system_per_second` events (bursts of ten seconds' worth); what is dropped is
// counted and reported in a feedback-flood ticket, and the post is still answered.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "common/clock.h"
#include "common/result.h"
#include "ingest/event_sink.h"
#include "store/device_store.h"

namespace atrium::ingest {

struct FeedbackStats {
  std::uint64_t posts = 0;           // accepted posts
  std::uint64_t events = 0;          // events in accepted posts
  std::uint64_t unknown_secret = 0;  // refused: no system has the secret
  std::uint64_t malformed = 0;       // refused: the body could not be parsed
  std::uint64_t dropped_events = 0;  // over max_events_per_post or the system's rate
  std::uint64_t known_secrets = 0;   // systems whose secret the node holds
};

struct FeedbackLimits {
  std::size_t max_events_per_post = 100;
  std::size_t max_events_per_system_per_second = 1000;
  // How often the secrets of systems created lately (on any node) are read, and how often every
  // secret is re-read (which also forgets removed systems).
  std::chrono::milliseconds secrets_refresh{1000};
  std::chrono::milliseconds secrets_reload{60'000};
};

class FeedbackIngest {
 public:
  FeedbackIngest(store::DeviceStore& store, EventSink& sink, const Clock& clock, std::string node,
                 FeedbackLimits limits = {});
  FeedbackIngest(const FeedbackIngest&) = delete;
  FeedbackIngest& operator=(const FeedbackIngest&) = delete;
  ~FeedbackIngest();

  // Loads every known secret now (a failure is logged and retried by the reload thread) and
  // starts the thread that reloads them. stop() ends it; both idempotent.
  void start();
  void stop();
  // Replaces the secret cache with what the database holds now; with `created_since`, adds the
  // systems created since then only.
  Status loadSecrets(std::optional<store::TimePoint> created_since = std::nullopt);

  // The number of events accepted (durable). Errors: not_found (unknown secret; nothing
  // stored), invalid_argument (malformed body: a malformed-input ticket and a "malformed" event
  // are recorded), unavailable (neither the database nor the spool took the events, or the
  // database is away and the secret was never known to this node).
  Result<std::size_t> handle(std::string_view secret, std::string_view body,
                             const std::string& peer_address);

  FeedbackStats stats() const;

 private:
  // The system with this secret: from the cache while fresh or while the database is down.
  Result<std::string> systemFor(const std::string& secret);
  void noteUnknownSecret(const std::string& peer_address);
  Status recordMalformed(const std::string& system_id, std::string_view body,
                         const std::string& peer_address, const std::string& reason);
  // How many of `wanted` events this system may send now (its token bucket).
  std::size_t allowance(const std::string& system_id, std::size_t wanted);
  void reportDropped(const std::string& system_id, std::size_t dropped, std::size_t parsed,
                     bool over_post_limit);
  void reloadLoop();

  store::DeviceStore& store_;
  EventSink& sink_;
  const Clock& clock_;
  std::string node_;
  FeedbackLimits limits_;

  struct CachedSystem {
    std::string system_id;
    std::chrono::steady_clock::time_point fetched;
  };
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled;
    std::chrono::steady_clock::time_point last_ticket{};
    std::uint64_t dropped_since_ticket = 0;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, CachedSystem> by_secret_;
  std::unordered_map<std::string, Bucket> buckets_;  // by system id
  std::chrono::steady_clock::time_point last_unknown_log_{};
  std::uint64_t unknown_since_log_ = 0;

  std::mutex thread_mu_;
  std::condition_variable thread_cv_;
  bool stopping_ = false;
  std::thread reload_thread_;

  std::atomic<std::uint64_t> posts_{0};
  std::atomic<std::uint64_t> events_{0};
  std::atomic<std::uint64_t> unknown_secret_{0};
  std::atomic<std::uint64_t> malformed_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace atrium::ingest
