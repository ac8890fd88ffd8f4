#include "services/poller.h"

#include <algorithm>
#include <map>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include "common/log.h"
#include "services/feedback_url.h"

namespace atrium::services {
namespace {

constexpr std::int64_t kRefreshPage = 1000;
constexpr int kMaxBackoffFactor = 8;
constexpr auto kMaxWait = std::chrono::milliseconds(200);

bool activeCall(const devices::CallInfo& c) {
  using devices::CallState;
  return c.state != CallState::kIdle && c.state != CallState::kDisconnected;
}

std::string registrationWord(const devices::Registration& r) {
  if (!r.status.empty()) return r.status;
  return r.state == devices::RegistrationState::kUnknown ? std::string()
                                                         : std::string(devices::registrationStateName(r.state));
}

store::PollObservation observationOf(const std::string& system_id, store::TimePoint at, const devices::DeviceStatus& s) {
  store::PollObservation o;
  o.system_id = system_id;
  o.at = at;
  o.reachable = true;
  o.active_calls = static_cast<int>(std::count_if(s.calls.begin(), s.calls.end(), activeCall));
  o.status = o.active_calls > 0 ? "in-call" : "idle";
  o.model = s.identity.product;
  o.serial_number = s.identity.serial_number;
  o.software_version = s.identity.software_version;
  o.mac_address = s.identity.mac_address;
  o.reported_name = s.identity.system_name;
  o.reported_address = !s.identity.ipv4_address.empty() ? s.identity.ipv4_address : s.identity.ipv6_address;
  o.h323_status = registrationWord(s.h323);
  o.sip_status = registrationWord(s.sip);
  return o;
}

}  // namespace

Poller::Poller(PollerOptions options, store::DeviceStore& store, const devices::DriverRegistry& drivers,
               const Ownership& ownership, const Clock& clock)
    : options_(std::move(options)),
      store_(store),
      drivers_(drivers),
      ownership_(ownership),
      clock_(clock),
      rng_state_(options_.seed != 0 ? options_.seed
                                    : static_cast<std::uint64_t>(clock.now().time_since_epoch().count()) | 1) {}

Poller::~Poller() { stop(); }

void Poller::start() {
  std::lock_guard lock(mu_);
  if (scheduler_.joinable()) return;
  stopping_ = false;
  pool_ = std::make_unique<boost::asio::thread_pool>(std::max<std::size_t>(1, options_.workers));
  scheduler_ = std::thread([this] { run(); });
  log::info("poller.started", {{"interval_ms", options_.interval.count()}, {"workers", options_.workers}});
}

void Poller::stop() {
  {
    std::lock_guard lock(mu_);
    if (!scheduler_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  scheduler_.join();
  pool_->join();  // polls in flight finish (each is bounded by its timeout)
  pool_.reset();
  log::info("poller.stopped", {});
}

void Poller::pollSoon(const std::string& system_id) {
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(system_id);
    if (it == entries_.end()) {
      refresh_requested_ = true;  // a system added since the last refresh
    } else {
      it->second.due = clock_.monotonic();
    }
  }
  cv_.notify_all();
}

void Poller::refreshSoon() {
  {
    std::lock_guard lock(mu_);
    refresh_requested_ = true;
  }
  cv_.notify_all();
}

void Poller::ownershipChanged() {
  {
    std::lock_guard lock(mu_);
    refresh_requested_ = true;
    poll_new_at_once_ = true;
  }
  cv_.notify_all();
}

PollerStats Poller::stats() const {
  std::lock_guard lock(mu_);
  PollerStats s = stats_;
  s.systems = entries_.size();
  return s;
}

std::chrono::milliseconds Poller::nextDelay(int failures) {
  // xorshift64: cheap, and good enough to spread polls.
  rng_state_ ^= rng_state_ << 13;
  rng_state_ ^= rng_state_ >> 7;
  rng_state_ ^= rng_state_ << 17;
  const double unit = static_cast<double>(rng_state_ % 1000000) / 1000000.0;  // [0, 1)
  const int factor = std::min(kMaxBackoffFactor, 1 << std::min(failures, 3));
  const double base = static_cast<double>(options_.interval.count()) * factor;
  const double jittered = base * (1.0 + options_.jitter * (2.0 * unit - 1.0));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::max(1.0, jittered)));
}

void Poller::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto now = clock_.monotonic();
    if (refresh_requested_ || now >= next_refresh_) {
      refresh_requested_ = false;
      next_refresh_ = now + options_.refresh;
      lock.unlock();
      refresh();
      lock.lock();
      continue;
    }
    dispatchDue(now);
    auto wake = next_refresh_;
    for (const auto& [id, e] : entries_) {
      if (!e.in_flight) wake = std::min(wake, e.due);
    }
    const auto wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(wake - clock_.monotonic()),
                                 std::chrono::milliseconds(1), kMaxWait);
    cv_.wait_for(lock, wait);
  }
}

void Poller::refresh() {
  bool poll_new_at_once = false;
  {
    std::lock_guard lock(mu_);
    std::swap(poll_new_at_once, poll_new_at_once_);
  }
  // Read the inventory page by page, outside the lock.
  std::vector<store::ManagedSystem> owned;
  std::string after;
  while (true) {
    auto page = store_.managedSystems(after, kRefreshPage);
    if (!page) {
      log::warn("poller.refresh_failed", {{"reason", page.error().message}});
      std::lock_guard lock(mu_);
      next_refresh_ = clock_.monotonic() + std::min(options_.refresh, std::chrono::milliseconds(2000));
      return;
    }
    for (auto& s : *page) {
      const std::string& c = s.system.connectivity;
      // Systems behind a firewall or marked inaccessible are not contacted; they reach us.
      if (ownership_.owns(s.system.id) && (c == "reachable-lan" || c == "reachable-public")) owned.push_back(s);
    }
    if (static_cast<std::int64_t>(page->size()) < kRefreshPage) break;
    after = page->back().system.id;
  }
  auto addresses = store_.serverAddresses();
  auto expected_versions = store_.expectedSoftwareVersions();
  if (!expected_versions) {
    log::warn("poller.settings_unreadable",
              {{"setting", "software-versions"}, {"reason", expected_versions.error().message}});
  }

  // Duplicate addresses among the systems this node owns.
  std::map<std::string, std::vector<const store::ManagedSystem*>> by_address;
  for (const auto& s : owned) {
    if (!s.system.addresses.empty()) by_address[s.system.addresses.front()].push_back(&s);
  }
  for (const auto& [address, systems] : by_address) {
    for (const auto* s : systems) {
      if (systems.size() > 1) {
        (void)store_.raiseTicket(s->system.id, store::kTicketDuplicateAddress, "major",
                                 fmt::format("{} other system(s) have the address {}", systems.size() - 1, address));
      } else {
        (void)store_.clearTicket(s->system.id, store::kTicketDuplicateAddress);
      }
    }
  }

  std::lock_guard lock(mu_);
  if (addresses) addresses_ = *addresses;
  if (expected_versions) expected_versions_ = std::move(*expected_versions);
  const auto now = clock_.monotonic();
  std::map<std::string, Entry> next;
  for (auto& s : owned) {
    auto it = entries_.find(s.system.id);
    if (it != entries_.end()) {
      Entry e = std::move(it->second);
      e.system = std::move(s);
      next.emplace(e.system.system.id, std::move(e));
    } else {
      Entry e;
      // New systems start at a random point of the first interval, so a large fleet is not
      // polled all at once.
      e.due = now + std::chrono::milliseconds(nextDelay(0).count() % std::max<std::int64_t>(1, options_.interval.count()));
      // At start-up, and for systems this node just took over, see every system once quickly.
      if (entries_.empty() || poll_new_at_once) e.due = now;
      e.system = std::move(s);
      next.emplace(e.system.system.id, std::move(e));
    }
  }
  entries_ = std::move(next);
}

void Poller::dispatchDue(std::chrono::steady_clock::time_point now) {
  for (auto& [id, e] : entries_) {
    if (e.in_flight || e.due > now) continue;
    if (stats_.in_flight >= options_.workers * 4) return;  // the queue is full enough
    if (!ownership_.owns(id)) continue;  // the lease lapsed: the next refresh drops it
    e.in_flight = true;
    ++stats_.in_flight;
    // The poll's result is written under the lease held when it started: if the node pauses, loses
    // the bucket and takes it back (a new token) while this poll is in flight, the database
    // refuses the stale result instead of letting it overwrite the newer owner's poll.
    boost::asio::post(
        *pool_, [this, system = e.system, registered = e.feedback_registered,
                 fence = ownership_.fenceFor(id)] { pollGuarded(system, registered, fence); });
  }
}

devices::DriverTarget Poller::targetFor(const store::ManagedSystem& s) const {
  devices::DriverTarget t;
  t.system_id = s.system.id;
  t.address = s.system.addresses.empty() ? std::string() : s.system.addresses.front();
  t.port = s.system.family == "snmp" ? options_.snmp_port : options_.http_port;
  t.username = s.system.username;
  t.password = store_.systemPasswordOrEmpty(s.system);
  t.timeout = options_.timeout;
  t.max_answer_bytes = options_.max_answer_bytes;
  return t;
}

void Poller::pollGuarded(const store::ManagedSystem& s, bool feedback_registered,
                         const std::optional<store::Fence>& fence) {
  bool ok = false;
  // The boundary of one poll on a worker thread: whatever a driver or a device's answer makes
  // throw is this system's poll failure (logged, recorded, ticketed), never the process's end.
  try {
    ok = pollOne(s, feedback_registered, fence);
  } catch (const std::exception& e) {
    pollCrashed(s, e.what(), fence);
  } catch (...) {
    pollCrashed(s, "an exception of unknown type", fence);
  }
  finished(s.system.id, ok, feedback_registered);
}

void Poller::pollCrashed(const store::ManagedSystem& s, std::string_view what,
                         const std::optional<store::Fence>& fence) noexcept {
  const std::string& id = s.system.id;
  try {
    const std::string message =
        fmt::format("{} system at {}: polling failed unexpectedly: {}", s.system.family,
                    s.system.addresses.empty() ? std::string() : s.system.addresses.front(), what);
    log::error("poller.poll_crashed",
               {{"system_id", id}, {"family", s.system.family}, {"error", std::string(what)}});
    store::PollObservation o;
    o.system_id = id;
    o.at = clock_.now();
    o.reachable = true;
    o.status = "error";
    o.error = message;
    if (record(o, fence)) {
      (void)store_.raiseTicket(id, store::kTicketUnreadableAnswer, "minor", message);
    }
  } catch (const std::exception& e) {
    log::error("poller.poll_crash_unrecorded", {{"system_id", id}, {"error", e.what()}});
  }
}

bool Poller::pollOne(const store::ManagedSystem& s, bool& feedback_registered,
                     const std::optional<store::Fence>& fence) {
  const std::string& id = s.system.id;
  devices::Driver* driver = drivers_.find(s.system.family);
  if (driver == nullptr) {
    log::warn("poller.no_driver", {{"system_id", id}, {"family", s.system.family}});
    return false;
  }
  const auto target = targetFor(s);
  auto status = driver->poll(target);
  const auto at = clock_.now();
  if (!status) {
    const auto& err = status.error();
    store::PollObservation o;
    o.system_id = id;
    o.at = at;
    o.reachable = err.code != ErrorCode::kUnavailable && err.code != ErrorCode::kTimeout;
    o.status = err.code == ErrorCode::kUnauthorized ? "auth-failed" : o.reachable ? "error" : "unreachable";
    o.error = err.message;
    if (!record(o, fence)) {
      return false;
    }
    if (err.code == ErrorCode::kUnauthorized) {
      (void)store_.raiseTicket(id, store::kTicketAuthenticationFailed, "critical",
                               fmt::format("the system refused Atrium's credentials: {}", err.message));
      (void)store_.clearTicket(id, store::kTicketNoResponse);
    } else if (!o.reachable) {
      (void)store_.raiseTicket(id, store::kTicketNoResponse, "major", err.message);
    } else {
      (void)store_.raiseTicket(id, store::kTicketUnreadableAnswer, "minor", err.message);
      (void)store_.clearTicket(id, store::kTicketNoResponse);
    }
    if (err.code == ErrorCode::kInternal) {
      // It answered something Atrium cannot read (over devices.max_answer_bytes, malformed):
      // rare and worth the administrator's eye; failures back off, so this does not flood.
      log::warn("poller.unreadable_answer", {{"system_id", id}, {"reason", err.message}});
    } else {
      log::debug("poller.poll_failed", {{"system_id", id}, {"reason", err.message}});
    }
    return false;
  }
  auto observation = observationOf(id, at, *status);
  if (!record(observation, fence)) {
    return false;
  }
  (void)store_.clearTicket(id, store::kTicketNoResponse);
  (void)store_.clearTicket(id, store::kTicketAuthenticationFailed);
  (void)store_.clearTicket(id, store::kTicketUnreadableAnswer);
  checkSoftwareVersion(id, status->identity);
  if (driver->capabilities().has(devices::Capability::kHttpFeedback)) {
    checkFeedback(*driver, target, s, *status, feedback_registered);
  }
  return true;
}

bool Poller::record(store::PollObservation& o, const std::optional<store::Fence>& fence) {
  const std::string& id = o.system_id;
  if (!ownership_.owns(id)) {
    log::debug("poller.result_dropped", {{"system_id", id}, {"reason", "no longer owned"}});
    return false;
  }
  if (fence) o.node_id = fence->holder;
  auto recorded = store_.recordPoll(o, fence);
  if (recorded) {
    std::lock_guard lock(mu_);
    fenced_logged_.erase(id);
    return true;
  }
  if (fence && recorded.error().code == ErrorCode::kConflict) {
    bool first = false;
    {
      std::lock_guard lock(mu_);
      first = fenced_logged_.insert(id).second;
    }
    if (first) {
      log::warn("poll.fenced", {{"system_id", id}, {"lease", fence->lease_key}, {"token", fence->token},
                                {"reason", recorded.error().message}});
    }
    return false;
  }
  log::warn("poller.record_failed", {{"system_id", id}, {"reason", recorded.error().message}});
  return true;  // the database stumbled; tickets and feedback still follow what the poll saw
}

void Poller::checkSoftwareVersion(const std::string& system_id, const devices::SystemIdentity& identity) {
  std::optional<std::string> expected;
  {
    std::lock_guard lock(mu_);
    if (!expected_versions_) return;  // never read: neither raise nor clear
    auto it = expected_versions_->find(identity.product);
    if (it != expected_versions_->end()) expected = it->second;
  }
  if (expected && !identity.software_version.empty() && identity.software_version != *expected) {
    (void)store_.raiseTicket(system_id, store::kTicketUnexpectedSoftware, "warning",
                             fmt::format("{} runs software {}; the installation expects {} on this model",
                                         identity.product, identity.software_version, *expected));
  } else {
    (void)store_.clearTicket(system_id, store::kTicketUnexpectedSoftware);
  }
}

void Poller::checkFeedback(devices::Driver& driver, const devices::DriverTarget& target,
                           const store::ManagedSystem& s, const devices::DeviceStatus& status, bool& registered) {
  std::optional<store::ServerAddresses> addresses;
  {
    std::lock_guard lock(mu_);
    addresses = addresses_;
  }
  if (!addresses) return;
  auto url = feedbackUrlFor(*addresses, s);
  const std::string& id = s.system.id;
  if (!url) {
    (void)store_.raiseTicket(id, store::kTicketFeedbackNotRegistered, "warning",
                             fmt::format("no server address is set for connectivity {}; set them under "
                                         "/api/v1/settings/server-addresses",
                                         s.system.connectivity));
    return;
  }
  const std::string our_path = "/feedback/" + s.feedback_secret;
  bool ours_ok = false;
  bool ours_failed = false;
  bool stale = false;
  for (const auto& slot : status.feedback_slots) {
    if (slot.url == *url) {
      if (slot.status == "Failed") {
        ours_failed = true;
      } else {
        ours_ok = true;
      }
    } else if (slot.url.find(our_path) != std::string::npos) {
      stale = true;  // our secret, but an address the system should no longer use
    }
  }
  // Bridges do not report their receivers: configure once per start, then trust it.
  const bool reports_slots = !status.feedback_slots.empty() || s.system.family == "cisco-xapi";
  if (ours_ok && !ours_failed) {
    (void)store_.clearTicket(id, store::kTicketFeedbackNotRegistered);
    (void)store_.clearTicket(id, store::kTicketFeedbackSlotFailed);
    (void)store_.clearTicket(id, store::kTicketWrongServerAddress);
    registered = true;
    return;
  }
  if (!reports_slots && registered) return;
  if (ours_failed) {
    (void)store_.raiseTicket(id, store::kTicketFeedbackSlotFailed, "major",
                             fmt::format("the system marked its feedback slot for {} Failed; registering again", *url));
  }
  if (stale) {
    (void)store_.raiseTicket(id, store::kTicketWrongServerAddress, "major",
                             fmt::format("the system posts feedback to an old server address; corrected to {}", *url));
  }
  devices::FeedbackRegistration reg;
  reg.slot = options_.feedback_slot;
  reg.url = *url;
  reg.expressions = options_.feedback_expressions;
  auto done = driver.registerFeedback(target, reg);
  if (!done) {
    (void)store_.raiseTicket(id, store::kTicketFeedbackNotRegistered, "major",
                             fmt::format("cannot register HTTP feedback to {}: {}", *url, done.error().message));
    return;
  }
  registered = true;
  {
    std::lock_guard lock(mu_);
    ++stats_.feedback_registrations;
  }
  log::info("poller.feedback_registered", {{"system_id", id}, {"url_host", url->substr(0, url->find("/feedback/"))}});
  if (!reports_slots) (void)store_.clearTicket(id, store::kTicketFeedbackNotRegistered);
}

void Poller::finished(const std::string& id, bool ok, bool feedback_registered) {
  {
    std::lock_guard lock(mu_);
    ++stats_.polls;
    if (!ok) ++stats_.failures;
    --stats_.in_flight;
    auto it = entries_.find(id);
    if (it != entries_.end()) {
      auto& e = it->second;
      e.in_flight = false;
      e.failures = ok ? 0 : e.failures + 1;
      e.feedback_registered = feedback_registered;
      e.due = clock_.monotonic() + nextDelay(e.failures);
    }
  }
  cv_.notify_all();
}

}  // namespace atrium::services
