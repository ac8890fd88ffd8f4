// What TrapReceiver hands its traps to: maps the packet's source address to the systems that list
// it, stores one event per system (or one without a system when none does) through the
// EventSink. Runs on the receiver's thread; returns OK only once the events are durable.
//
// Traps from senders no system lists are stored too (the administrator sees who else sends), but
// at a bounded rate: a token bucket per source address and one for all unknown senders; what
// overflows is counted (TrapIngestStats, /metrics) and summarised in a rate-limited log line,
// not stored. Traps of known systems are never limited. While the database is away and an
// address was never resolved, its traps are stored without a system and not limited (they may
// be a known system's). Per-address state is kept in bounded LRU maps.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "ingest/bounded_lru.h"
#include "ingest/event_sink.h"
#include "ingest/log_throttle.h"
#include "ingest/snmp_trap.h"
#include "store/device_store.h"

namespace atrium::ingest {

struct TrapIngestOptions {
  std::size_t max_cached_addresses = 4096;  // address -> systems cache, and unknown senders tracked
  // Unknown senders: each address may store `per_address_burst` traps at once, then
  // `per_address_per_second`; all of them together `global_burst`, then `global_per_second`.
  double per_address_burst = 10;
  double per_address_per_second = 1;
  double global_burst = 200;
  double global_per_second = 50;
};

struct TrapIngestStats {
  std::uint64_t unknown_stored = 0;   // traps of unknown senders stored
  std::uint64_t unknown_limited = 0;  // traps of unknown senders over the rate limit, not stored
  std::size_t cached_addresses = 0;   // entries of the address cache now
};

class TrapIngest {
 public:
  TrapIngest(store::DeviceStore& store, EventSink& sink, const Clock& clock, std::string node,
             TrapIngestOptions options = {});

  Status accept(const SnmpTrap& trap);
  TrapIngestStats stats() const;

 private:
  struct CachedSystems {
    std::vector<std::string> ids;
    std::chrono::steady_clock::time_point fetched;
  };
  struct TokenBucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled{};
    bool started = false;
    bool take(std::chrono::steady_clock::time_point now, double burst, double per_second);
  };
  struct UnknownSender {
    TokenBucket bucket;
  };

  // The ids of the systems listing this address; cached, and from the cache while the
  // database is down (empty when never known).
  Result<std::vector<std::string>> systemsFor(const std::string& address);
  // Whether a trap of this unknown sender may be stored now (logs and counts when not).
  bool admitUnknown(const SnmpTrap& trap);

  store::DeviceStore& store_;
  EventSink& sink_;
  const Clock& clock_;
  std::string node_;
  TrapIngestOptions options_;

  mutable std::mutex mu_;
  BoundedLru<CachedSystems> by_address_;
  BoundedLru<UnknownSender> unknown_;
  TokenBucket global_;
  LogThrottle new_sender_log_{std::chrono::seconds(10)};
  LogThrottle limited_log_{std::chrono::seconds(60)};
  TrapIngestStats stats_;
};

}  // namespace atrium::ingest
