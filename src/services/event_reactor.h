// What the server does when a stored event says a system restarted or re-registered, as TMS
// does: settle its connectivity from the address it reports (ConnectivitySettler), write its
// persistent settings back (system name, H.323 ID, E.164 alias, SIP URI) and poll it at once.
// Bridge notifications are a hint to re-read: the system is polled at once. Only systems this
// node owns are acted on. The work runs on a thread of its own, never on the thread that stored
// the events.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

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

  store::DeviceStore& store_;
  const devices::DriverRegistry& drivers_;
  const Ownership& ownership_;
  Poller& poller_;
  PollerOptions poller_options_;
  ConnectivitySettler settler_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::uint64_t settings_applied_ = 0;
  std::thread thread_;
};

}  // namespace atrium::services
