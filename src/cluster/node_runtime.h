// One node's part in the cluster: it heartbeats its row in the node registry (measuring the
// database round trip and its clock offset), applies promote/demote requests, promotes a standby
// when no active node is alive, and holds the leases of the buckets rendezvous hashing gives it
// among the live active nodes, renewing them every heartbeat. A bucket whose lease was not
// renewed within the lease time (on this node's monotonic clock) is dropped by this node itself
// before it expires in the database. On SIGTERM (drain) it releases its leases, marks itself
// stopped and wakes the others (PostgreSQL NOTIFY) so they take over at once.
//
// On SQLite (one node) the same code runs: the node is the only live one and owns every bucket.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "services/ownership.h"
#include "store/cluster_store.h"
#include "store/database.h"

namespace atrium::cluster {

struct NodeRuntimeOptions {
  store::NodeHeartbeat identity;  // id, name, version, role, addresses, fingerprints ... (state/rtt filled in)
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds failover_timeout{5000};
  // The database URL, for the LISTEN connection (PostgreSQL only); "" listens to nothing (then
  // nodes learn of changes at their next heartbeat).
  std::string database_url;
  // The fingerprint of the validation key the node signs with, read at every heartbeat (it
  // changes when the installation's key is rotated); unset: identity.key_fingerprint. Called
  // under the runtime's lock: keep it cheap (no database).
  std::function<std::string()> key_fingerprint;
};

struct RttStats {
  double last_ms = 0, p50_ms = 0, p99_ms = 0;
  std::int64_t clock_offset_ms = 0;
};

class NodeRuntime final : public services::Ownership {
 public:
  NodeRuntime(NodeRuntimeOptions options, store::Database& db, store::ClusterStore& cluster, const Clock& clock);
  ~NodeRuntime() override;
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  // The addresses this node listens on, known once its listeners are bound. Call before start().
  void setAddresses(std::vector<std::string> device_addresses, std::string api_address);
  // Writes the first heartbeat (state "starting"), runs one full heartbeat (leases taken, so a
  // single node owns every bucket when start() returns) and starts the heartbeat thread.
  Status start();
  // SIGTERM: stop taking work, release every lease, mark the row stopped, NOTIFY the others.
  void drain();
  void stop();

  bool owns(const std::string& system_id) const override;
  std::optional<store::Fence> fenceFor(const std::string& system_id) const override;

  const std::string& nodeId() const;
  // Role active and not draining: may own buckets and run tasks; /readyz answers 200.
  bool active() const;
  std::string role() const;
  std::string state() const;
  RttStats rtt() const;
  std::vector<int> ownedBuckets() const;

  // Called (on the heartbeat thread) after the set of owned buckets changed. Several callbacks
  // may be registered (before start()); each is called in turn.
  void onOwnershipChanged(std::function<void()> callback);
  // Called (on a listener thread) for each PostgreSQL notification on the "atrium" channel,
  // with its payload (e.g. "events:<system_id>", "tasks", "nodes"), and with "" after the
  // listener (re)connected (what was sent meanwhile is lost: catch up). Several may be registered.
  void onNotification(std::function<void(const std::string& payload)> callback);
  // Sends a notification to every node (no-op on SQLite). Never blocks the caller for long.
  void notifyAll(const std::string& payload);
  // Runs the heartbeat now (after a NOTIFY "nodes", a promote request ...).
  void wake();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace atrium::cluster
