// The statement catalogue: every SQL statement the Store runs, by name, one instance per dialect
// (store/sqlite/catalogue.cc, store/postgres/catalogue.cc). Placeholders are $1, $2 ... on both.
#pragma once

#include <string_view>
#include <vector>

#include "store/sql.h"

namespace atrium::store {

struct Catalogue {
  // Migration scripts; migrations[0] is migration 1 (the initial schema).
  std::vector<std::string_view> migrations;

  // --- schema -------------------------------------------------------------------------------
  std::string_view schema_table_exists;    // -> count (0 or 1)
  std::string_view select_schema_version;  // -> max version
  std::string_view insert_schema_version;  // $1 version, $2 applied_at
  std::string_view migration_lock;         // serialises migrating processes; empty if not needed

  // --- installation -------------------------------------------------------------------------
  std::string_view lock_installation;  // empty if BEGIN already serialises writers
  std::string_view count_installations;
  std::string_view insert_installation;  // $1 id, $2 name, $3 created_at, $4 epoch
  std::string_view select_installation;  // id, name, created_at, epoch

  // --- folders ------------------------------------------------------------------------------
  // Columns of every folder select: id, name, parent_id, created_at, updated_at.
  std::string_view lock_folder_tree;  // empty if BEGIN already serialises writers
  std::string_view insert_folder;     // $1 id, $2 name, $3 parent_id, $4 created_at, $5 updated_at
  std::string_view select_folder;     // $1 id
  std::string_view select_folders;
  std::string_view update_folder;         // $1 id, $2 name, $3 parent_id, $4 updated_at
  std::string_view delete_folder;         // $1 id
  std::string_view count_child_folders;   // $1 id
  std::string_view count_folder_systems;  // $1 id
  // $1 start folder, $2 candidate: count of rows where $2 is $1 or one of its ancestors.
  std::string_view folder_is_self_or_ancestor;

  // --- systems ------------------------------------------------------------------------------
  // Columns of every system select: id, name, family, model, addresses, folder_id, connectivity,
  // serial_number, software_version, username, password, status, last_seen, created_at,
  // updated_at. insert/update bind them in that order as $1..$15.
  std::string_view insert_system;
  std::string_view select_system;             // $1 id
  std::string_view select_system_for_update;  // $1 id, locks the row where the dialect can
  std::string_view update_system;
  std::string_view delete_system;  // $1 id
  // Filters: $1 family, $2 folder_id, $3 unfiled (bool), $4 status, $5 connectivity,
  // $6 LIKE pattern for the name (escape character '\'), $7 address. NULL means "any".
  // list_systems adds $8 limit, $9 offset and has an "{order_by}" token that the Store replaces
  // with whitelisted column names only.
  std::string_view list_systems;
  std::string_view count_systems;
  // Appended to a text sort expression so both dialects sort the same way (bytewise).
  std::string_view bytewise_collation;

  // --- audit --------------------------------------------------------------------------------
  // $1 at, $2 actor, $3 action, $4 entity_type, $5 entity_id, $6 old_value, $7 new_value
  std::string_view insert_audit;
  // Filters: $1 entity_type, $2 entity_id, $3 actor (NULL: any); list adds $4 limit, $5 offset.
  // Columns: id, at, actor, action, entity_type, entity_id, old_value, new_value; newest first.
  std::string_view list_audit;
  std::string_view count_audit;
};

const Catalogue& sqliteCatalogue();
const Catalogue& postgresCatalogue();
const Catalogue& catalogueFor(Dialect dialect);

}  // namespace atrium::store
