// The statements ClusterStore runs, one instance per dialect (store/sqlite/cluster_catalogue.cc,
// store/postgres/cluster_catalogue.cc); the schema is migration 3 in each dialect's catalogue.cc.
// Placeholders are $1, $2 ... on both. Every "now" is the DATABASE clock in milliseconds since
// the epoch (see kSqliteNow / kPostgresNow below), never a node's clock.
#pragma once

#include <string_view>

#include "store/sql.h"

// The database clock as an SQL expression, in ms since the epoch.
#define ATRIUM_SQLITE_NOW "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
#define ATRIUM_POSTGRES_NOW "(extract(epoch from clock_timestamp()) * 1000)::bigint"

namespace atrium::store {

struct ClusterCatalogue {
  std::string_view db_now;  // -> now

  // --- node registry ------------------------------------------------------------------------
  // Columns of every node select: id, name, version, role, state, device_addresses (JSON),
  // api_address, file_path, cache_checksum, identity_fingerprint, key_fingerprint,
  // driver_families (JSON), rtt_ms, rtt_p50_ms, rtt_p99_ms, clock_offset_ms, requested_role,
  // started_at, last_heartbeat.
  // $1..$16 the heartbeat's fields in that order (requested_role excluded), $17 fresh start
  // (bool): started_at becomes now on a fresh start and on the first heartbeat.
  std::string_view upsert_node;
  // $1 failover timeout ms -> the node columns, then age_ms, alive (bool).
  std::string_view select_nodes;
  std::string_view mark_node_stopped;     // $1 id
  std::string_view request_node_role;     // $1 id or name, $2 role
  std::string_view clear_requested_role;  // $1 id
  std::string_view set_node_role;         // $1 id, $2 role
  std::string_view prune_nodes;           // $1 older than (ms)
  // Serialises promotions (the installation row / table); empty when BEGIN already does.
  std::string_view lock_promotion;
  // $1 node id (excluded), $2 failover timeout -> count of live active nodes.
  std::string_view count_live_active_nodes;
  std::string_view promote_node;  // $1 id: role and state active, heartbeat now

  // --- leases -------------------------------------------------------------------------------
  // Lease columns: key, holder, token, expires_at, db_now.
  std::string_view acquire_lease;  // $1 key, $2 holder, $3 ttl ms
  // $1 holder, $2 JSON array [{"key":..,"token":..}], $3 ttl ms -> the lease columns renewed.
  std::string_view renew_leases;
  std::string_view release_lease;      // $1 key, $2 holder, $3 token
  std::string_view select_leases;      // $1 key prefix
  std::string_view lease_fence_valid;  // $1 key, $2 holder, $3 token -> count

  // --- tasks --------------------------------------------------------------------------------
  // Task columns: id, kind, name, payload, state, next_run_at, interval_s, idempotent, misfire,
  // max_attempts, attempts, holder, token, lease_expires_at, last_error, created_by, created_at,
  // updated_at, cancel_requested.
  // $1 id, $2 kind, $3 name, $4 payload, $5 run_at (NULL: now), $6 interval_s, $7 idempotent,
  // $8 misfire, $9 max_attempts, $10 created_by -> the task columns.
  std::string_view insert_task;
  std::string_view select_task;  // $1 id
  // $1 state (NULL: any); list adds $2 limit, $3 offset; newest first.
  std::string_view list_tasks;
  std::string_view count_tasks;
  // Run columns: id, task_id, node, node_name, attempt, started_at, finished_at, outcome,
  // message. $1 task id, oldest first.
  std::string_view select_task_runs;
  std::string_view cancel_scheduled_task;  // $1 id, $2 by -> the task columns
  std::string_view request_task_cancel;    // $1 id (running), $2 by -> the task columns
  // The task due soonest, locked for this transaction (skipping rows others hold): the task
  // columns, then db now.
  std::string_view select_due_task;
  std::string_view move_task_next_run;  // $1 id, $2 next_run_at (a skipped misfire)
  // $1 id, $2 holder, $3 ttl ms -> the task columns (state running, new token, attempts + 1).
  std::string_view claim_task;
  // $1 task id, $2 node, $3 node name, $4 attempt -> id (outcome "running").
  std::string_view open_task_run;
  // $1 task id, $2 node, $3 node name, $4 message: a run recorded "skipped" (finished at once).
  std::string_view insert_skipped_run;
  // $1 id, $2 holder, $3 token, $4 ttl ms -> cancel_requested, cancelled_by (no row: not held)
  std::string_view renew_task;
  std::string_view task_fence_valid;  // $1 id, $2 holder, $3 token -> count
  // $1 id, $2 holder, $3 token, $4 ok (bool), $5 message -> the task columns when it held.
  std::string_view finish_task;
  std::string_view finish_task_run;  // $1 run id, $2 outcome, $3 message
  // Running tasks whose lease expired, locked (skipping rows others hold): task columns, db now.
  std::string_view select_expired_tasks;
  // $1 task id -> node, node_name of its open run (newest first).
  std::string_view select_open_run;
  // $1 id, $2 holder, $3 token, $4 reason: back to scheduled, due now.
  std::string_view requeue_task;
  // $1 id, $2 holder, $3 token, $4 reason: one-off -> failed; recurring -> its next slot;
  // cancel requested -> cancelled.
  std::string_view fail_interrupted_task;
  std::string_view close_open_runs;  // $1 task id, $2 outcome, $3 message

  // --- validation keys ----------------------------------------------------------------------
  // Key columns: id, secret_hex, created_at, retired_at, valid_until.
  std::string_view lock_validation_keys;    // empty when BEGIN already serialises writers
  std::string_view retire_validation_keys;  // $1 grace ms
  std::string_view insert_validation_key;   // $1 id, $2 secret -> the key columns
  std::string_view select_validation_keys;  // current first, then retired within grace
};

const ClusterCatalogue& sqliteClusterCatalogue();
const ClusterCatalogue& postgresClusterCatalogue();
const ClusterCatalogue& clusterCatalogueFor(Dialect dialect);

}  // namespace atrium::store
