// Polls the systems this node owns, each on an interval with jitter, through its family's driver,
// and records what it saw: reachability, call state, registration, software version, last seen.
// Concurrency is bounded by a fixed pool of workers and every call has a timeout, so a slow or
// dead system never stalls the others; a system that keeps failing is polled less often (up to
// 8x the interval) until it answers again. Raises and clears the per-system tickets polling can
// see (no response, authentication failed, feedback not registered / slot failed, duplicate
// address, wrong server address, unexpected software version) and keeps HTTP feedback registered
// to this installation. Installation settings (server addresses, expected software versions) are
// re-read at each refresh.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "devices/driver.h"
#include "services/ownership.h"
#include "store/device_store.h"

namespace boost::asio {
class thread_pool;
}

namespace atrium::services {

struct PollerOptions {
  std::chrono::milliseconds interval{60000};  // between two polls of one system
  double jitter = 0.2;                        // each interval is +-20% at random
  std::size_t workers = 16;                   // polls in flight at most
  std::chrono::milliseconds timeout{5000};    // per driver call
  std::chrono::milliseconds refresh{10000};   // re-read the inventory
  // Management ports when the systems do not use their family's default (0: 80 / 161).
  std::uint16_t http_port = 0;
  std::uint16_t snmp_port = 0;
  // The largest answer read from a system (devices.max_answer_bytes).
  std::uint64_t max_answer_bytes = 16 * 1024 * 1024;
  // HTTP feedback: the slot Atrium uses on Cisco endpoints (TMS's convention is 3) and the
  // expressions it registers.
  int feedback_slot = 3;
  std::vector<std::string> feedback_expressions = {
      "/Event/CallSuccessful", "/Event/CallDisconnect",   "/Status/Call",
      "/Status/H323/Gatekeeper", "/Status/SIP/Registration", "/Event/BootEvent",
  };
  std::uint32_t seed = 0;  // jitter; 0: from the clock
};

struct PollerStats {
  std::uint64_t polls = 0;
  std::uint64_t failures = 0;
  std::uint64_t feedback_registrations = 0;
  std::size_t systems = 0;    // owned systems scheduled
  std::size_t in_flight = 0;
};

class Poller {
 public:
  Poller(PollerOptions options, store::DeviceStore& store, const devices::DriverRegistry& drivers,
         const Ownership& ownership, const Clock& clock);
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  ~Poller();

  void start();
  void stop();
  // Polls this system as soon as a worker is free (after a boot event, an API request, ...).
  void pollSoon(const std::string& system_id);
  // Re-reads the inventory now instead of at the next refresh.
  void refreshSoon();
  // The set of systems this node owns changed (cluster buckets moved): re-read the inventory at
  // once, poll newly owned systems at once, drop the ones no longer owned.
  void ownershipChanged();
  PollerStats stats() const;

 private:
  struct Entry {
    store::ManagedSystem system;
    std::chrono::steady_clock::time_point due;
    int failures = 0;
    bool in_flight = false;
    bool feedback_registered = false;  // bridges: receiver configured since start
  };

  void run();
  void refresh();
  void dispatchDue(std::chrono::steady_clock::time_point now);
  // `fence`: the lease held when the poll was dispatched; its result is written under it.
  // Runs pollOne and then finished(), whatever pollOne throws.
  void pollGuarded(const store::ManagedSystem& system, bool feedback_registered,
                   const std::optional<store::Fence>& fence);
  // Whether the poll succeeded; `feedback_registered` is updated.
  bool pollOne(const store::ManagedSystem& system, bool& feedback_registered,
               const std::optional<store::Fence>& fence);
  // Records an unexpected exception from a poll as the system's poll failure, with a ticket.
  void pollCrashed(const store::ManagedSystem& system, std::string_view what,
                   const std::optional<store::Fence>& fence) noexcept;
  void finished(const std::string& id, bool ok, bool feedback_registered);
  // Writes a poll's observation under this node's lease on the system; false when the result
  // must be dropped (the system is no longer owned, or the fenced write found the lease lost).
  bool record(store::PollObservation& o, const std::optional<store::Fence>& fence);
  std::chrono::milliseconds nextDelay(int failures);
  devices::DriverTarget targetFor(const store::ManagedSystem& system) const;
  void checkSoftwareVersion(const std::string& system_id, const devices::SystemIdentity& identity);
  void checkFeedback(devices::Driver& driver, const devices::DriverTarget& target,
                     const store::ManagedSystem& system, const devices::DeviceStatus& status,
                     bool& registered);

  PollerOptions options_;
  store::DeviceStore& store_;
  const devices::DriverRegistry& drivers_;
  const Ownership& ownership_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool refresh_requested_ = true;
  bool poll_new_at_once_ = false;  // the next refresh follows an ownership change
  std::set<std::string> fenced_logged_;  // systems whose lost lease was logged (once each)
  std::map<std::string, Entry> entries_;
  std::chrono::steady_clock::time_point next_refresh_{};
  std::uint64_t rng_state_;
  PollerStats stats_;
  std::optional<store::ServerAddresses> addresses_;
  std::optional<std::map<std::string, std::string>> expected_versions_;  // model -> version

  std::unique_ptr<boost::asio::thread_pool> pool_;
  std::thread scheduler_;
};

}  // namespace atrium::services
