// The pure arithmetic of a node's part in the cluster, kept apart from NodeRuntime so it is tested
// without a database: who divides the buckets, when a held lease still counts, and the database
// round-trip statistics.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "store/cluster_store.h"

namespace atrium::cluster {

// The nodes that divide the buckets: alive, role "active", state "starting" or "active" (not
// standby, draining or dead). Sorted ids.
std::vector<std::string> bucketHolders(const std::vector<store::NodeRecord>& nodes);

// Self-fencing: a lease renewed (or taken) by a statement sent at `renewal_sent` (this node's
// monotonic clock) counts as held until one heartbeat before its lease time runs out, so the node
// stops the work before the lease can expire in the database and pass to another node.
bool leaseStillHeld(std::chrono::steady_clock::time_point renewal_sent,
                    std::chrono::milliseconds ttl, std::chrono::milliseconds heartbeat,
                    std::chrono::steady_clock::time_point now);

// The last `capacity` round trips, with nearest-rank percentiles.
class RttWindow {
 public:
  explicit RttWindow(std::size_t capacity = 60) : capacity_(capacity) {}
  void add(double ms);
  double percentile(double p) const;  // 0 when empty; p in [0, 100]
  std::size_t size() const { return samples_.size(); }

 private:
  std::size_t capacity_;
  std::deque<double> samples_;
};

}  // namespace atrium::cluster
