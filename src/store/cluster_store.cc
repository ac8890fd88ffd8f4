#include "store/cluster_store.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/clock.h"
#include "common/ids.h"
#include "store/cluster_catalogue.h"
#include "store/paging.h"
#include "store/system_credentials.h"
#include "store/system_rows.h"

namespace atrium::store {

const ClusterCatalogue& clusterCatalogueFor(Dialect dialect) {
  return dialect == Dialect::kSqlite ? sqliteClusterCatalogue() : postgresClusterCatalogue();
}

namespace {

using nlohmann::json;

constexpr std::string_view kTaskLeasePrefix = "task:";

std::vector<std::string> parseList(const std::string& text) {
  std::vector<std::string> out;
  auto j = json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& item : j) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

NodeRecord nodeFromRow(const Rows& r, std::size_t i) {
  NodeRecord n;
  n.node.id = r.text(i, 0);
  n.node.name = r.text(i, 1);
  n.node.version = r.text(i, 2);
  n.node.role = r.text(i, 3);
  n.node.state = r.text(i, 4);
  n.node.device_addresses = parseList(r.text(i, 5));
  n.node.api_address = r.text(i, 6);
  n.node.file_path = r.text(i, 7);
  n.node.cache_checksum = r.text(i, 8);
  n.node.identity_fingerprint = r.text(i, 9);
  n.node.key_fingerprint = r.text(i, 10);
  n.node.driver_families = parseList(r.text(i, 11));
  n.node.rtt_ms = r.real(i, 12);
  n.node.rtt_p50_ms = r.real(i, 13);
  n.node.rtt_p99_ms = r.real(i, 14);
  n.node.clock_offset_ms = r.integer(i, 15);
  n.requested_role = r.optText(i, 16);
  n.started_at = r.integer(i, 17);
  n.last_heartbeat = r.integer(i, 18);
  n.age_ms = r.integer(i, 19);
  n.alive = r.boolean(i, 20);
  n.state = n.alive ? n.node.state : "dead";
  return n;
}

Lease leaseFromRow(const Rows& r, std::size_t i) {
  return Lease{r.text(i, 0), r.text(i, 1), r.integer(i, 2), r.integer(i, 3), r.integer(i, 4)};
}

constexpr std::size_t kTaskCancelRequestedColumn = 18;
constexpr std::size_t kTaskDbNowColumn = 19;  // in select_due_task and select_expired_tasks

TaskRecord taskFromRow(const Rows& r, std::size_t i) {
  TaskRecord t;
  t.id = r.text(i, 0);
  t.spec.kind = r.text(i, 1);
  t.spec.name = r.text(i, 2);
  t.spec.payload = r.text(i, 3);
  t.state = r.text(i, 4);
  t.next_run_at = r.integer(i, 5);
  t.spec.interval_s = r.optInteger(i, 6);
  t.spec.idempotent = r.boolean(i, 7);
  t.spec.misfire = r.text(i, 8);
  t.spec.max_attempts = static_cast<int>(r.integer(i, 9));
  t.attempts = static_cast<int>(r.integer(i, 10));
  t.holder = r.text(i, 11);
  t.token = r.integer(i, 12);
  t.lease_expires_at = r.integer(i, 13);
  t.last_error = r.text(i, 14);
  t.spec.created_by = r.text(i, 15);
  t.created_at = r.integer(i, 16);
  t.updated_at = r.integer(i, 17);
  return t;
}

TaskRun runFromRow(const Rows& r, std::size_t i) {
  TaskRun run;
  run.id = r.integer(i, 0);
  run.task_id = r.text(i, 1);
  run.node = r.text(i, 2);
  run.node_name = r.text(i, 3);
  run.attempt = static_cast<int>(r.integer(i, 4));
  run.started_at = r.integer(i, 5);
  run.finished_at = r.optInteger(i, 6);
  run.outcome = r.text(i, 7);
  run.message = r.text(i, 8);
  return run;
}

ValidationKey keyFromRow(const Rows& r, std::size_t i) {
  return ValidationKey{r.text(i, 0), r.text(i, 1), r.integer(i, 2), r.optInteger(i, 3),
                       r.optInteger(i, 4)};
}

Status runIfAny(Connection& conn, std::string_view sql) {
  if (sql.empty()) return okStatus();
  auto r = conn.query(sql);
  if (!r.ok()) return r.error();
  return okStatus();
}

Status checkRole(const std::string& role) {
  if (role == "active" || role == "standby") return okStatus();
  return Error::invalid(fmt::format("role must be \"active\" or \"standby\" (got \"{}\")", role),
                        "role");
}

Status checkTtl(std::int64_t ttl_ms) {
  if (ttl_ms > 0) return okStatus();
  return Error::invalid("a lease time must be positive", "ttl_ms");
}

bool isHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// The task id a task fence names ("task:<id>"); empty when it names no task.
std::string taskIdOf(const Fence& fence) {
  if (!std::string_view(fence.lease_key).starts_with(kTaskLeasePrefix)) return {};
  return fence.lease_key.substr(kTaskLeasePrefix.size());
}

std::string whenText(std::int64_t ms) { return formatTimestamp(fromMs(ms)); }

}  // namespace

int bucketOf(const std::string& system_id) {
  // FNV-1a, 64 bits: the same on every node, version and platform.
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : system_id) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return static_cast<int>(hash % static_cast<std::uint64_t>(kBucketCount));
}

std::string bucketLeaseKey(int bucket) { return fmt::format("bucket:{}", bucket); }

ClusterStore::ClusterStore(Database& db) : db_(db) {}

Result<std::int64_t> ClusterStore::databaseNow() {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return countOf(**pooled, clusterCatalogueFor(db_.dialect()).db_now, {});
}

// ---- registry ------------------------------------------------------------------------------

Status ClusterStore::heartbeat(const NodeHeartbeat& hb, bool fresh_start) {
  if (hb.id.empty()) return Error::invalid("a heartbeat needs the node id", "id");
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(
      clusterCatalogueFor(db_.dialect()).upsert_node,
      Params{hb.id, hb.name, hb.version, hb.role, hb.state, json(hb.device_addresses).dump(),
             hb.api_address, hb.file_path, hb.cache_checksum, hb.identity_fingerprint,
             hb.key_fingerprint, json(hb.driver_families).dump(), hb.rtt_ms, hb.rtt_p50_ms,
             hb.rtt_p99_ms, hb.clock_offset_ms, fresh_start});
  if (!r.ok()) return r.error();
  return okStatus();
}

Result<std::vector<NodeRecord>> ClusterStore::nodes(std::int64_t failover_timeout_ms) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).select_nodes,
                            Params{failover_timeout_ms});
  if (!r.ok()) return r.error();
  std::vector<NodeRecord> out;
  out.reserve(r->size());
  for (std::size_t i = 0; i < r->size(); ++i) out.push_back(nodeFromRow(*r, i));
  return out;
}

Status ClusterStore::markStopped(const std::string& node_id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).mark_node_stopped, Params{node_id});
  if (!r.ok()) return r.error();
  if (r->affected == 0) return Error::notFound(fmt::format("node {} is not registered", node_id));
  return okStatus();
}

Status ClusterStore::requestRole(const std::string& node_id_or_name, const std::string& role) {
  ATRIUM_TRY(checkRole(role));
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).request_node_role,
                            Params{node_id_or_name, role});
  if (!r.ok()) return r.error();
  if (r->affected == 0) {
    return Error::notFound(fmt::format("no node has the id or name \"{}\"", node_id_or_name));
  }
  return okStatus();
}

Status ClusterStore::clearRequestedRole(const std::string& node_id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r =
      (**pooled).query(clusterCatalogueFor(db_.dialect()).clear_requested_role, Params{node_id});
  if (!r.ok()) return r.error();
  return okStatus();
}

Status ClusterStore::pruneNodes(std::int64_t older_than_ms) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).prune_nodes, Params{older_than_ms});
  if (!r.ok()) return r.error();
  return okStatus();
}

Result<bool> ClusterStore::promoteIfNoActive(const std::string& node_id,
                                             std::int64_t failover_timeout_ms) {
  const ClusterCatalogue& cat = clusterCatalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  // PostgreSQL: a table lock that two promoting nodes take in turn; SQLite: BEGIN IMMEDIATE.
  ATRIUM_TRY(runIfAny(conn, cat.lock_promotion));
  auto live = countOf(conn, cat.count_live_active_nodes, Params{node_id, failover_timeout_ms});
  if (!live.ok()) return live.error();
  if (*live > 0) {
    ATRIUM_TRY(tx.commit());
    return false;
  }
  auto r = conn.query(cat.promote_node, Params{node_id});
  if (!r.ok()) return r.error();
  if (r->affected == 0) return Error::notFound(fmt::format("node {} is not registered", node_id));
  ATRIUM_TRY(tx.commit());
  return true;
}

Status ClusterStore::setRole(const std::string& node_id, const std::string& role) {
  ATRIUM_TRY(checkRole(role));
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r =
      (**pooled).query(clusterCatalogueFor(db_.dialect()).set_node_role, Params{node_id, role});
  if (!r.ok()) return r.error();
  if (r->affected == 0) return Error::notFound(fmt::format("node {} is not registered", node_id));
  return okStatus();
}

// ---- leases --------------------------------------------------------------------------------

Result<std::optional<Lease>> ClusterStore::acquireLease(const std::string& key,
                                                        const std::string& holder,
                                                        std::int64_t ttl_ms) {
  if (key.empty()) return Error::invalid("a lease needs a key", "key");
  if (holder.empty()) return Error::invalid("a lease needs a holder", "holder");
  ATRIUM_TRY(checkTtl(ttl_ms));
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).acquire_lease,
                            Params{key, holder, ttl_ms});
  if (!r.ok()) return r.error();
  if (r->empty()) return std::optional<Lease>();
  return std::optional<Lease>(leaseFromRow(*r, 0));
}

Result<std::vector<Lease>> ClusterStore::renewLeases(const std::string& holder,
                                                     const std::vector<Fence>& held,
                                                     std::int64_t ttl_ms) {
  ATRIUM_TRY(checkTtl(ttl_ms));
  std::vector<Lease> out;
  json list = json::array();
  for (const Fence& f : held) {
    if (f.holder == holder) list.push_back(json{{"key", f.lease_key}, {"token", f.token}});
  }
  if (list.empty()) return out;
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  // One statement for all of them: the holder renews every bucket in one round trip.
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).renew_leases,
                            Params{holder, list.dump(), ttl_ms});
  if (!r.ok()) return r.error();
  out.reserve(r->size());
  for (std::size_t i = 0; i < r->size(); ++i) out.push_back(leaseFromRow(*r, i));
  return out;
}

Status ClusterStore::releaseLease(const Fence& fence) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).release_lease,
                            Params{fence.lease_key, fence.holder, fence.token});
  if (!r.ok()) return r.error();
  return okStatus();
}

Result<std::vector<Lease>> ClusterStore::leases(const std::string& key_prefix) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).select_leases, Params{key_prefix});
  if (!r.ok()) return r.error();
  std::vector<Lease> out;
  out.reserve(r->size());
  for (std::size_t i = 0; i < r->size(); ++i) out.push_back(leaseFromRow(*r, i));
  return out;
}

Result<bool> ClusterStore::fenceValid(const Fence& fence) {
  const ClusterCatalogue& cat = clusterCatalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  // A task's lease lives on its row (claimDueTask); every other lease in the leases table.
  const std::string task_id = taskIdOf(fence);
  auto count = task_id.empty() ? countOf(**pooled, cat.lease_fence_valid,
                                         Params{fence.lease_key, fence.holder, fence.token})
                               : countOf(**pooled, cat.task_fence_valid,
                                         Params{task_id, fence.holder, fence.token});
  if (!count.ok()) return count.error();
  return *count > 0;
}

// ---- tasks ---------------------------------------------------------------------------------

Result<TaskRecord> ClusterStore::createTask(const TaskSpec& spec) {
  if (spec.kind.empty()) return Error::invalid("a task needs a kind", "kind");
  if (spec.misfire != "run-once" && spec.misfire != "skip") {
    return Error::invalid(
        fmt::format("misfire must be \"run-once\" or \"skip\" (got \"{}\")", spec.misfire),
        "misfire");
  }
  if (spec.max_attempts < 1)
    return Error::invalid("max_attempts must be at least 1", "max_attempts");
  if (spec.interval_s && *spec.interval_s <= 0) {
    return Error::invalid("interval_s must be positive", "interval_s");
  }
  const std::string payload = spec.payload.empty() ? "{}" : spec.payload;
  auto parsed = json::parse(payload, nullptr, false);
  if (!parsed.is_object())
    return Error::invalid("a task's payload must be a JSON object", "payload");
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(
      clusterCatalogueFor(db_.dialect()).insert_task,
      Params{newUuid(), spec.kind, spec.name.empty() ? spec.kind : spec.name, payload,
             spec.run_at ? Value(*spec.run_at) : Value(nullptr),
             spec.interval_s ? Value(*spec.interval_s) : Value(nullptr), spec.idempotent,
             spec.misfire, std::int64_t{spec.max_attempts}, spec.created_by});
  if (!r.ok()) return r.error();
  if (r->empty()) return Error::internal("creating a task returned no row");
  return taskFromRow(*r, 0);
}

Result<std::optional<TaskRecord>> ClusterStore::task(const std::string& id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).select_task, Params{id});
  if (!r.ok()) return r.error();
  if (r->empty()) return std::optional<TaskRecord>();
  return std::optional<TaskRecord>(taskFromRow(*r, 0));
}

Result<std::vector<TaskRecord>> ClusterStore::tasks(const std::string& state, std::int64_t limit,
                                                    std::int64_t offset) {
  ATRIUM_TRY(checkPaging(limit, offset));
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).list_tasks,
                            Params{state.empty() ? Value(nullptr) : Value(state), limit, offset});
  if (!r.ok()) return r.error();
  std::vector<TaskRecord> out;
  out.reserve(r->size());
  for (std::size_t i = 0; i < r->size(); ++i) out.push_back(taskFromRow(*r, i));
  return out;
}

Result<std::int64_t> ClusterStore::countTasks(const std::string& state) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return countOf(**pooled, clusterCatalogueFor(db_.dialect()).count_tasks,
                 Params{state.empty() ? Value(nullptr) : Value(state)});
}

Result<std::vector<TaskRun>> ClusterStore::taskRuns(const std::string& task_id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).select_task_runs, Params{task_id});
  if (!r.ok()) return r.error();
  std::vector<TaskRun> out;
  out.reserve(r->size());
  for (std::size_t i = 0; i < r->size(); ++i) out.push_back(runFromRow(*r, i));
  return out;
}

Result<TaskRecord> ClusterStore::cancelTask(const std::string& id, const std::string& by) {
  const ClusterCatalogue& cat = clusterCatalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  for (std::string_view sql : {cat.cancel_scheduled_task, cat.request_task_cancel}) {
    auto r = conn.query(sql, Params{id, by});
    if (!r.ok()) return r.error();
    if (!r->empty()) {
      ATRIUM_TRY(tx.commit());
      return taskFromRow(*r, 0);
    }
  }
  auto r = conn.query(cat.select_task, Params{id});
  if (!r.ok()) return r.error();
  if (r->empty()) return Error::notFound(fmt::format("task {} does not exist", id));
  return Error::conflict(
      fmt::format("task {} already ended ({}); only a scheduled or running task can be cancelled",
                  id, r->text(0, 4)));
}

Result<std::optional<ClaimedTask>> ClusterStore::claimDueTask(const std::string& node_id,
                                                              const std::string& node_name,
                                                              std::int64_t ttl_ms) {
  ATRIUM_TRY(checkTtl(ttl_ms));
  const ClusterCatalogue& cat = clusterCatalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  // Each pass either claims a task, finds none due, or moves one misfired "skip" task on.
  constexpr int kMaxSkipsPerCall = 32;
  for (int pass = 0; pass < kMaxSkipsPerCall; ++pass) {
    Transaction tx(conn);
    ATRIUM_TRY(tx.begin());
    auto due = conn.query(cat.select_due_task);
    if (!due.ok()) return due.error();
    if (due->empty()) {
      ATRIUM_TRY(tx.commit());
      return std::optional<ClaimedTask>();
    }
    const TaskRecord found = taskFromRow(*due, 0);
    const std::int64_t now = due->integer(0, kTaskDbNowColumn);
    if (found.spec.interval_s && found.spec.misfire == "skip") {
      const std::int64_t interval_ms = *found.spec.interval_s * 1000;
      if (now - found.next_run_at > interval_ms) {
        const std::int64_t missed = (now - found.next_run_at) / interval_ms + 1;
        const std::int64_t next = found.next_run_at + missed * interval_ms;
        auto moved = conn.query(cat.move_task_next_run, Params{found.id, next});
        if (!moved.ok()) return moved.error();
        auto skipped = conn.query(
            cat.insert_skipped_run,
            Params{found.id, node_id, node_name,
                   fmt::format("missed {} run(s) while no node ran the task (misfire policy "
                               "\"skip\"); next run at {}",
                               missed, whenText(next))});
        if (!skipped.ok()) return skipped.error();
        ATRIUM_TRY(tx.commit());
        continue;
      }
    }
    auto claimed = conn.query(cat.claim_task, Params{found.id, node_id, ttl_ms});
    if (!claimed.ok()) return claimed.error();
    if (claimed->empty()) return Error::internal("a locked due task could not be claimed");
    ClaimedTask out;
    out.task = taskFromRow(*claimed, 0);
    auto run = conn.query(cat.open_task_run,
                          Params{found.id, node_id, node_name, std::int64_t{out.task.attempts}});
    if (!run.ok()) return run.error();
    if (run->empty()) return Error::internal("opening a task run returned no id");
    out.run_id = run->integer(0, 0);
    out.fence = Fence{std::string(kTaskLeasePrefix) + out.task.id, node_id, out.task.token};
    ATRIUM_TRY(tx.commit());
    return std::optional<ClaimedTask>(std::move(out));
  }
  return std::optional<ClaimedTask>();
}

Result<bool> ClusterStore::renewTask(const Fence& fence, std::int64_t ttl_ms) {
  auto renewal = renewTaskLease(fence, ttl_ms);
  if (!renewal.ok()) return renewal.error();
  return renewal->held;
}

Result<TaskRenewal> ClusterStore::renewTaskLease(const Fence& fence, std::int64_t ttl_ms) {
  ATRIUM_TRY(checkTtl(ttl_ms));
  const std::string task_id = taskIdOf(fence);
  if (task_id.empty()) return Error::invalid("not a task's fence: " + fence.lease_key, "lease_key");
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).renew_task,
                            Params{task_id, fence.holder, fence.token, ttl_ms});
  if (!r.ok()) return r.error();
  TaskRenewal out;
  if (r->empty()) return out;
  out.held = true;
  out.cancel_requested = r->boolean(0, 0);
  out.cancelled_by = r->text(0, 1);
  return out;
}

Result<bool> ClusterStore::finishTask(const ClaimedTask& claimed, bool ok,
                                      const std::string& message) {
  return finishRun(claimed, ok, ok ? "succeeded" : "failed", message);
}

Result<bool> ClusterStore::finishCancelledTask(const ClaimedTask& claimed,
                                               const std::string& message) {
  // finish_task ends a task whose cancel was requested "cancelled", recurring or not.
  return finishRun(claimed, false, "cancelled", message);
}

Result<bool> ClusterStore::finishRun(const ClaimedTask& claimed, bool ok, std::string_view outcome,
                                     const std::string& message) {
  const ClusterCatalogue& cat = clusterCatalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  auto r = conn.query(cat.finish_task, Params{claimed.task.id, claimed.fence.holder,
                                              claimed.fence.token, ok, message});
  if (!r.ok()) return r.error();
  if (r->empty()) return false;  // the fence no longer holds: another node has the task
  auto run = conn.query(cat.finish_task_run, Params{claimed.run_id, std::string(outcome), message});
  if (!run.ok()) return run.error();
  ATRIUM_TRY(tx.commit());
  return true;
}

Result<int> ClusterStore::recoverExpiredTasks(const std::string& by_node_name) {
  const ClusterCatalogue& cat = clusterCatalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  auto expired = conn.query(cat.select_expired_tasks);
  if (!expired.ok()) return expired.error();
  int taken = 0;
  for (std::size_t i = 0; i < expired->size(); ++i) {
    const TaskRecord t = taskFromRow(*expired, i);
    const bool cancel_requested = expired->boolean(i, kTaskCancelRequestedColumn);
    auto open = conn.query(cat.select_open_run, Params{t.id});
    if (!open.ok()) return open.error();
    std::string who = t.holder;
    if (!open->empty() && !open->text(0, 1).empty()) {
      who = fmt::format("{} ({})", open->text(0, 1), t.holder);
    }
    const std::string what = fmt::format(
        "node {} stopped renewing the task's lease during attempt {} (it died or stalled; the "
        "lease expired at {}); taken over by {}",
        who, t.attempts, whenText(t.lease_expires_at), by_node_name);
    const bool rerun = !cancel_requested && t.spec.idempotent && t.attempts < t.spec.max_attempts;
    std::string reason;
    if (rerun) {
      reason = what + "; the task is idempotent, so it runs again";
    } else if (cancel_requested) {
      reason = what + "; the task was cancelled";
    } else if (t.spec.idempotent) {
      reason = fmt::format("{}; no attempts left (max_attempts {})", what, t.spec.max_attempts);
    } else {
      reason = what + "; the task is not idempotent, so it is not run again";
    }
    auto moved = conn.query(rerun ? cat.requeue_task : cat.fail_interrupted_task,
                            Params{t.id, t.holder, t.token, reason});
    if (!moved.ok()) return moved.error();
    if (moved->affected == 0) continue;
    auto closed = conn.query(cat.close_open_runs, Params{t.id, std::string("interrupted"), reason});
    if (!closed.ok()) return closed.error();
    ++taken;
  }
  ATRIUM_TRY(tx.commit());
  return taken;
}

// ---- validation keys -----------------------------------------------------------------------

Result<ValidationKey> ClusterStore::rotateValidationKey(const std::string& secret_hex,
                                                        std::int64_t grace_ms) {
  if (secret_hex.size() != 64 || !isHex(secret_hex)) {
    return Error::invalid("a validation key is 64 hex digits (32 bytes)", "secret_hex");
  }
  if (grace_ms < 0) return Error::invalid("the grace period must not be negative", "grace_ms");
  const ClusterCatalogue& cat = clusterCatalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  ATRIUM_TRY(runIfAny(conn, cat.lock_validation_keys));
  auto retired = conn.query(cat.retire_validation_keys, Params{grace_ms});
  if (!retired.ok()) return retired.error();
  auto r = conn.query(cat.insert_validation_key, Params{randomHex(6), secret_hex});
  if (!r.ok()) return r.error();
  if (r->empty()) return Error::internal("adding a validation key returned no row");
  ValidationKey key = keyFromRow(*r, 0);
  // Every stored system password moves to the new key in the same transaction, while the old
  // keys are still there to open them.
  auto resealed = resealSystemPasswords(conn);
  if (!resealed.ok()) return resealed.error();
  ATRIUM_TRY(tx.commit());
  return key;
}

Result<std::vector<ValidationKey>> ClusterStore::validationKeys() {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(clusterCatalogueFor(db_.dialect()).select_validation_keys);
  if (!r.ok()) return r.error();
  std::vector<ValidationKey> out;
  out.reserve(r->size());
  for (std::size_t i = 0; i < r->size(); ++i) out.push_back(keyFromRow(*r, i));
  return out;
}

}  // namespace atrium::store
