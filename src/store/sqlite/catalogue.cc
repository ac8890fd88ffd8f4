// SQLite statements. Timestamps are INTEGER milliseconds since the epoch (UTC). Unique
// constraints and indexes are named "<table>_<field>_key" (see driver_util.h).
#include "store/catalogue.h"

namespace atrium::store {
namespace {

constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE schema_version (
  version INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
);

CREATE TABLE installation (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  epoch INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE folders (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  parent_id TEXT REFERENCES folders (id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- Names are unique among siblings, top level (NULL parent) included.
CREATE UNIQUE INDEX folders_name_key ON folders (COALESCE(parent_id, ''), name);
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
  last_seen INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX systems_family_idx ON systems (family);
CREATE INDEX systems_folder_id_idx ON systems (folder_id);
CREATE INDEX systems_status_idx ON systems (status);
CREATE INDEX systems_connectivity_idx ON systems (connectivity);
-- The default listing order (by name, case-insensitive) walks this index instead of sorting.
CREATE INDEX systems_name_order_idx ON systems (lower(name), name, id);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
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

#define ATRIUM_SYSTEM_COLUMNS                                                                   \
  "id, name, family, model, addresses, folder_id, connectivity, serial_number, "              \
  "software_version, username, password, status, last_seen, created_at, updated_at"

#define ATRIUM_SYSTEM_FILTER                                                                    \
  " WHERE ($1 IS NULL OR family = $1)"                                                        \
  " AND ($2 IS NULL OR folder_id = $2)"                                                       \
  " AND ($3 = 0 OR folder_id IS NULL)"                                                        \
  " AND ($4 IS NULL OR status = $4)"                                                          \
  " AND ($5 IS NULL OR connectivity = $5)"                                                    \
  " AND ($6 IS NULL OR name LIKE $6 ESCAPE '\\')"                                             \
  " AND ($7 IS NULL OR EXISTS (SELECT 1 FROM json_each(systems.addresses) AS a"               \
  " WHERE a.value = $7))"

#define ATRIUM_AUDIT_FILTER                                                                     \
  " WHERE ($1 IS NULL OR entity_type = $1) AND ($2 IS NULL OR entity_id = $2)"                \
  " AND ($3 IS NULL OR actor = $3)"

const Catalogue kCatalogue{
    .migrations = {kMigration1},

    .schema_table_exists =
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
    .select_schema_version = "SELECT COALESCE(MAX(version), 0) FROM schema_version",
    .insert_schema_version = "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)",
    .migration_lock = "",

    .lock_installation = "",
    .count_installations = "SELECT count(*) FROM installation",
    .insert_installation =
        "INSERT INTO installation (id, name, created_at, epoch) VALUES ($1, $2, $3, $4)",
    .select_installation = "SELECT id, name, created_at, epoch FROM installation LIMIT 1",

    .lock_folder_tree = "",
    .insert_folder = "INSERT INTO folders (id, name, parent_id, created_at, updated_at) "
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

    .insert_system = "INSERT INTO systems (" ATRIUM_SYSTEM_COLUMNS
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    .select_system = "SELECT " ATRIUM_SYSTEM_COLUMNS " FROM systems WHERE id = $1",
    .select_system_for_update = "SELECT " ATRIUM_SYSTEM_COLUMNS " FROM systems WHERE id = $1",
    .update_system = "UPDATE systems SET name = $2, family = $3, model = $4, addresses = $5, "
                     "folder_id = $6, connectivity = $7, serial_number = $8, "
                     "software_version = $9, username = $10, password = $11, status = $12, "
                     "last_seen = $13, created_at = $14, updated_at = $15 WHERE id = $1",
    .delete_system = "DELETE FROM systems WHERE id = $1",
    .list_systems = "SELECT " ATRIUM_SYSTEM_COLUMNS " FROM systems" ATRIUM_SYSTEM_FILTER
                    " ORDER BY {order_by} LIMIT $8 OFFSET $9",
    .count_systems = "SELECT count(*) FROM systems" ATRIUM_SYSTEM_FILTER,
    .bytewise_collation = "",

    .insert_audit = "INSERT INTO audit_log (at, actor, action, entity_type, entity_id, old_value, "
                    "new_value) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    .list_audit = "SELECT id, at, actor, action, entity_type, entity_id, old_value, new_value "
                  "FROM audit_log" ATRIUM_AUDIT_FILTER " ORDER BY id DESC LIMIT $4 OFFSET $5",
    .count_audit = "SELECT count(*) FROM audit_log" ATRIUM_AUDIT_FILTER,
};

}  // namespace

const Catalogue& sqliteCatalogue() { return kCatalogue; }

}  // namespace atrium::store
