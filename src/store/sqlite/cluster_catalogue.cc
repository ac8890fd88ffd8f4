// SQLite statements of ClusterStore. A single node uses them too (its registry row, its task
// queue); every transaction is BEGIN IMMEDIATE, so claims and promotions are serialised by the
// database's write lock.
#include "store/cluster_catalogue.h"

#define NOW ATRIUM_SQLITE_NOW

namespace atrium::store {
namespace {

#define ATRIUM_NODE_COLUMNS                                                                    \
  "id, name, version, role, state, device_addresses, api_address, file_path, cache_checksum, " \
  "identity_fingerprint, key_fingerprint, driver_families, rtt_ms, rtt_p50_ms, rtt_p99_ms, "   \
  "clock_offset_ms, requested_role, started_at, last_heartbeat"

#define ATRIUM_TASK_COLUMNS                                                                      \
  "id, kind, name, payload, state, next_run_at, interval_s, idempotent, misfire, max_attempts, " \
  "attempts, holder, token, lease_expires_at, last_error, created_by, created_at, updated_at, "  \
  "cancel_requested"

#define ATRIUM_RUN_COLUMNS \
  "id, task_id, node, node_name, attempt, started_at, finished_at, outcome, message"

#define ATRIUM_KEY_COLUMNS "id, secret_hex, created_at, retired_at, valid_until"

// The first slot of a recurring task after now, on its original schedule.
#define ATRIUM_NEXT_SLOT \
  "next_run_at + ((" NOW " - next_run_at) / (interval_s * 1000) + 1) * (interval_s * 1000)"

const ClusterCatalogue kCatalogue{
    .db_now = "SELECT " NOW,

    .upsert_node =
        "INSERT INTO nodes (id, name, version, role, state, device_addresses, api_address, "
        "file_path, cache_checksum, identity_fingerprint, key_fingerprint, driver_families, "
        "rtt_ms, rtt_p50_ms, rtt_p99_ms, clock_offset_ms, started_at, last_heartbeat) VALUES ($1, "
        "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, " NOW ", " NOW
        ") "
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version, "
        "role = excluded.role, state = excluded.state, "
        "device_addresses = excluded.device_addresses, api_address = excluded.api_address, "
        "file_path = excluded.file_path, cache_checksum = excluded.cache_checksum, "
        "identity_fingerprint = excluded.identity_fingerprint, "
        "key_fingerprint = excluded.key_fingerprint, driver_families = excluded.driver_families, "
        "rtt_ms = excluded.rtt_ms, rtt_p50_ms = excluded.rtt_p50_ms, "
        "rtt_p99_ms = excluded.rtt_p99_ms, clock_offset_ms = excluded.clock_offset_ms, "
        "started_at = CASE WHEN $17 <> 0 THEN excluded.started_at ELSE nodes.started_at END, "
        "last_heartbeat = excluded.last_heartbeat",
    .select_nodes = "SELECT " ATRIUM_NODE_COLUMNS ", " NOW
                    " - last_heartbeat, "
                    "(" NOW " - last_heartbeat) <= $1 FROM nodes ORDER BY name, id",
    .mark_node_stopped =
        "UPDATE nodes SET state = 'draining', "
        "last_heartbeat = " NOW " - 86400000 WHERE id = $1",
    .request_node_role =
        "UPDATE nodes SET requested_role = $2 WHERE id = (SELECT id FROM nodes "
        "WHERE id = $1 OR name = $1 ORDER BY (id = $1) DESC, last_heartbeat DESC LIMIT 1)",
    .clear_requested_role = "UPDATE nodes SET requested_role = NULL WHERE id = $1",
    .set_node_role = "UPDATE nodes SET role = $2 WHERE id = $1",
    .prune_nodes = "DELETE FROM nodes WHERE last_heartbeat < " NOW " - $1",
    .lock_promotion = "",
    .count_live_active_nodes =
        "SELECT count(*) FROM nodes WHERE id <> $1 AND role = 'active' "
        "AND state IN ('starting', 'active') AND last_heartbeat >= " NOW " - $2",
    .promote_node =
        "UPDATE nodes SET role = 'active', state = 'active', "
        "last_heartbeat = " NOW " WHERE id = $1",

    .acquire_lease =
        "INSERT INTO leases (key, holder, token, expires_at, acquired_at) "
        "VALUES ($1, $2, 1, " NOW " + $3, " NOW
        ") ON CONFLICT (key) DO UPDATE SET "
        "token = CASE WHEN leases.holder = excluded.holder THEN leases.token "
        "ELSE leases.token + 1 END, "
        "acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at "
        "ELSE excluded.acquired_at END, "
        "holder = excluded.holder, expires_at = excluded.expires_at "
        "WHERE leases.holder = excluded.holder OR leases.holder = '' "
        "OR leases.expires_at <= excluded.acquired_at "
        "RETURNING key, holder, token, expires_at, expires_at - $3",
    .renew_leases = "UPDATE leases SET expires_at = " NOW
                    " + $3 FROM (SELECT json_extract(value, '$.key') "
                    "AS k, json_extract(value, '$.token') AS t FROM json_each($2)) AS f "
                    "WHERE leases.key = f.k AND leases.token = f.t AND leases.holder = $1 "
                    "RETURNING key, holder, token, expires_at, expires_at - $3",
    .release_lease = "UPDATE leases SET holder = '', expires_at = " NOW
                     " WHERE key = $1 AND holder = $2 AND token = $3",
    .select_leases = "SELECT key, holder, token, expires_at, " NOW
                     " FROM leases WHERE substr(key, 1, length($1)) = $1 ORDER BY key",
    .lease_fence_valid =
        "SELECT count(*) FROM leases WHERE key = $1 AND holder = $2 "
        "AND token = $3 AND expires_at > " NOW,

    .insert_task =
        "INSERT INTO tasks (id, kind, name, payload, state, next_run_at, interval_s, idempotent, "
        "misfire, max_attempts, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, "
        "'scheduled', COALESCE($5, " NOW "), $6, $7, $8, $9, $10, " NOW ", " NOW
        ") "
        "RETURNING " ATRIUM_TASK_COLUMNS,
    .select_task = "SELECT " ATRIUM_TASK_COLUMNS " FROM tasks WHERE id = $1",
    .list_tasks = "SELECT " ATRIUM_TASK_COLUMNS
                  " FROM tasks WHERE ($1 IS NULL OR state = $1) "
                  "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
    .count_tasks = "SELECT count(*) FROM tasks WHERE ($1 IS NULL OR state = $1)",
    .select_task_runs =
        "SELECT " ATRIUM_RUN_COLUMNS " FROM task_runs WHERE task_id = $1 ORDER BY id",
    .cancel_scheduled_task =
        "UPDATE tasks SET state = 'cancelled', cancelled_by = $2, updated_at = " NOW
        " WHERE id = $1 AND state = 'scheduled' RETURNING " ATRIUM_TASK_COLUMNS,
    .request_task_cancel =
        "UPDATE tasks SET cancel_requested = 1, cancelled_by = $2, updated_at = " NOW
        " WHERE id = $1 AND state = 'running' RETURNING " ATRIUM_TASK_COLUMNS,
    .select_due_task =
        "SELECT " ATRIUM_TASK_COLUMNS ", " NOW
        " FROM tasks "
        "WHERE state = 'scheduled' AND next_run_at <= " NOW " ORDER BY next_run_at, id LIMIT 1",
    .move_task_next_run = "UPDATE tasks SET next_run_at = $2, updated_at = " NOW
                          " WHERE id = $1 AND state = 'scheduled'",
    .claim_task =
        "UPDATE tasks SET state = 'running', holder = $2, token = token + 1, "
        "lease_expires_at = " NOW " + $3, attempts = attempts + 1, updated_at = " NOW
        " WHERE id = $1 AND state = 'scheduled' RETURNING " ATRIUM_TASK_COLUMNS,
    .open_task_run =
        "INSERT INTO task_runs (task_id, node, node_name, attempt, started_at, "
        "outcome) VALUES ($1, $2, $3, $4, " NOW ", 'running') RETURNING id",
    .insert_skipped_run =
        "INSERT INTO task_runs (task_id, node, node_name, attempt, started_at, finished_at, "
        "outcome, message) VALUES ($1, $2, $3, 0, " NOW ", " NOW ", 'skipped', $4)",
    .renew_task = "UPDATE tasks SET lease_expires_at = " NOW
                  " + $4 WHERE id = $1 "
                  "AND holder = $2 AND token = $3 AND state = 'running' "
                  "AND lease_expires_at > " NOW " RETURNING cancel_requested, cancelled_by",
    .task_fence_valid =
        "SELECT count(*) FROM tasks WHERE id = $1 AND holder = $2 "
        "AND token = $3 AND state = 'running' AND lease_expires_at > " NOW,
    .finish_task =
        "UPDATE tasks SET state = CASE WHEN cancel_requested <> 0 THEN 'cancelled' "
        "WHEN interval_s IS NOT NULL THEN 'scheduled' WHEN $4 <> 0 THEN 'succeeded' "
        "ELSE 'failed' END, "
        "next_run_at = CASE WHEN interval_s IS NOT NULL AND cancel_requested = 0 "
        "THEN " ATRIUM_NEXT_SLOT
        " ELSE next_run_at END, "
        "attempts = CASE WHEN interval_s IS NOT NULL THEN 0 ELSE attempts END, "
        "holder = '', lease_expires_at = 0, last_error = CASE WHEN $4 <> 0 THEN '' ELSE $5 END, "
        "updated_at = " NOW
        " WHERE id = $1 AND holder = $2 AND token = $3 "
        "AND state = 'running' AND lease_expires_at > " NOW " RETURNING " ATRIUM_TASK_COLUMNS,
    .finish_task_run =
        "UPDATE task_runs SET finished_at = " NOW ", outcome = $2, message = $3 WHERE id = $1",
    .select_expired_tasks =
        "SELECT " ATRIUM_TASK_COLUMNS ", " NOW
        " FROM tasks "
        "WHERE state = 'running' AND lease_expires_at <= " NOW " ORDER BY lease_expires_at, id",
    .select_open_run =
        "SELECT node, node_name FROM task_runs WHERE task_id = $1 "
        "AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
    .requeue_task =
        "UPDATE tasks SET state = 'scheduled', holder = '', lease_expires_at = 0, "
        "next_run_at = " NOW ", last_error = $4, updated_at = " NOW
        " WHERE id = $1 AND holder = $2 AND token = $3 AND state = 'running'",
    .fail_interrupted_task =
        "UPDATE tasks SET state = CASE WHEN cancel_requested <> 0 THEN 'cancelled' "
        "WHEN interval_s IS NOT NULL THEN 'scheduled' ELSE 'failed' END, "
        "next_run_at = CASE WHEN interval_s IS NOT NULL AND cancel_requested = 0 "
        "THEN " ATRIUM_NEXT_SLOT
        " ELSE next_run_at END, "
        "attempts = CASE WHEN interval_s IS NOT NULL THEN 0 ELSE attempts END, "
        "holder = '', lease_expires_at = 0, last_error = $4, updated_at = " NOW
        " WHERE id = $1 AND holder = $2 AND token = $3 AND state = 'running'",
    .close_open_runs = "UPDATE task_runs SET finished_at = " NOW
                       ", outcome = $2, message = $3 WHERE task_id = $1 AND finished_at IS NULL",

    .lock_validation_keys = "",
    .retire_validation_keys = "UPDATE validation_keys SET retired_at = " NOW ", valid_until = " NOW
                              " + $1 WHERE retired_at IS NULL",
    .insert_validation_key =
        "INSERT INTO validation_keys (id, secret_hex, created_at) "
        "VALUES ($1, $2, " NOW ") RETURNING " ATRIUM_KEY_COLUMNS,
    .select_validation_keys = "SELECT " ATRIUM_KEY_COLUMNS
                              " FROM validation_keys WHERE retired_at IS NULL "
                              "OR valid_until > " NOW
                              " ORDER BY (retired_at IS NULL) DESC, created_at DESC, "
                              "valid_until DESC",

};

}  // namespace

const ClusterCatalogue& sqliteClusterCatalogue() { return kCatalogue; }

}  // namespace atrium::store
