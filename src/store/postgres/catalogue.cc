// PostgreSQL statements. Timestamps are BIGINT milliseconds since the epoch (UTC). Unique
// constraints and indexes are named "<table>_<field>_key" (see driver_util.h).
#include "store/catalogue.h"
#include "store/people_store.h"
#include "store/cluster_catalogue.h"

namespace atrium::store {
namespace {

constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE schema_version (
  version INTEGER PRIMARY KEY,
  applied_at BIGINT NOT NULL
);

CREATE TABLE installation (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  epoch BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE folders (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  parent_id TEXT REFERENCES folders (id),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
-- Names are unique among siblings, top level (NULL parent) included.
CREATE UNIQUE INDEX folders_name_key ON folders ((COALESCE(parent_id, '')), name);
CREATE INDEX folders_parent_id_idx ON folders (parent_id);

CREATE TABLE systems (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL CONSTRAINT systems_name_key UNIQUE,
  family TEXT NOT NULL,
  model TEXT NOT NULL DEFAULT '',
  addresses TEXT NOT NULL DEFAULT '[]',
  folder_id TEXT REFERENCES folders (id),
  connectivity TEXT NOT NULL,
  serial_number TEXT CONSTRAINT systems_serial_number_key UNIQUE,
  software_version TEXT NOT NULL DEFAULT '',
  username TEXT NOT NULL DEFAULT '',
  password TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  last_seen BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX systems_family_idx ON systems (family);
CREATE INDEX systems_folder_id_idx ON systems (folder_id);
CREATE INDEX systems_status_idx ON systems (status);
CREATE INDEX systems_connectivity_idx ON systems (connectivity);
-- The default listing order (by name, case-insensitive) walks this index instead of sorting.
CREATE INDEX systems_name_order_idx ON systems ((lower(name) COLLATE "C"), name COLLATE "C", id);

CREATE TABLE audit_log (
  id BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  old_value TEXT NOT NULL,
  new_value TEXT NOT NULL
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor);
)sql";

constexpr std::string_view kMigration2 = R"sql(
-- Persistent settings re-applied on boot, what polling saw, and the per-system feedback secret.
ALTER TABLE systems ADD COLUMN h323_id TEXT NOT NULL DEFAULT '';
ALTER TABLE systems ADD COLUMN e164_alias TEXT NOT NULL DEFAULT '';
ALTER TABLE systems ADD COLUMN sip_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE systems ADD COLUMN feedback_secret TEXT;
UPDATE systems SET feedback_secret = md5(random()::text || id);
CREATE UNIQUE INDEX systems_feedback_secret_key ON systems (feedback_secret);
ALTER TABLE systems ADD COLUMN last_polled_at BIGINT;
ALTER TABLE systems ADD COLUMN last_poll_error TEXT NOT NULL DEFAULT '';
ALTER TABLE systems ADD COLUMN active_calls BIGINT NOT NULL DEFAULT 0;
ALTER TABLE systems ADD COLUMN h323_status TEXT NOT NULL DEFAULT '';
ALTER TABLE systems ADD COLUMN sip_status TEXT NOT NULL DEFAULT '';
ALTER TABLE systems ADD COLUMN mac_address TEXT NOT NULL DEFAULT '';
ALTER TABLE systems ADD COLUMN reported_address TEXT NOT NULL DEFAULT '';
ALTER TABLE systems ADD COLUMN reported_name TEXT NOT NULL DEFAULT '';

CREATE TABLE events (
  id BIGSERIAL PRIMARY KEY,
  system_id TEXT REFERENCES systems (id) ON DELETE SET NULL,
  idempotency_key TEXT NOT NULL CONSTRAINT events_idempotency_key_key UNIQUE,
  source TEXT NOT NULL,
  kind TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  occurred_at BIGINT,
  node TEXT NOT NULL DEFAULT '',
  source_address TEXT NOT NULL DEFAULT '',
  payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_system_id_idx ON events (system_id, id);
CREATE INDEX events_received_at_idx ON events (received_at);

CREATE TABLE call_records (
  id BIGSERIAL PRIMARY KEY,
  system_id TEXT NOT NULL REFERENCES systems (id) ON DELETE CASCADE,
  call_id TEXT NOT NULL,
  direction TEXT NOT NULL DEFAULT 'unknown',
  remote TEXT NOT NULL DEFAULT '',
  protocol TEXT NOT NULL DEFAULT '',
  started_at BIGINT NOT NULL,
  ended_at BIGINT,
  duration_seconds BIGINT,
  cause TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL
);
-- At most one open record per (system, call id).
CREATE UNIQUE INDEX call_records_open_key ON call_records (system_id, call_id)
  WHERE ended_at IS NULL;
CREATE INDEX call_records_system_id_idx ON call_records (system_id, started_at);
CREATE INDEX call_records_started_at_idx ON call_records (started_at);

CREATE TABLE tickets (
  id BIGSERIAL PRIMARY KEY,
  system_id TEXT REFERENCES systems (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  cleared_at BIGINT,
  acknowledged_at BIGINT,
  acknowledged_by TEXT NOT NULL DEFAULT ''
);
-- At most one open ticket per (system, kind); server tickets have no system.
CREATE UNIQUE INDEX tickets_open_key ON tickets ((COALESCE(system_id, '')), kind) WHERE cleared_at IS NULL;
CREATE INDEX tickets_system_id_idx ON tickets (system_id);

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

constexpr std::string_view kMigration3 = R"sql(
-- The cluster: node registry, leases with fencing tokens, the task queue and its history, the
-- installation's validation keys, the shared ingest retry window. Times are on the database
-- clock (ms since the epoch).
CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  version TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL,
  state TEXT NOT NULL,
  device_addresses TEXT NOT NULL DEFAULT '[]',
  api_address TEXT NOT NULL DEFAULT '',
  file_path TEXT NOT NULL DEFAULT '',
  cache_checksum TEXT NOT NULL DEFAULT '',
  identity_fingerprint TEXT NOT NULL DEFAULT '',
  key_fingerprint TEXT NOT NULL DEFAULT '',
  driver_families TEXT NOT NULL DEFAULT '[]',
  rtt_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
  rtt_p50_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
  rtt_p99_ms DOUBLE PRECISION NOT NULL DEFAULT 0,
  clock_offset_ms BIGINT NOT NULL DEFAULT 0,
  requested_role TEXT,
  started_at BIGINT NOT NULL,
  last_heartbeat BIGINT NOT NULL
);
CREATE INDEX nodes_name_idx ON nodes (name);

CREATE TABLE leases (
  key TEXT PRIMARY KEY,
  holder TEXT NOT NULL DEFAULT '',
  token BIGINT NOT NULL DEFAULT 0,
  expires_at BIGINT NOT NULL,
  acquired_at BIGINT NOT NULL
);

CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  payload TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL,
  next_run_at BIGINT NOT NULL,
  interval_s BIGINT,
  idempotent BOOLEAN NOT NULL DEFAULT false,
  misfire TEXT NOT NULL DEFAULT 'run-once',
  max_attempts INTEGER NOT NULL DEFAULT 3,
  attempts INTEGER NOT NULL DEFAULT 0,
  holder TEXT NOT NULL DEFAULT '',
  token BIGINT NOT NULL DEFAULT 0,
  lease_expires_at BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  cancel_requested BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX tasks_due_idx ON tasks (state, next_run_at);
CREATE INDEX tasks_created_at_idx ON tasks (created_at);

CREATE TABLE task_runs (
  id BIGSERIAL PRIMARY KEY,
  task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  node TEXT NOT NULL,
  node_name TEXT NOT NULL DEFAULT '',
  attempt INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT,
  outcome TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX task_runs_task_id_idx ON task_runs (task_id, id);

CREATE TABLE validation_keys (
  id TEXT PRIMARY KEY,
  secret_hex TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  retired_at BIGINT,
  valid_until BIGINT
);

CREATE TABLE retry_keys (
  content_key TEXT PRIMARY KEY,
  salted_key TEXT NOT NULL,
  first_seen BIGINT NOT NULL
);
CREATE INDEX retry_keys_first_seen_idx ON retry_keys (first_seen);

-- The node that wrote the last poll, and the bucket lease token it held.
ALTER TABLE systems ADD COLUMN last_polled_by TEXT;
ALTER TABLE systems ADD COLUMN last_poll_token BIGINT;
)sql";

constexpr std::string_view kMigration5 = R"sql(
-- Who asked for a task to be cancelled (the running node records it in the run it stops).
ALTER TABLE tasks ADD COLUMN cancelled_by TEXT NOT NULL DEFAULT '';
)sql";

// What a poll writes, shared by the plain and the fenced update ($1 id ... $14; the callers add
// the poller's node, $15, and the fence).
#define ATRIUM_POLL_SET \
  "UPDATE systems SET status = $2, last_seen = COALESCE($3::bigint, last_seen), " \
  "last_polled_at = $4, last_poll_error = $5, active_calls = $6, h323_status = $7, " \
  "sip_status = $8, " \
  "model = CASE WHEN $9::text = '' THEN model ELSE $9 END, " \
  "serial_number = CASE WHEN $10::text = '' THEN serial_number ELSE $10 END, " \
  "software_version = CASE WHEN $11::text = '' THEN software_version ELSE $11 END, " \
  "mac_address = CASE WHEN $12::text = '' THEN mac_address ELSE $12 END, " \
  "reported_address = CASE WHEN $13::text = '' THEN reported_address ELSE $13 END, " \
  "reported_name = CASE WHEN $14::text = '' THEN reported_name ELSE $14 END, "

#define ATRIUM_SYSTEM_COLUMNS                                                                   \
  "id, name, family, model, addresses, folder_id, connectivity, serial_number, "              \
  "software_version, username, password, status, last_seen, created_at, updated_at, h323_id, "    \
  "e164_alias, sip_uri, feedback_secret, last_polled_at, last_poll_error, active_calls, "      \
  "h323_status, sip_status, mac_address, reported_address, reported_name, last_polled_by"

#define ATRIUM_SYSTEM_INSERT_COLUMNS                                                            \
  "id, name, family, model, addresses, folder_id, connectivity, serial_number, "              \
  "software_version, username, password, status, last_seen, created_at, updated_at, h323_id, "    \
  "e164_alias, sip_uri, feedback_secret"

#define ATRIUM_SYSTEM_FILTER                                                                    \
  " WHERE ($1::text IS NULL OR family = $1)"                                                  \
  " AND ($2::text IS NULL OR folder_id = $2)"                                                 \
  " AND (NOT $3::boolean OR folder_id IS NULL)"                                               \
  " AND ($4::text IS NULL OR status = $4)"                                                    \
  " AND ($5::text IS NULL OR connectivity = $5)"                                              \
  " AND ($6::text IS NULL OR name ILIKE $6 ESCAPE '\\')"                                      \
  " AND ($7::text IS NULL OR addresses::jsonb ? $7)"

#define ATRIUM_EVENT_COLUMNS                                                                    \
  "id, system_id, idempotency_key, source, kind, received_at, occurred_at, node, "            \
  "source_address, payload"
#define ATRIUM_EVENT_FILTER                                                                     \
  " WHERE ($1::text IS NULL OR system_id = $1) AND ($2::bigint IS NULL OR id > $2)"      \
  " AND ($3::bigint IS NULL OR received_at >= $3) AND ($4::text IS NULL OR source = $4)"      \
  " AND ($5::text IS NULL OR kind = $5)"
#define ATRIUM_CALL_COLUMNS                                                                     \
  "id, system_id, call_id, direction, remote, protocol, started_at, ended_at, "               \
  "duration_seconds, cause, source"
#define ATRIUM_CALL_FILTER                                                                      \
  " WHERE ($1::text IS NULL OR system_id = $1) AND ($2::bigint IS NULL OR started_at >= $2)"  \
  " AND (NOT $3::boolean OR ended_at IS NULL)"
#define ATRIUM_TICKET_COLUMNS                                                                   \
  "id, system_id, kind, severity, message, first_seen, last_seen, cleared_at, "               \
  "acknowledged_at, acknowledged_by"
#define ATRIUM_TICKET_FILTER                                                                    \
  " WHERE ($1::text IS NULL OR system_id = $1) AND ($2::text IS NULL OR kind = $2)"      \
  " AND (NOT $3::boolean OR cleared_at IS NULL)"

#define ATRIUM_AUDIT_FILTER                                                                     \
  " WHERE ($1::text IS NULL OR entity_type = $1) AND ($2::text IS NULL OR entity_id = $2)"    \
  " AND ($3::text IS NULL OR actor = $3)"

constexpr std::string_view kMigration4 = R"sql(
-- "The same post within a minute is a retry", whichever node stores or spools it and whenever the
-- database comes back: a feedback event keeps the key of its content (retry_key), and an event
-- whose content was stored within a minute of it is a retry (DeviceStore::storeEvents). The shared
-- window of migration 3 gave a node that could not reach the database a key of its own.
ALTER TABLE events ADD COLUMN retry_key TEXT;
CREATE INDEX events_retry_key_idx ON events (retry_key, received_at) WHERE retry_key IS NOT NULL;
DROP TABLE retry_keys;

-- A call whose disconnect was stored before its connect (they arrived at different nodes, or one
-- came from a spool): the record was made ended, with a start worked out from the end; the connect
-- fills in the real start instead of opening a record that nothing would close.
ALTER TABLE call_records ADD COLUMN start_missed BOOLEAN NOT NULL DEFAULT false;
)sql";

const Catalogue kCatalogue{
    .migrations = {kMigration1, kMigration2, kMigration3, kMigration4, kMigration5,
                   kPeopleMigration},

    .schema_table_exists =
        "SELECT count(*) FROM pg_catalog.pg_tables "
        "WHERE schemaname = current_schema() AND tablename = 'schema_version'",
    .select_schema_version = "SELECT COALESCE(MAX(version), 0) FROM schema_version",
    .insert_schema_version = "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
    // A transaction-level advisory lock: two processes migrating at once take turns.
    .migration_lock = "SELECT pg_advisory_xact_lock(7361427915318205440)",

    .lock_installation = "LOCK TABLE installation IN SHARE ROW EXCLUSIVE MODE",
    .count_installations = "SELECT count(*) FROM installation",
    .insert_installation =
        "INSERT INTO installation (id, name, created_at, epoch) VALUES ($1, $2, $3, $4)",
    .select_installation = "SELECT id, name, created_at, epoch FROM installation LIMIT 1",

    // Concurrent moves could otherwise build a cycle that neither transaction sees.
    .lock_folder_tree = "LOCK TABLE folders IN SHARE ROW EXCLUSIVE MODE",
    .insert_folder =
        "INSERT INTO folders (id, name, parent_id, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5)",
    .select_folder =
        "SELECT id, name, parent_id, created_at, updated_at FROM folders WHERE id = $1",
    .select_folders =
        "SELECT id, name, parent_id, created_at, updated_at FROM folders ORDER BY name, id",
    .update_folder = "UPDATE folders SET name = $2, parent_id = $3, updated_at = $4 WHERE id = $1",
    .delete_folder = "DELETE FROM folders WHERE id = $1",
    .count_child_folders = "SELECT count(*) FROM folders WHERE parent_id = $1",
    .count_folder_systems = "SELECT count(*) FROM systems WHERE folder_id = $1",
    .folder_is_self_or_ancestor =
        "WITH RECURSIVE chain (id, parent_id) AS ("
        " SELECT id, parent_id FROM folders WHERE id = $1"
        " UNION ALL SELECT f.id, f.parent_id FROM folders f JOIN chain c ON f.id = c.parent_id)"
        " SELECT count(*) FROM chain WHERE id = $2",

    .insert_system = "INSERT INTO systems (" ATRIUM_SYSTEM_INSERT_COLUMNS
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
                     "$16, $17, $18, $19)",
    .select_system = "SELECT " ATRIUM_SYSTEM_COLUMNS " FROM systems WHERE id = $1",
    .select_system_for_update =
        "SELECT " ATRIUM_SYSTEM_COLUMNS " FROM systems WHERE id = $1 FOR UPDATE",
    .update_system =
        "UPDATE systems SET name = $2, family = $3, model = $4, addresses = $5, "
        "folder_id = $6, connectivity = $7, serial_number = $8, "
        "software_version = $9, username = $10, password = $11, status = $12, "
        "last_seen = $13, created_at = $14, updated_at = $15, h323_id = $16, "
        "e164_alias = $17, sip_uri = $18 WHERE id = $1",
    .delete_system = "DELETE FROM systems WHERE id = $1",
    .list_systems = "SELECT " ATRIUM_SYSTEM_COLUMNS " FROM systems" ATRIUM_SYSTEM_FILTER
                    " ORDER BY {order_by} LIMIT $8 OFFSET $9",
    .count_systems = "SELECT count(*) FROM systems" ATRIUM_SYSTEM_FILTER,
    .bytewise_collation = " COLLATE \"C\"",

    .select_systems_after =
        "SELECT " ATRIUM_SYSTEM_COLUMNS " FROM systems WHERE id > $1 ORDER BY id LIMIT $2",
    .select_system_by_secret =
        "SELECT " ATRIUM_SYSTEM_COLUMNS " FROM systems WHERE feedback_secret = $1",
    .select_feedback_secrets =
        "SELECT id, feedback_secret FROM systems WHERE created_at >= $1 ORDER BY id",
    .select_systems_by_address =
        "SELECT " ATRIUM_SYSTEM_COLUMNS " FROM systems WHERE addresses::jsonb ? $1 ORDER BY id",
    .update_system_poll = ATRIUM_POLL_SET
    "last_polled_by = CASE WHEN $15::text = '' THEN last_polled_by ELSE $15 END, "
    "last_poll_token = NULL WHERE id = $1",
    .update_system_poll_fenced = ATRIUM_POLL_SET
    "last_polled_by = $15, last_poll_token = $17 WHERE id = $1 AND EXISTS ("
    "SELECT 1 FROM leases WHERE key = $16 AND holder = $15 AND token = $17 "
    "AND expires_at > " ATRIUM_POSTGRES_NOW ")",
    .update_system_connectivity = "UPDATE systems SET connectivity = $2 WHERE id = $1",

    .insert_event =
        "INSERT INTO events (system_id, idempotency_key, source, kind, received_at, occurred_at, "
        "node, source_address, payload, retry_key) VALUES ((SELECT id FROM systems WHERE id = "
        "$1::text), "
        "$2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING "
        "RETURNING id, system_id",
    .lock_retry_key = "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))",
    .select_retry_within =
        "SELECT 1 FROM events WHERE retry_key = $1 AND received_at >= $2 AND received_at <= $3 "
        "LIMIT 1",
    .list_events_oldest_first = "SELECT " ATRIUM_EVENT_COLUMNS " FROM events" ATRIUM_EVENT_FILTER
                                " ORDER BY id ASC LIMIT $6 OFFSET $7",
    .list_events_newest_first = "SELECT " ATRIUM_EVENT_COLUMNS " FROM events" ATRIUM_EVENT_FILTER
                                " ORDER BY id DESC LIMIT $6 OFFSET $7",
    .count_events = "SELECT count(*) FROM events" ATRIUM_EVENT_FILTER,
    .select_events_after =
        "SELECT " ATRIUM_EVENT_COLUMNS " FROM events WHERE id > $1 ORDER BY id LIMIT $2",
    .select_newest_event_id = "SELECT max(id) FROM events",

    .upsert_open_call =
        "INSERT INTO call_records (system_id, call_id, direction, remote, protocol, started_at, "
        "source) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (system_id, call_id) WHERE ended_at IS NULL DO UPDATE SET "
        "direction = CASE WHEN excluded.direction = 'unknown' THEN call_records.direction "
        "ELSE excluded.direction END, "
        "remote = CASE WHEN excluded.remote = '' THEN call_records.remote ELSE excluded.remote "
        "END, "
        "protocol = CASE WHEN excluded.protocol = '' THEN call_records.protocol "
        "ELSE excluded.protocol END",
    .select_open_call = "SELECT " ATRIUM_CALL_COLUMNS
                        " FROM call_records "
                        "WHERE system_id = $1 AND call_id = $2 AND ended_at IS NULL",
    .end_call =
        "UPDATE call_records SET ended_at = $2, duration_seconds = $3, cause = $4, "
        "remote = CASE WHEN $5::text = '' THEN remote ELSE $5 END, "
        "protocol = CASE WHEN $6::text = '' THEN protocol ELSE $6 END, "
        "direction = CASE WHEN $7::text = 'unknown' THEN direction ELSE $7 END "
        "WHERE id = $1",
    .lock_call = "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 1))",
    .insert_ended_call =
        "INSERT INTO call_records (system_id, call_id, direction, remote, protocol, started_at, "
        "ended_at, duration_seconds, cause, source, start_missed) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    .select_missed_start_call =
        "SELECT id, ended_at, duration_seconds FROM call_records WHERE system_id = $1 AND call_id "
        "= $2 "
        "AND start_missed AND ended_at >= $3 AND ended_at <= $4 ORDER BY ended_at LIMIT 1",
    .fill_missed_start =
        "UPDATE call_records SET started_at = $2, duration_seconds = $3, start_missed = false, "
        "direction = CASE WHEN $4::text = 'unknown' THEN direction ELSE $4 END, "
        "remote = CASE WHEN $5::text = '' THEN remote ELSE $5 END, "
        "protocol = CASE WHEN $6::text = '' THEN protocol ELSE $6 END WHERE id = $1",
    .list_calls = "SELECT " ATRIUM_CALL_COLUMNS " FROM call_records" ATRIUM_CALL_FILTER
                  " ORDER BY started_at DESC, id DESC LIMIT $4 OFFSET $5",
    .count_calls = "SELECT count(*) FROM call_records" ATRIUM_CALL_FILTER,

    .upsert_open_ticket =
        "INSERT INTO tickets (system_id, kind, severity, message, first_seen, last_seen) "
        "VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT ((COALESCE(system_id, '')), kind) WHERE "
        "cleared_at IS NULL "
        "DO UPDATE SET severity = excluded.severity, message = excluded.message, "
        "last_seen = excluded.last_seen RETURNING " ATRIUM_TICKET_COLUMNS,
    .clear_ticket =
        "UPDATE tickets SET cleared_at = $3 WHERE COALESCE(system_id, '') = COALESCE($1::text, '') "
        "AND kind = $2 "
        "AND cleared_at IS NULL",
    .acknowledge_ticket =
        "UPDATE tickets SET acknowledged_at = $2, acknowledged_by = $3 "
        "WHERE id = $1 RETURNING " ATRIUM_TICKET_COLUMNS,
    .select_ticket = "SELECT " ATRIUM_TICKET_COLUMNS " FROM tickets WHERE id = $1",
    .list_tickets = "SELECT " ATRIUM_TICKET_COLUMNS " FROM tickets" ATRIUM_TICKET_FILTER
                    " ORDER BY id DESC LIMIT $4 OFFSET $5",
    .count_tickets = "SELECT count(*) FROM tickets" ATRIUM_TICKET_FILTER,

    .select_setting = "SELECT value FROM settings WHERE key = $1",
    .upsert_setting =
        "INSERT INTO settings (key, value) VALUES ($1, $2) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",

    .insert_audit =
        "INSERT INTO audit_log (at, actor, action, entity_type, entity_id, old_value, "
        "new_value) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    .list_audit =
        "SELECT id, at, actor, action, entity_type, entity_id, old_value, new_value "
        "FROM audit_log" ATRIUM_AUDIT_FILTER " ORDER BY id DESC LIMIT $4 OFFSET $5",
    .count_audit = "SELECT count(*) FROM audit_log" ATRIUM_AUDIT_FILTER,
};

}  // namespace

const Catalogue& postgresCatalogue() { return kCatalogue; }

}  // namespace atrium::store
