// What the server does when a stored event says a system restarted or re-registered, as TMS
// does: settle its connectivity from the address it reports (ConnectivitySettler), write its
// persistent settings back (system name, H.323 ID, E.164 alias, SIP URI) and poll it at once.
// Bridge notifications are a hint to re-read: the system is polled at once. Only systems this
// node owns are acted on. The work runs on a thread of its own, never on the thread that stored
// the events.
//
// In a cluster an event may reach a node that does not own its system (the load balancer picks
// the node). That node stores it; the owner learns of it by following the events table: after
// followOtherNodes(), the reactor reads the events other nodes stored (id above the last seen)
// at each interval and on tailSoon() (a NOTIFY "events:<system_id>"), and reacts to those about
// systems it owns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "devices/driver.h"
#include "ingest/event_sink.h"
#include "services/connectivity.h"
#include "services/ownership.h"
#include "services/poller.h"
#include "store/device_store.h"

namespace atrium::services {

class EventReactor final : public ingest::EventObserver {
 public:
  EventReactor(store::DeviceStore& store, const devices::DriverRegistry& drivers, const Ownership& ownership,
               Poller& poller, const PollerOptions& poller_options);
  EventReactor(const EventReactor&) = delete;
  EventReactor& operator=(const EventReactor&) = delete;
  ~EventReactor() override;

  void start();
  void stop();
  void onEventsStored(const std::vector<store::StoredEvent>& events) override;

  // Cluster: also react to events stored by other nodes (their `node` differs from `node_name`),
  // read every `interval`. Call before start().
  void followOtherNodes(std::string node_name, std::chrono::milliseconds interval);
  // Reads the events other nodes stored now (after a NOTIFY).
  void tailSoon();

  std::uint64_t settingsApplied() const;

 private:
  struct Job {
    std::string system_id;
    std::string kind;
    std::string reported_address;
    std::string source_address;
  };
  void run();
  void handle(const Job& job);
  // Queues the reaction to one event, if any; false when the queue is full.
  bool queueLocked(const store::StoredEvent& e);
  // Reads events stored by other nodes since the last read (runs on the reactor's thread).
  void tail();

  store::DeviceStore& store_;
  const devices::DriverRegistry& drivers_;
  const Ownership& ownership_;
  Poller& poller_;
  PollerOptions poller_options_;
  ConnectivitySettler settler_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> jobs_;                  // system ids, in the order first queued
  std::unordered_map<std::string, Job> pending_;  // the one waiting reaction of each system
  bool stopping_ = false;
  std::uint64_t settings_applied_ = 0;
  std::thread thread_;

  // Following other nodes' events. Ids are taken from a sequence by concurrent transactions, so
  // a lower id may commit after a higher one was read: missing ids are re-read for a while.
  std::string node_name_;  // "" : not following
  std::chrono::milliseconds tail_interval_{1000};
  bool tail_requested_ = false;
  std::optional<std::int64_t> last_event_id_;
  std::map<std::int64_t, std::chrono::steady_clock::time_point> gaps_;
};

}  // namespace atrium::services
