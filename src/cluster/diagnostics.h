// The seed's redundancy rules (ARCHITECTURE.md's table) as named checks, evaluated from the node
// registry, the installation's settings and the database itself: what `atrium cluster check` and
// GET /api/v1/cluster/diagnostics show. DiagnosticsChecker evaluates them periodically on one
// node (the holder of the "cluster-check" lease) and keeps one server ticket
// "cluster-check:<id>" open per failing check, cleared when the check passes again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cluster/keyring.h"
#include "common/clock.h"
#include "common/result.h"
#include "store/cluster_store.h"
#include "store/database.h"
#include "store/device_store.h"
#include "store/store.h"

namespace atrium::cluster {

struct CheckResult {
  std::string id;      // e.g. "db-latency"
  std::string rule;    // the rule in words
  std::string status;  // "pass" | "fail" | "warn" | "not-applicable"
  std::string message;
  nlohmann::json details = nlohmann::json::object();
};

struct DiagnosticsReport {
  bool ok = true;  // no check failed
  std::chrono::system_clock::time_point checked_at;
  std::vector<CheckResult> checks;
  nlohmann::json toJson() const;
};

struct DiagnosticsOptions {
  std::string installation_id;  // the installation this node joined (its data dir)
  std::chrono::milliseconds failover_timeout{5000};
  std::chrono::milliseconds db_latency_limit{10};
  std::chrono::milliseconds clock_skew_limit{500};
  std::chrono::milliseconds connect_timeout{1000};  // node-addressable: TCP connect to each node
  std::vector<std::string> families;                // families this build has a driver for
};

// The ids of every check, in report order.
const std::vector<std::string>& checkIds();

class Diagnostics {
 public:
  Diagnostics(DiagnosticsOptions options, store::Database& db, store::Store& store,
              store::DeviceStore& devices, store::ClusterStore& cluster, const Clock& clock);

  // Evaluates every check now. Blocks (database reads, a TCP connect per live node).
  DiagnosticsReport evaluate();

 private:
  DiagnosticsOptions options_;
  store::Database& db_;
  store::Store& store_;
  store::DeviceStore& devices_;
  store::ClusterStore& cluster_;
  const Clock& clock_;
};

// Evaluates the checks every `interval` while this node holds the "cluster-check" lease, and
// raises or clears the server tickets.
class DiagnosticsChecker {
 public:
  DiagnosticsChecker(Diagnostics& diagnostics, store::ClusterStore& cluster,
                     store::DeviceStore& devices, std::string node_id,
                     std::chrono::milliseconds interval);
  ~DiagnosticsChecker();
  DiagnosticsChecker(const DiagnosticsChecker&) = delete;
  DiagnosticsChecker& operator=(const DiagnosticsChecker&) = delete;

  void start();
  void stop();  // releases the lease so another node takes the checks at once

  // Raises or clears the tickets for one report (what each round does).
  void apply(const DiagnosticsReport& report);

 private:
  void loop();
  void round();

  Diagnostics& diagnostics_;
  store::ClusterStore& cluster_;
  store::DeviceStore& devices_;
  std::string node_id_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::optional<store::Fence> fence_;
  std::map<std::string, std::string> last_status_;
};

}  // namespace atrium::cluster
