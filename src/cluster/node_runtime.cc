#include "cluster/node_runtime.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cluster/membership.h"
#include "cluster/rendezvous.h"
#include "common/log.h"
#include "store/postgres/listener.h"

namespace atrium::cluster {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::size_t kMaxQueuedNotifications = 1000;
// The registry forgets nodes dead for longer than this (checked at start).
constexpr std::int64_t kPruneAfterMs = 7LL * 24 * 3600 * 1000;

double millisBetween(SteadyTime a, SteadyTime b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

struct NodeRuntime::Impl {
  NodeRuntimeOptions opts;
  store::Database& db;
  store::ClusterStore& cluster;
  const Clock& clock;

  struct Held {
    store::Fence fence;
    SteadyTime renewal_sent;
  };

  mutable std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool stopping = false;
  bool wake = false;
  bool draining = false;
  std::string role;
  std::string state;
  // A standby considers promoting itself only after a failover timeout as a standby, so a node
  // just demoted (or a standby just started) does not take over from an active node it has not
  // had the time to see.
  SteadyTime standby_since;
  std::map<int, Held> held;
  RttWindow window;
  RttStats stats;
  std::vector<int> reported;  // the owned buckets last told to the callbacks
  std::vector<std::function<void()>> ownership_callbacks;
  std::vector<std::function<void(const std::string&)>> notification_callbacks;
  std::thread thread;
  bool db_trouble_logged = false;

  // Notifications go out on a thread of their own so notifyAll() never waits on the database.
  std::mutex out_mu;
  std::condition_variable out_cv;
  std::deque<std::string> outbox;
  bool out_stopping = false;
  bool out_running = false;
  std::thread notifier;

  std::unique_ptr<store::PgListener> listener;

  Impl(NodeRuntimeOptions o, store::Database& d, store::ClusterStore& c, const Clock& k)
      : opts(std::move(o)), db(d), cluster(c), clock(k) {
    role = opts.identity.role == "standby" ? "standby" : "active";
    state = role == "standby" ? "standby" : "starting";
    standby_since = clock.monotonic();
  }

  bool usableLocked(const Held& h, SteadyTime now) const {
    return !draining && role == "active" &&
           leaseStillHeld(h.renewal_sent, opts.failover_timeout, opts.heartbeat, now);
  }

  std::vector<int> ownedLocked() const {
    std::vector<int> out;
    const auto now = clock.monotonic();
    for (const auto& [bucket, h] : held) {
      if (usableLocked(h, now)) out.push_back(bucket);
    }
    return out;
  }

  store::NodeHeartbeat heartbeatLocked() const {
    store::NodeHeartbeat hb = opts.identity;
    if (opts.key_fingerprint) hb.key_fingerprint = opts.key_fingerprint();
    hb.role = role;
    hb.state = state;
    hb.rtt_ms = stats.last_ms;
    hb.rtt_p50_ms = stats.p50_ms;
    hb.rtt_p99_ms = stats.p99_ms;
    hb.clock_offset_ms = stats.clock_offset_ms;
    return hb;
  }

  void dbTrouble(std::string_view what, const Error& e) {
    if (db_trouble_logged) return;
    db_trouble_logged = true;
    log::warn("cluster.heartbeat_failed",
              {{"node_id", opts.identity.id}, {"step", what}, {"reason", e.message}});
  }

  // Tells the callbacks when the owned set changed (also when a lease lapsed on its own).
  void reportOwnership() {
    std::vector<std::function<void()>> callbacks;
    {
      std::lock_guard lock(mu);
      auto owned = ownedLocked();
      if (owned == reported) return;
      log::info(
          "cluster.buckets_changed",
          {{"node_id", opts.identity.id}, {"owned", owned.size()}, {"before", reported.size()}});
      reported = std::move(owned);
      callbacks = ownership_callbacks;
    }
    for (auto& cb : callbacks) cb();
  }

  void setRoleLocked(const std::string& next, std::string_view why) {
    if (next == role) return;
    log::info("cluster.role_changed",
              {{"node_id", opts.identity.id}, {"from", role}, {"to", next}, {"why", why}});
    role = next;
    if (role == "standby") {
      state = "standby";
      standby_since = clock.monotonic();
    } else if (state == "standby") {
      state = "starting";
    }
  }

  // One heartbeat: measure, upsert the row, apply role requests, promote, then take, renew and
  // release bucket leases.
  void tick() {
    const std::string& me = opts.identity.id;
    const auto ttl_ms = static_cast<std::int64_t>(opts.failover_timeout.count());

    const auto t0 = clock.monotonic();
    const auto w0 = clock.now();
    auto db_now = cluster.databaseNow();
    const auto t1 = clock.monotonic();
    const auto w1 = clock.now();
    if (!db_now) {
      dbTrouble("database-now", db_now.error());
      return;
    }
    store::NodeHeartbeat hb;
    {
      std::lock_guard lock(mu);
      window.add(millisBetween(t0, t1));
      stats.last_ms = millisBetween(t0, t1);
      stats.p50_ms = window.percentile(50);
      stats.p99_ms = window.percentile(99);
      const auto mid = w0 + (w1 - w0) / 2;
      stats.clock_offset_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(mid.time_since_epoch()).count() -
          *db_now;
      if (draining) return;
      hb = heartbeatLocked();
    }
    if (auto s = cluster.heartbeat(hb, false); !s) {
      dbTrouble("heartbeat", s.error());
      return;
    }
    auto nodes = cluster.nodes(ttl_ms);
    if (!nodes) {
      dbTrouble("nodes", nodes.error());
      return;
    }
    if (db_trouble_logged) {
      db_trouble_logged = false;
      log::info("cluster.heartbeat_resumed", {{"node_id", me}});
    }

    // promote / demote requests (`atrium node promote|demote`)
    for (const auto& n : *nodes) {
      if (n.node.id != me || !n.requested_role) continue;
      const std::string requested = *n.requested_role == "standby" ? "standby" : "active";
      {
        std::lock_guard lock(mu);
        setRoleLocked(requested, "requested");
      }
      (void)cluster.setRole(me, requested);
      (void)cluster.clearRequestedRole(me);
    }

    std::string role_now;
    bool may_promote = false;
    {
      std::lock_guard lock(mu);
      role_now = role;
      may_promote = clock.monotonic() - standby_since >= opts.failover_timeout;
    }
    auto holders = bucketHolders(*nodes);
    // Hot standby: when no active node is alive, one standby (a locked row decides which) promotes.
    if (role_now == "standby" && holders.empty() && may_promote) {
      auto promoted = cluster.promoteIfNoActive(me, ttl_ms);
      if (promoted && *promoted) {
        std::lock_guard lock(mu);
        setRoleLocked("active", "no active node alive");
        role_now = role;
        log::warn("cluster.promoted", {{"node_id", me}, {"name", opts.identity.name}});
      } else if (!promoted) {
        dbTrouble("promote", promoted.error());
      }
    }
    // This node's own row was read as it was before this heartbeat's decisions.
    holders.erase(std::remove(holders.begin(), holders.end(), me), holders.end());
    if (role_now == "active") holders.push_back(me);
    std::set<int> desired;
    if (role_now == "active") {
      for (int b : bucketsOwnedBy(me, holders, store::kBucketCount)) desired.insert(b);
    }

    // Release what rendezvous hashing now gives to another node.
    std::vector<store::Fence> to_release;
    std::vector<store::Fence> to_renew;
    {
      std::lock_guard lock(mu);
      for (auto it = held.begin(); it != held.end();) {
        if (!desired.contains(it->first)) {
          to_release.push_back(it->second.fence);
          it = held.erase(it);
        } else {
          to_renew.push_back(it->second.fence);
          ++it;
        }
      }
    }
    for (const auto& f : to_release) {
      if (auto s = cluster.releaseLease(f); !s) {
        log::warn("cluster.lease_release_failed",
                  {{"node_id", me}, {"lease", f.lease_key}, {"reason", s.error().message}});
      }
    }

    // Renew what is still ours.
    if (!to_renew.empty()) {
      const auto sent = clock.monotonic();
      auto renewed = cluster.renewLeases(me, to_renew, ttl_ms);
      if (!renewed) {
        dbTrouble("renew", renewed.error());
      } else {
        std::set<std::string> kept;
        for (const auto& l : *renewed) kept.insert(l.key);
        std::lock_guard lock(mu);
        for (auto it = held.begin(); it != held.end();) {
          const bool renewing = std::any_of(
              to_renew.begin(), to_renew.end(),
              [&](const store::Fence& f) { return f.lease_key == it->second.fence.lease_key; });
          if (!renewing) {
            ++it;
          } else if (kept.contains(it->second.fence.lease_key)) {
            it->second.renewal_sent = sent;
            ++it;
          } else {
            log::warn("cluster.lease_lost",
                      {{"node_id", me}, {"lease", it->second.fence.lease_key}});
            it = held.erase(it);
          }
        }
      }
    }

    // Take what is ours and free (released, or expired).
    std::vector<int> wanted;
    {
      std::lock_guard lock(mu);
      for (int b : desired) {
        if (!held.contains(b)) wanted.push_back(b);
      }
    }
    for (int b : wanted) {
      const auto sent = clock.monotonic();
      auto lease = cluster.acquireLease(store::bucketLeaseKey(b), me, ttl_ms);
      if (!lease) {
        dbTrouble("acquire", lease.error());
        break;
      }
      if (!*lease) continue;  // still held by another node until it releases or expires
      std::lock_guard lock(mu);
      if (draining) break;
      held[b] = Held{store::Fence{(*lease)->key, me, (*lease)->token}, sent};
    }

    {
      std::lock_guard lock(mu);
      if (role == "active" && state == "starting") state = "active";
    }
    if (!to_release.empty()) enqueueNotification("nodes");
  }

  void run() {
    std::unique_lock lock(mu);
    while (!stopping) {
      cv.wait_for(lock, opts.heartbeat, [&] { return stopping || wake; });
      if (stopping) break;
      wake = false;
      lock.unlock();
      tick();
      reportOwnership();
      lock.lock();
    }
  }

  void enqueueNotification(const std::string& payload) {
    if (db.dialect() != store::Dialect::kPostgres) return;
    {
      std::lock_guard lock(out_mu);
      if (out_stopping || !out_running) return;
      if (outbox.size() >= kMaxQueuedNotifications) return;  // the others also poll
      if (std::find(outbox.begin(), outbox.end(), payload) != outbox.end()) return;
      outbox.push_back(payload);
    }
    out_cv.notify_one();
  }

  void sendNotification(const std::string& payload) {
    auto conn = db.acquire();
    if (!conn) return;
    std::vector<store::Value> params{payload};
    auto sent = (*conn)->query(store::kPgNotifySql, params);
    if (!sent)
      log::debug("cluster.notify_failed", {{"payload", payload}, {"reason", sent.error().message}});
  }

  void notifierLoop() {
    std::unique_lock lock(out_mu);
    while (true) {
      out_cv.wait(lock, [&] { return out_stopping || !outbox.empty(); });
      if (out_stopping) return;
      std::string payload = std::move(outbox.front());
      outbox.pop_front();
      lock.unlock();
      sendNotification(payload);
      lock.lock();
    }
  }

  void received(const std::string& payload) {
    if (payload == "nodes" || payload.empty()) {
      {
        std::lock_guard lock(mu);
        wake = true;
      }
      cv.notify_all();
    }
    std::vector<std::function<void(const std::string&)>> callbacks;
    {
      std::lock_guard lock(mu);
      callbacks = notification_callbacks;
    }
    for (auto& cb : callbacks) cb(payload);
  }

  void stopThreads() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    if (thread.joinable()) thread.join();
    if (listener) listener->stop();
    {
      std::lock_guard lock(out_mu);
      out_stopping = true;
    }
    out_cv.notify_all();
    if (notifier.joinable()) notifier.join();
  }
};

NodeRuntime::NodeRuntime(NodeRuntimeOptions options, store::Database& db,
                         store::ClusterStore& cluster, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), db, cluster, clock)) {}

NodeRuntime::~NodeRuntime() { stop(); }

void NodeRuntime::setAddresses(std::vector<std::string> device_addresses, std::string api_address) {
  std::lock_guard lock(impl_->mu);
  impl_->opts.identity.device_addresses = std::move(device_addresses);
  impl_->opts.identity.api_address = std::move(api_address);
}

Status NodeRuntime::start() {
  auto& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.started) return Error::internal("the node runtime was started twice");
    m.started = true;
  }
  store::NodeHeartbeat hb;
  {
    std::lock_guard lock(m.mu);
    hb = m.heartbeatLocked();
  }
  ATRIUM_TRY(m.cluster.heartbeat(hb, true));
  (void)m.cluster.pruneNodes(kPruneAfterMs);
  log::info("cluster.joined", {{"node_id", hb.id},
                               {"name", hb.name},
                               {"role", hb.role},
                               {"heartbeat_ms", m.opts.heartbeat.count()},
                               {"failover_timeout_ms", m.opts.failover_timeout.count()}});
  if (m.db.dialect() == store::Dialect::kPostgres) {
    m.notifier = std::thread([&m] { m.notifierLoop(); });
    {
      std::lock_guard lock(m.out_mu);
      m.out_running = true;
    }
    if (!m.opts.database_url.empty()) {
      store::PgListenerOptions lo;
      lo.conninfo = m.opts.database_url;
      lo.application_name = "atrium-listen:" + m.opts.identity.name;
      m.listener = std::make_unique<store::PgListener>(
          lo, [&m](const std::string& payload) { m.received(payload); }, [&m] { m.received(""); });
      m.listener->start();
    }
  }
  m.tick();
  m.reportOwnership();
  {
    std::lock_guard lock(m.mu);
    m.wake = false;
  }
  m.thread = std::thread([&m] { m.run(); });
  return okStatus();
}

void NodeRuntime::drain() {
  auto& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (!m.started || m.draining) return;
    m.draining = true;
    m.state = "draining";
  }
  m.reportOwnership();  // nothing is owned any more: the poller stops at once
  {
    std::lock_guard lock(m.mu);
    m.stopping = true;
  }
  m.cv.notify_all();
  if (m.thread.joinable()) m.thread.join();
  const std::string& me = m.opts.identity.id;
  std::vector<store::Fence> fences;
  store::NodeHeartbeat hb;
  {
    std::lock_guard lock(m.mu);
    for (const auto& [bucket, h] : m.held) fences.push_back(h.fence);
    m.held.clear();
    hb = m.heartbeatLocked();
  }
  log::info("cluster.draining", {{"node_id", me}, {"leases", fences.size()}});
  (void)m.cluster.heartbeat(hb, false);  // the others stop counting this node at once
  for (const auto& f : fences) {
    if (auto s = m.cluster.releaseLease(f); !s) {
      log::warn("cluster.lease_release_failed",
                {{"node_id", me}, {"lease", f.lease_key}, {"reason", s.error().message}});
    }
  }
  if (auto s = m.cluster.markStopped(me); !s) {
    log::warn("cluster.mark_stopped_failed", {{"node_id", me}, {"reason", s.error().message}});
  }
  if (m.db.dialect() == store::Dialect::kPostgres) m.sendNotification("nodes");
  log::info("cluster.drained", {{"node_id", me}});
  m.stopThreads();
}

void NodeRuntime::stop() { impl_->stopThreads(); }

bool NodeRuntime::owns(const std::string& system_id) const {
  const int bucket = store::bucketOf(system_id);
  std::lock_guard lock(impl_->mu);
  auto it = impl_->held.find(bucket);
  return it != impl_->held.end() && impl_->usableLocked(it->second, impl_->clock.monotonic());
}

std::optional<store::Fence> NodeRuntime::fenceFor(const std::string& system_id) const {
  const int bucket = store::bucketOf(system_id);
  std::lock_guard lock(impl_->mu);
  auto it = impl_->held.find(bucket);
  if (it == impl_->held.end() || !impl_->usableLocked(it->second, impl_->clock.monotonic()))
    return std::nullopt;
  return it->second.fence;
}

const std::string& NodeRuntime::nodeId() const { return impl_->opts.identity.id; }

bool NodeRuntime::active() const {
  std::lock_guard lock(impl_->mu);
  return impl_->role == "active" && !impl_->draining;
}

std::string NodeRuntime::role() const {
  std::lock_guard lock(impl_->mu);
  return impl_->role;
}

std::string NodeRuntime::state() const {
  std::lock_guard lock(impl_->mu);
  return impl_->state;
}

RttStats NodeRuntime::rtt() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

std::vector<int> NodeRuntime::ownedBuckets() const {
  std::lock_guard lock(impl_->mu);
  return impl_->ownedLocked();
}

void NodeRuntime::onOwnershipChanged(std::function<void()> callback) {
  std::lock_guard lock(impl_->mu);
  impl_->ownership_callbacks.push_back(std::move(callback));
}

void NodeRuntime::onNotification(std::function<void(const std::string& payload)> callback) {
  std::lock_guard lock(impl_->mu);
  impl_->notification_callbacks.push_back(std::move(callback));
}

void NodeRuntime::notifyAll(const std::string& payload) { impl_->enqueueNotification(payload); }

void NodeRuntime::wake() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->wake = true;
  }
  impl_->cv.notify_all();
}

}  // namespace atrium::cluster
