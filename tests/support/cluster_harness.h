// Several real `atrium serve` nodes on one real PostgreSQL database, polling a simulated fleet
// (sim::Fleet, in the test's process, on loopback addresses of its own), for the cluster system
// tests and the cluster benchmark. The systems are added through the API. Helpers read the node
// registry (GET /api/v1/cluster/nodes) and the systems' buckets and pollers, and EventLoad sends
// HTTP feedback and SNMP informs (net-snmp's snmpinform) spread over every node, each with a
// unique marker, recording exactly which ones a node acknowledged, so a test can check that the
// database holds every acknowledged event exactly once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sim/fleet.h"
#include "support/atrium_node.h"
#include "support/pg_cluster.h"

namespace atrium::testing {

struct ClusterOptions {
  PgCluster* postgres = nullptr;  // required: the server the nodes share
  std::string database;           // empty: a new database on `postgres`
  int nodes = 3;
  std::vector<std::string> roles;  // per node "active" or "standby"; missing entries: active
  std::chrono::milliseconds heartbeat{250};
  std::chrono::milliseconds failover_timeout{2000};
  bool polling = true;
  int poll_interval_s = 5;  // the configuration's minimum
  int poll_timeout_ms = 3000;
  int poll_workers = 16;
  // The simulated fleet, per family; empty fleet: no simulator.
  int cisco_xapi = 0;
  int cisco_mcu = 0;
  int polycom = 0;
  int snmp = 0;
  std::string log_level = "debug";
  std::string extra_config;  // appended to every node's configuration
};

// One entry of GET /api/v1/cluster/nodes.
struct NodeInfo {
  std::string id;
  std::string name;
  std::string role;
  std::string state;
  bool alive = false;
  std::vector<int> buckets;
  nlohmann::json raw;
};

struct ClusterView {
  std::vector<NodeInfo> nodes;
  int bucket_count = 64;
  std::int64_t failover_timeout_ms = 0;
  const NodeInfo* byName(const std::string& name) const;
  const NodeInfo* byId(const std::string& id) const;
  // "" when the buckets 0..bucket_count-1 are held by exactly the nodes named in `holders`
  // (every bucket by one of them, none by two nodes, none by any other node, each of them holding
  // at least one); else what is wrong.
  std::string coverageProblem(const std::set<std::string>& holders) const;
  std::string summary() const;  // one line per node: name state role buckets
};

// One system as GET /api/v1/systems shows it.
struct SystemInfo {
  std::string id;
  std::string name;
  std::string family;
  std::string status;
  int bucket = -1;
  std::string last_polled_at;  // RFC 3339 with milliseconds, UTC (compares as text); "" never
  std::string last_polled_by;  // node id; "" never
};

// A simulated system registered through the API.
struct ManagedSim {
  int index = 0;  // in the fleet
  std::string id;
  sim::SimulatedSystem sim;
  std::string feedback_secret;  // read from the database (the API never shows it)
};

// Now, formatted like the API's timestamps (compares as text with last_polled_at).
std::string nowTimestamp();

class Cluster {
 public:
  // Starts the fleet, creates the database, runs `atrium init` once (node 0), starts every node,
  // and registers the fleet's systems through node 0's API.
  static Result<std::unique_ptr<Cluster>> start(const std::filesystem::path& dir,
                                                ClusterOptions options);
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;
  ~Cluster();

  int size() const { return static_cast<int>(nodes_.size()); }
  AtriumNode& node(int i) { return *nodes_.at(static_cast<std::size_t>(i)); }
  const AtriumNode& node(int i) const { return *nodes_.at(static_cast<std::size_t>(i)); }
  std::string nodeName(int i) const;
  // The node's id, as the registry shows it (read once, then remembered: it is kept in the
  // node's data dir across restarts). "" when it cannot be read.
  std::string nodeId(int i);
  // The index of the node with this id or name; -1 when none.
  int indexOf(const std::string& id_or_name);
  sim::Fleet* fleet() { return fleet_.get(); }
  const std::vector<ManagedSim>& systems() const { return systems_; }
  const ManagedSim* systemById(const std::string& id) const;
  const std::string& databaseUrl() const { return database_url_; }
  const std::string& databaseName() const { return database_; }
  PgCluster& postgres() { return *options_.postgres; }
  const ClusterOptions& options() const { return options_; }

  // (Re)starts node i and waits until it answers /healthz.
  Status startNode(int i);
  // SIGKILL, reaped.
  void kill(int i);
  void signal(int i, int sig);
  bool running(int i);
  // A running node, preferring `prefer`, never `except`; nullptr when none runs.
  AtriumNode* anyRunning(int prefer = 0, int except = -1);

  // GET /api/v1/cluster/nodes through `via` (-1: any running node).
  Result<ClusterView> view(int via = -1);
  // Every system (GET /api/v1/systems, pages of 1,000).
  Result<std::vector<SystemInfo>> systemsNow(int via = -1);
  // Waits until the buckets are held by exactly the nodes of `holders` (names), reading the
  // registry through `via` (-1: any running node); the last view read goes to `last`.
  bool waitCoverage(const std::set<std::string>& holders, std::chrono::milliseconds timeout,
                    ClusterView* last = nullptr, int via = -1);
  // waitCoverage, and then the same buckets on the same nodes for `stable_for` (a join or a
  // handover can pass through states that cover every bucket).
  bool waitSettled(const std::set<std::string>& holders, std::chrono::milliseconds stable_for,
                   std::chrono::milliseconds timeout, ClusterView* last = nullptr, int via = -1);
  // The node logs, each cut to its last `tail_lines` lines, for failure messages.
  std::string logs(std::size_t tail_lines = 150) const;
  // How many lines of node i's log contain `text`.
  std::size_t countInLog(int i, const std::string& text) const;

 private:
  Cluster(std::filesystem::path dir, ClusterOptions options)
      : dir_(std::move(dir)), options_(std::move(options)) {}
  Status registerSystems();

  std::filesystem::path dir_;
  ClusterOptions options_;
  std::string database_;
  std::string database_url_;
  std::unique_ptr<sim::Fleet> fleet_;
  std::vector<std::unique_ptr<AtriumNode>> nodes_;
  std::map<int, std::string> node_ids_;
  std::vector<ManagedSim> systems_;
};

// Prints the cluster's node logs (each cut to its last `tail_lines` lines) when it goes out of
// scope in a test that has failed.
struct LogsOnFailure {
  Cluster& cluster;
  std::size_t tail_lines = 300;
  ~LogsOnFailure();
};

struct LoadOptions {
  int feedback_threads = 2;  // each posts, then pauses feedback_pause, round robin over nodes
  std::chrono::milliseconds feedback_pause{20};
  int trap_threads = 2;  // each runs snmpinform, then pauses trap_pause
  std::chrono::milliseconds trap_pause{20};
  std::chrono::milliseconds request_timeout{3000};
  // After each acknowledged CallSuccessful, post the call's CallDisconnect to the next node, so
  // the two ends of a call reach different nodes (verify() then checks the calls closed).
  bool disconnects = false;
};

// What systems send, spread over every node of a cluster: HTTP feedback (a Cisco CallSuccessful
// document whose call id is the marker) posted to /feedback/{secret} of the fleet's Cisco xAPI
// systems, and SNMP v2c informs sent with net-snmp's snmpinform from the fleet's SNMP systems'
// addresses (--clientaddr) carrying the marker in a string varbind. A post answered 2xx and an
// inform answered (snmpinform exit 0) are acknowledged.
class EventLoad {
 public:
  static constexpr const char* kMarkerOid = "1.3.6.1.4.1.55555.1.1";

  EventLoad(Cluster& cluster, LoadOptions options);
  EventLoad(const EventLoad&) = delete;
  EventLoad& operator=(const EventLoad&) = delete;
  ~EventLoad();

  void start();
  void stop();
  std::size_t acknowledged() const;
  std::size_t acknowledgedFeedback() const;
  std::size_t acknowledgedTraps() const;
  std::size_t attempted() const { return attempted_.load(); }
  // Acknowledged events per node index.
  std::map<int, std::size_t> acknowledgedPerNode() const;
  // The first few sends that were not acknowledged, with the reason (for failure messages).
  std::vector<std::string> failures() const;

  struct Verdict {
    std::size_t acknowledged = 0;
    std::size_t stored = 0;               // events carrying one of this load's markers
    std::vector<std::string> missing;     // acknowledged, not stored
    std::vector<std::string> duplicated;  // stored more than once
    std::size_t disconnected = 0;         // calls whose disconnect was acknowledged
    std::vector<std::string> left_open;   // of those, calls whose record is missing or open
    bool ok() const { return missing.empty() && duplicated.empty() && left_open.empty(); }
    std::string summary() const;
  };
  // Reads every feedback and trap event through node `via`'s API and compares.
  Result<Verdict> verify(const AtriumNode& via) const;

 private:
  void postFeedback(int thread);
  void sendInforms(int thread);
  void record(const std::string& marker, int node);
  void fail(const std::string& marker, int node, const std::string& why);

  Cluster& cluster_;
  LoadOptions options_;
  std::vector<const ManagedSim*> xapi_;
  std::vector<const ManagedSim*> snmp_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> next_{0};
  std::atomic<std::uint64_t> attempted_{0};
  mutable std::mutex mu_;
  std::map<std::string, int> acknowledged_;  // marker -> node index
  std::set<std::string> disconnected_;       // call ids whose disconnect was acknowledged
  std::vector<std::string> failures_;        // the first 50
  std::vector<std::thread> threads_;
};

}  // namespace atrium::testing
