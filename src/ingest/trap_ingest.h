// What TrapReceiver hands its traps to: maps the packet's source address to the systems that list
// it, stores one event per system (or one without a system when none does) through the
// EventSink. Runs on the receiver's thread; returns OK only once the events are durable.
#pragma once

#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "ingest/event_sink.h"
#include "ingest/snmp_trap.h"
#include "store/device_store.h"

namespace atrium::ingest {

class TrapIngest {
 public:
  TrapIngest(store::DeviceStore& store, EventSink& sink, const Clock& clock, std::string node);

  Status accept(const SnmpTrap& trap);

 private:
  // The ids of the systems listing this address; cached, and from the cache while the
  // database is down (empty when never known).
  Result<std::vector<std::string>> systemsFor(const std::string& address);

  store::DeviceStore& store_;
  EventSink& sink_;
  const Clock& clock_;
  std::string node_;

  struct CachedSystems {
    std::vector<std::string> ids;
    std::chrono::steady_clock::time_point fetched;
  };
  std::mutex mu_;
  std::unordered_map<std::string, CachedSystems> by_address_;
  std::set<std::string> unknown_logged_;
};

}  // namespace atrium::ingest
