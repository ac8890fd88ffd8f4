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
  // updated_at, h323_id, e164_alias, sip_uri (the persistent settings, migration 2), then the
  // read-only ones: feedback_secret, last_polled_at, last_poll_error, active_calls, h323_status,
  // sip_status, mac_address, reported_address, reported_name, last_polled_by (migration 3).
  // insert_system binds the first 18 as $1..$18 and feedback_secret as $19; update_system binds
  // the first 18 (the secret and the poll fields never change through it).
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

  // --- systems as polling and ingest see them (DeviceStore) ---------------------------------
  std::string_view select_systems_after;      // $1 after id ('' from the start), $2 limit
  std::string_view select_system_by_secret;   // $1 feedback secret
  std::string_view select_feedback_secrets;   // $1 created at or after (ms) -> id, feedback_secret
  std::string_view select_systems_by_address; // $1 address (exact, any of the addresses)
  // $1 id, $2 status, $3 last_seen (NULL keeps it), $4 last_polled_at, $5 last_poll_error,
  // $6 active_calls, $7 h323_status, $8 sip_status; identity, '' keeps the stored value:
  // $9 model, $10 serial_number, $11 software_version, $12 mac_address, $13 reported_address,
  // $14 reported_name, $15 the polling node's id ('' keeps last_polled_by); last_poll_token
  // becomes NULL.
  std::string_view update_system_poll;
  // The same under a lease (DeviceStore::recordPoll with a Fence): $15 the holder (node id,
  // stored as last_polled_by), $16 the lease key, $17 its token (stored as last_poll_token).
  // Changes no row unless the lease is held by $15 with $17 and unexpired on the database clock.
  std::string_view update_system_poll_fenced;
  std::string_view update_system_connectivity;  // $1 id, $2 connectivity

  // --- events -------------------------------------------------------------------------------
  // $1 system_id (NULL, or set to NULL when no such system), $2 idempotency_key, $3 source,
  // $4 kind, $5 received_at, $6 occurred_at, $7 node, $8 source_address, $9 payload,
  // $10 retry_key (NULL for events without a retry window). Returns the new id and the system id
  // stored (NULL when the system no longer exists); no row when the key was stored before.
  std::string_view insert_event;
  // Serialises the writers of one retry key until their transactions end ($1 the key; empty
  // where BEGIN already serialises writers), so two nodes storing the same retry at once store
  // it once; and finds an event of that key received within [$2, $3] (ms).
  std::string_view lock_retry_key;
  std::string_view select_retry_within;
  // Filters: $1 system_id, $2 since_id, $3 since (received_at), $4 source, $5 kind; lists add
  // $6 limit, $7 offset. Columns: id, system_id, idempotency_key, source, kind, received_at,
  // occurred_at, node, source_address, payload.
  std::string_view list_events_oldest_first;
  std::string_view list_events_newest_first;
  std::string_view count_events;
  // The event tail other nodes' events are followed by (no count, unlike the lists above):
  // $1 after id, $2 limit, oldest first; and the newest id (NULL when there is none).
  std::string_view select_events_after;
  std::string_view select_newest_event_id;

  // --- call records -------------------------------------------------------------------------
  // Columns: id, system_id, call_id, direction, remote, protocol, started_at, ended_at,
  // duration_seconds, cause, source.
  // $1 system_id, $2 call_id, $3 direction, $4 remote, $5 protocol, $6 started_at, $7 source:
  // opens a record, or fills in what the open one with the same system and call id lacks.
  std::string_view upsert_open_call;
  std::string_view select_open_call;  // $1 system_id, $2 call_id -> id, started_at, remote...
  // $1 id, $2 ended_at, $3 duration_seconds, $4 cause, $5 remote, $6 protocol, $7 direction
  std::string_view end_call;
  // Serialises the writers of one call's record until their transactions end ($1 "system:call";
  // empty where BEGIN already serialises writers): a connect and its disconnect stored at once
  // by two nodes must see each other, or both would make a record.
  std::string_view lock_call;
  // $1..$10: the columns without id, for a call that ended with no open record, and
  // $11 start_missed (true: started_at was worked out from the end, no connect seen yet).
  std::string_view insert_ended_call;
  // The ended record a late connect belongs to: $1 system_id, $2 call_id, ended within [$3, $4]
  // with its start missed, the earliest first -> id, ended_at, duration_seconds.
  std::string_view select_missed_start_call;
  // $1 id, $2 started_at, $3 duration_seconds, $4 direction, $5 remote, $6 protocol.
  std::string_view fill_missed_start;
  // Filters: $1 system_id, $2 since (started_at), $3 open only (bool); list adds $4 limit,
  // $5 offset; newest first.
  std::string_view list_calls;
  std::string_view count_calls;

  // --- tickets ------------------------------------------------------------------------------
  // Columns: id, system_id, kind, severity, message, first_seen, last_seen, cleared_at,
  // acknowledged_at, acknowledged_by.
  // $1 system_id, $2 kind, $3 severity, $4 message, $5 now: opens or refreshes the open ticket.
  std::string_view upsert_open_ticket;
  std::string_view clear_ticket;        // $1 system_id, $2 kind, $3 cleared_at
  std::string_view acknowledge_ticket;  // $1 id, $2 at, $3 actor; returns the columns
  std::string_view select_ticket;       // $1 id
  // Filters: $1 system_id, $2 kind, $3 open only (bool); list adds $4 limit, $5 offset.
  std::string_view list_tickets;
  std::string_view count_tickets;

  // --- installation settings ----------------------------------------------------------------
  std::string_view select_setting;  // $1 key -> value
  std::string_view upsert_setting;  // $1 key, $2 value

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
