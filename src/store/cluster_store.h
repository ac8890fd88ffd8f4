// What nodes of one installation share to work as a cluster, all through the database (there is
// no node-to-node channel): the node registry, leases with fencing tokens, the task queue with its
// history, the installation's validation keys.
//
// Every time in this interface is milliseconds since the epoch on the DATABASE clock: liveness,
// lease expiry and task due times are decided in SQL against the database's own clock
// (PostgreSQL clock_timestamp(), SQLite's julianday('now')), never against a node's clock. The
// statements live in each dialect's catalogue (store/{sqlite,postgres}/cluster_catalogue.cc),
// schema in migration 3.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/database.h"

namespace atrium::store {

// ---- node registry ------------------------------------------------------------------------

// What a node writes about itself every heartbeat.
struct NodeHeartbeat {
  std::string id;       // stable across restarts (kept in the node's data dir)
  std::string name;
  std::string version;
  std::string role;     // "active" | "standby"
  std::string state;    // "starting" | "active" | "standby" | "draining" (never "dead": derived)
  std::vector<std::string> device_addresses;  // e.g. "http://10.0.0.5:8080", "snmp://10.0.0.5:162"
  std::string api_address;                    // host:port
  std::string file_path;                      // files.cache_dir
  std::string cache_checksum;
  std::string identity_fingerprint;
  std::string key_fingerprint;
  std::vector<std::string> driver_families;   // what this node can manage (multi-vendor rule)
  double rtt_ms = 0;       // last measured database round trip
  double rtt_p50_ms = 0;   // over the node's recent window
  double rtt_p99_ms = 0;
  std::int64_t clock_offset_ms = 0;  // node clock minus database clock
};

struct NodeRecord {
  NodeHeartbeat node;
  std::int64_t started_at = 0;      // first heartbeat of this process (db clock)
  std::int64_t last_heartbeat = 0;  // db clock
  std::int64_t age_ms = 0;          // database now minus last_heartbeat, when read
  bool alive = false;               // age_ms <= the failover timeout given to the read
  std::string state;                // node.state, or "dead" when !alive
  std::optional<std::string> requested_role;  // set by `atrium node promote|demote`, until applied
};

// ---- leases -------------------------------------------------------------------------------

struct Lease {
  std::string key;
  std::string holder;        // node id; "" when released
  std::int64_t token = 0;    // rises every time the holder changes
  std::int64_t expires_at = 0;
  std::int64_t db_now = 0;   // the database clock when the statement ran
};

// The proof a write was made under a lease still held: writes conditioned on it affect no row
// once another node took the lease (or it expired).
struct Fence {
  std::string lease_key;
  std::string holder;
  std::int64_t token = 0;
};

// ---- tasks --------------------------------------------------------------------------------

struct TaskSpec {
  std::string kind;                       // e.g. "feedback-reregister", "database-backup", "wait"
  std::string name;                       // shown to people; defaults to kind
  std::string payload = "{}";             // JSON object, kind-specific
  std::optional<std::int64_t> run_at;     // first run (db clock ms); nullopt: now
  std::optional<std::int64_t> interval_s; // recurring every interval; nullopt: one-off
  bool idempotent = false;                // re-run when the node running it dies
  std::string misfire = "run-once";       // "run-once" | "skip" (recurring runs missed while no node ran them)
  int max_attempts = 3;                   // for idempotent re-runs
  std::string created_by;
};

struct TaskRecord {
  std::string id;
  TaskSpec spec;
  std::string state;  // "scheduled" | "running" | "succeeded" | "failed" | "cancelled"
  std::int64_t next_run_at = 0;
  std::string holder;  // node id while running
  std::int64_t token = 0;
  std::int64_t lease_expires_at = 0;
  int attempts = 0;  // of the current run (reset when a recurring task is rescheduled)
  std::string last_error;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

struct TaskRun {
  std::int64_t id = 0;
  std::string task_id;
  std::string node;        // node id
  std::string node_name;
  int attempt = 0;
  std::int64_t started_at = 0;
  std::optional<std::int64_t> finished_at;
  // "running" | "succeeded" | "failed" | "interrupted" | "skipped" | "cancelled"
  std::string outcome;
  std::string message;
};

// What renewing a running task's lease found.
struct TaskRenewal {
  bool held = false;              // the lease is still this node's (renewed)
  bool cancel_requested = false;  // someone cancelled the task: stop the run
  std::string cancelled_by;       // who did
};

// A task claimed by a node: the record, the run row opened for it, and the fence to finish with.
struct ClaimedTask {
  TaskRecord task;
  std::int64_t run_id = 0;
  Fence fence;  // lease_key "task:<id>"
};

// ---- validation keys ----------------------------------------------------------------------

struct ValidationKey {
  std::string id;          // short id carried in signed tokens
  std::string secret_hex;  // 64 hex digits (32 bytes)
  std::int64_t created_at = 0;
  std::optional<std::int64_t> retired_at;   // set when a newer key became current
  std::optional<std::int64_t> valid_until;  // a retired key is accepted until then
};

class ClusterStore {
 public:
  explicit ClusterStore(Database& db);

  // The database clock now (ms). Also what a node's clock offset is measured against.
  Result<std::int64_t> databaseNow();

  // ---- registry ----
  // Upserts the row; started_at is kept from the first heartbeat of the same process start
  // (`fresh_start` true on the first heartbeat after `atrium serve` started).
  Status heartbeat(const NodeHeartbeat& hb, bool fresh_start);
  // All nodes ever seen, with liveness against the database clock; dead ones included.
  Result<std::vector<NodeRecord>> nodes(std::int64_t failover_timeout_ms);
  // Marks a node stopped (state "draining" then row kept with last_heartbeat pushed into the
  // past so others see it dead at once). Used on SIGTERM after leases are released.
  Status markStopped(const std::string& node_id);
  // `atrium node promote|demote`: recorded on the node's row; the node applies it at its next
  // heartbeat and clears it. kNotFound for an unknown node id or name.
  Status requestRole(const std::string& node_id_or_name, const std::string& role);
  Status clearRequestedRole(const std::string& node_id);
  // Forgets nodes dead for longer than `older_than_ms` (the registry does not grow forever).
  Status pruneNodes(std::int64_t older_than_ms);

  // Hot standby: in one transaction that locks the installation row, re-checks that no node
  // with role "active" (state starting/active) has heartbeated within the failover timeout and,
  // only then, sets this node's role to active. Returns true when this node promoted itself.
  // Two standbys racing: exactly one gets true.
  Result<bool> promoteIfNoActive(const std::string& node_id, std::int64_t failover_timeout_ms);
  Status setRole(const std::string& node_id, const std::string& role);

  // ---- leases ----
  // Takes or renews `key` for `holder` in one statement on the database clock: succeeds when
  // the lease is free (released), expired, or already held by `holder`; the token rises when
  // the holder changes. nullopt when another holder has it and it has not expired.
  Result<std::optional<Lease>> acquireLease(const std::string& key, const std::string& holder, std::int64_t ttl_ms);
  // Renews many leases this holder holds with these tokens, in one statement; returns the keys
  // still held (with their new expiry). A lease that expired but that no other node took since
  // (holder and token unchanged) is renewed too: no one else wrote under it.
  Result<std::vector<Lease>> renewLeases(const std::string& holder, const std::vector<Fence>& held,
                                         std::int64_t ttl_ms);
  // Gives the lease up (holder becomes ""), keeping the token so it still rises for the next.
  Status releaseLease(const Fence& fence);
  Result<std::vector<Lease>> leases(const std::string& key_prefix);
  // True when the fence is still the current holder and token and the lease has not expired.
  // Task fences ("task:<id>", from claimDueTask) are checked against the task's row, where a
  // running task keeps its lease.
  Result<bool> fenceValid(const Fence& fence);

  // ---- tasks ----
  Result<TaskRecord> createTask(const TaskSpec& spec);
  Result<std::optional<TaskRecord>> task(const std::string& id);
  // Filters: state ("" any); newest first.
  Result<std::vector<TaskRecord>> tasks(const std::string& state, std::int64_t limit, std::int64_t offset);
  Result<std::int64_t> countTasks(const std::string& state);
  Result<std::vector<TaskRun>> taskRuns(const std::string& task_id);
  // Cancels a scheduled task; marks a running one for cancellation, which the node running it
  // sees at its next renewal (renewTaskLease) and stops the run. `by` is who asked (the audit
  // actor). kNotFound/kConflict.
  Result<TaskRecord> cancelTask(const std::string& id, const std::string& by = {});

  // Claims the task due soonest (state "scheduled", next_run_at <= db now) for `node`:
  // PostgreSQL FOR UPDATE SKIP LOCKED, SQLite an immediate transaction. Sets state running,
  // holder, a new token, lease_expires_at = now + ttl, attempts + 1, and opens a TaskRun.
  // Recurring tasks whose next_run_at is more than one interval in the past follow the misfire
  // policy: "skip" records a "skipped" run and moves next_run_at to the next future slot without
  // running; "run-once" runs once. nullopt when nothing is due.
  Result<std::optional<ClaimedTask>> claimDueTask(const std::string& node_id, const std::string& node_name,
                                                  std::int64_t ttl_ms);
  // Extends the running task's lease; false when the fence no longer holds (stop the work).
  Result<bool> renewTask(const Fence& fence, std::int64_t ttl_ms);
  // The same, and whether the task was cancelled meanwhile (and by whom).
  Result<TaskRenewal> renewTaskLease(const Fence& fence, std::int64_t ttl_ms);
  // Ends the run (outcome "succeeded" or "failed" with message). Fenced: false and no change
  // when the fence no longer holds. Recurring tasks go back to "scheduled" at the next slot;
  // one-off tasks end "succeeded" / "failed". A task cancelled while running ends "cancelled".
  Result<bool> finishTask(const ClaimedTask& claimed, bool ok, const std::string& message);
  // Ends a run stopped because the task was cancelled: the run's outcome is "cancelled" with
  // `message`, the task ends "cancelled" (recurring ones too). Fenced like finishTask.
  Result<bool> finishCancelledTask(const ClaimedTask& claimed, const std::string& message);
  // Tasks whose lease expired while running (their node died or stalled): an idempotent one
  // under max_attempts goes back to "scheduled" due now (run outcome "interrupted"); any other
  // ends "failed" with a reason naming the node (in last_error and the run's message; a
  // recurring one is not ended but moves to its next slot, a cancelled one ends "cancelled").
  // Returns how many were taken over.
  Result<int> recoverExpiredTasks(const std::string& by_node_name);

  // ---- validation keys ----
  // Adds a new current key (retiring the previous one with valid_until = now + grace_ms).
  Result<ValidationKey> rotateValidationKey(const std::string& secret_hex, std::int64_t grace_ms);
  // The current key first, then retired keys still within their grace period.
  Result<std::vector<ValidationKey>> validationKeys();

 private:
  Result<bool> finishRun(const ClaimedTask& claimed, bool ok, std::string_view outcome,
                         const std::string& message);
  Database& db_;
};

// The bucket a system belongs to (stable across nodes and versions: FNV-1a of the id).
inline constexpr int kBucketCount = 64;
int bucketOf(const std::string& system_id);
std::string bucketLeaseKey(int bucket);  // "bucket:<n>"

}  // namespace atrium::store
