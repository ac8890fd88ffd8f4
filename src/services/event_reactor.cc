#include "services/event_reactor.h"

#include <nlohmann/json.hpp>

#include "common/log.h"

namespace atrium::services {
namespace {

constexpr std::size_t kMaxQueuedJobs = 10000;
constexpr std::int64_t kTailPage = 500;
// How long an id missing from the events read is awaited (a transaction still committing).
constexpr auto kGapWindow = std::chrono::seconds(3);
constexpr std::size_t kMaxGaps = 10000;

bool isRestart(const std::string& kind) {
  return kind == "boot" || kind == "registration" || kind == "cold-start" || kind == "warm-start";
}

}  // namespace

EventReactor::EventReactor(store::DeviceStore& store, const devices::DriverRegistry& drivers,
                           const Ownership& ownership, Poller& poller, const PollerOptions& poller_options)
    : store_(store), drivers_(drivers), ownership_(ownership), poller_(poller), poller_options_(poller_options) {}

EventReactor::~EventReactor() { stop(); }

void EventReactor::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void EventReactor::stop() {
  {
    std::lock_guard lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::uint64_t EventReactor::settingsApplied() const {
  std::lock_guard lock(mu_);
  return settings_applied_;
}

void EventReactor::onEventsStored(const std::vector<store::StoredEvent>& events) {
  std::size_t queued = 0;
  {
    std::lock_guard lock(mu_);
    for (const auto& e : events) {
      if (queueLocked(e)) ++queued;
    }
  }
  if (queued > 0) cv_.notify_all();
}

bool EventReactor::queueLocked(const store::StoredEvent& e) {
  if (!e.system_id || !ownership_.owns(*e.system_id)) return false;
  if (!isRestart(e.kind) && e.kind != "notification") return false;
  Job job{*e.system_id, e.kind, "", e.source_address};
  auto payload = nlohmann::json::parse(e.payload, nullptr, false);
  if (payload.is_object() && payload.contains("identity") && payload["identity"].is_object()) {
    job.reported_address = payload["identity"].value("ipv4_address", "");
    if (job.reported_address.empty()) job.reported_address = payload["identity"].value("ipv6_address", "");
  }
  // One reaction per system waits at a time: a system that sends a thousand boot events gets
  // one reaction (to the newest), and cannot hold up the others' behind its own.
  auto queued = pending_.find(job.system_id);
  if (queued != pending_.end()) {
    if (job.kind == "notification" && queued->second.kind != "notification")
      job.kind = queued->second.kind;
    queued->second = std::move(job);
    return false;
  }
  if (jobs_.size() >= kMaxQueuedJobs) {
    log::warn("reactor.queue_full", {{"system_id", *e.system_id}, {"kind", e.kind}});
    return false;
  }
  jobs_.push_back(job.system_id);
  pending_.emplace(job.system_id, std::move(job));
  return true;
}

void EventReactor::followOtherNodes(std::string node_name, std::chrono::milliseconds interval) {
  std::lock_guard lock(mu_);
  node_name_ = std::move(node_name);
  tail_interval_ = interval;
}

void EventReactor::tailSoon() {
  {
    std::lock_guard lock(mu_);
    if (node_name_.empty()) return;
    tail_requested_ = true;
  }
  cv_.notify_all();
}

void EventReactor::tail() {
  const auto now = std::chrono::steady_clock::now();
  if (!last_event_id_) {
    // Start from the newest event: what was stored before this node started is history.
    auto newest = store_.newestEventId();
    if (!newest) {
      log::debug("reactor.tail_failed", {{"reason", newest.error().message}});
      return;
    }
    last_event_id_ = *newest;
    return;
  }
  std::erase_if(gaps_, [&](const auto& g) { return now - g.second > kGapWindow; });
  std::int64_t from = *last_event_id_;
  if (!gaps_.empty()) from = std::min(from, gaps_.begin()->first - 1);
  while (true) {
    auto page = store_.eventsAfter(from, kTailPage);
    if (!page) {
      log::debug("reactor.tail_failed", {{"reason", page.error().message}});
      return;
    }
    std::size_t queued = 0;
    {
      std::lock_guard lock(mu_);
      for (const auto& e : *page) {
        from = std::max(from, e.id);
        if (e.id <= *last_event_id_) {
          if (gaps_.erase(e.id) == 0) continue;  // seen before
        } else {
          for (std::int64_t id = *last_event_id_ + 1; id < e.id && gaps_.size() < kMaxGaps; ++id) gaps_.emplace(id, now);
          last_event_id_ = e.id;
        }
        if (e.node != node_name_ && queueLocked(e)) ++queued;
      }
    }
    if (queued > 0) log::debug("reactor.events_from_other_nodes", {{"queued", queued}});
    if (static_cast<std::int64_t>(page->size()) < kTailPage) break;
  }
}

void EventReactor::run() {
  std::unique_lock lock(mu_);
  auto next_tail = std::chrono::steady_clock::now();
  while (true) {
    if (node_name_.empty()) {
      cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    } else {
      cv_.wait_until(lock, next_tail, [&] { return stopping_ || !jobs_.empty() || tail_requested_; });
    }
    if (stopping_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!node_name_.empty() && (tail_requested_ || now >= next_tail)) {
      tail_requested_ = false;
      next_tail = now + tail_interval_;
      lock.unlock();
      tail();
      lock.lock();
      continue;
    }
    if (jobs_.empty()) continue;
    auto next = pending_.extract(jobs_.front());
    jobs_.pop_front();
    if (next.empty()) continue;
    Job job = std::move(next.mapped());
    lock.unlock();
    // One job's boundary: a driver that throws while settings are re-applied to a system that
    // just booted is that job's failure, not the end of the reactor thread (and of the node).
    try {
      handle(job);
    } catch (const std::exception& e) {
      log::error("reactor.job_failed",
                 {{"system_id", job.system_id}, {"after", job.kind}, {"error", e.what()}});
    }
    lock.lock();
  }
}

void EventReactor::handle(const Job& job) {
  if (job.kind == "notification") {
    poller_.pollSoon(job.system_id);
    return;
  }
  auto managed = store_.managedSystem(job.system_id);
  if (!managed) {
    log::warn("reactor.system_unreadable", {{"system_id", job.system_id}, {"reason", managed.error().message}});
    return;
  }
  const auto& s = *managed;
  if (auto next = settler_.observe(s.system.id, s.system.connectivity, job.reported_address, job.source_address)) {
    if (auto set = store_.setConnectivity(s.system.id, *next); set) {
      log::info("system.connectivity_settled", {{"system_id", s.system.id}, {"from", s.system.connectivity},
                                                {"to", *next}, {"reported_address", job.reported_address},
                                                {"source_address", job.source_address}});
    }
  }
  devices::Driver* driver = drivers_.find(s.system.family);
  devices::PersistentSettings settings{s.system.name, s.h323_id, s.e164_alias, s.sip_uri};
  if (driver != nullptr && driver->capabilities().has(devices::Capability::kConfigurationPush) &&
      s.system.connectivity != "inaccessible" && s.system.connectivity != "behind-firewall") {
    devices::DriverTarget t;
    t.system_id = s.system.id;
    t.address = s.system.addresses.empty() ? std::string() : s.system.addresses.front();
    t.port = s.system.family == "snmp" ? poller_options_.snmp_port : poller_options_.http_port;
    t.username = s.system.username;
    t.password = store_.systemPasswordOrEmpty(s.system);
    t.timeout = poller_options_.timeout;
    t.max_answer_bytes = poller_options_.max_answer_bytes;
    auto applied = driver->applySettings(t, settings);
    if (applied) {
      std::lock_guard lock(mu_);
      ++settings_applied_;
      log::info("system.settings_reapplied", {{"system_id", s.system.id}, {"after", job.kind}});
    } else {
      log::warn("system.settings_not_reapplied", {{"system_id", s.system.id}, {"reason", applied.error().message}});
    }
  }
  poller_.pollSoon(s.system.id);
}

}  // namespace atrium::services
