// Domain types of the inventory, as the store reads and writes them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace atrium::store {

using TimePoint = std::chrono::system_clock::time_point;

struct Installation {
  std::string id;         // UUID
  std::string name;
  TimePoint created_at;
  std::int64_t epoch = 1;  // raised when the installation is restored or re-seeded
};

struct Folder {
  std::string id;                        // UUID
  std::string name;
  std::optional<std::string> parent_id;  // nullopt: top level
  TimePoint created_at;
  TimePoint updated_at;
};

// Connectivity as TMS has it: which address a system is told to use to reach Atrium.
// Stored as text: "reachable-lan", "reachable-public", "behind-firewall", "inaccessible".
struct System {
  std::string id;  // UUID
  std::string name;
  std::string family;  // driver family: cisco-xapi, cisco-mcu, polycom, snmp
  std::string model;
  std::vector<std::string> addresses;  // IPv4, IPv6 or host names; the first is the primary
  std::optional<std::string> folder_id;
  std::string connectivity = "reachable-lan";
  std::optional<std::string> serial_number;  // unique when set
  std::string software_version;
  // Management credentials: written by the API, never returned by it.
  std::string username;
  std::string password;
  // Status fields, maintained by polling (later issues) and shown in the inventory.
  std::string status = "unknown";  // unknown, reachable, unreachable, in-call, ...
  std::optional<TimePoint> last_seen;
  TimePoint created_at;
  TimePoint updated_at;
  // Persistent settings, re-applied to the system on boot and registration events (audited).
  std::string h323_id;
  std::string e164_alias;
  std::string sip_uri;
  // What the last poll saw: read-only, written by DeviceStore::recordPoll without audit.
  std::optional<TimePoint> last_polled_at;
  std::string last_poll_error;
  int active_calls = 0;
  std::string h323_status;  // registration, as the device words it
  std::string sip_status;
  std::string mac_address;
  std::string reported_address;
  std::string reported_name;
  std::optional<std::string> last_polled_by;  // the node that wrote the last poll (cluster)
};

enum class SortOrder { kAscending, kDescending };

struct SystemFilter {
  std::optional<std::string> family;
  std::optional<std::string> folder_id;   // systems directly in this folder
  bool unfiled = false;                   // systems in no folder
  std::optional<std::string> status;
  std::optional<std::string> connectivity;
  std::optional<std::string> name_contains;  // case-insensitive substring of name
  std::optional<std::string> address;        // exact match on any address
  // Sort key: one of name, family, model, status, created_at, updated_at, software_version.
  std::string sort = "name";
  SortOrder order = SortOrder::kAscending;
  std::int64_t limit = 50;
  std::int64_t offset = 0;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::int64_t total = 0;  // matching rows before limit/offset
};

// A partial update: only the fields that are set change.
struct SystemPatch {
  std::optional<std::string> name;
  std::optional<std::string> family;
  std::optional<std::string> model;
  std::optional<std::vector<std::string>> addresses;
  std::optional<std::optional<std::string>> folder_id;  // set to nullopt-inside to unfile
  std::optional<std::string> connectivity;
  std::optional<std::optional<std::string>> serial_number;
  std::optional<std::string> software_version;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<std::string> status;
  std::optional<TimePoint> last_seen;
  std::optional<std::string> h323_id;
  std::optional<std::string> e164_alias;
  std::optional<std::string> sip_uri;
};

struct FolderPatch {
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> parent_id;
};

// One change, as the audit log keeps it. old_value/new_value are JSON objects of the changed
// fields (credentials appear as "***").
struct AuditEntry {
  std::int64_t id = 0;
  TimePoint at;
  std::string actor;        // who: the authenticated user, or e.g. "cli" / "api@127.0.0.1"
  std::string action;       // create, update, delete, move
  std::string entity_type;  // system, folder, installation
  std::string entity_id;
  std::string old_value;    // JSON text, "null" when created
  std::string new_value;    // JSON text, "null" when deleted
};

struct AuditFilter {
  std::optional<std::string> entity_type;
  std::optional<std::string> entity_id;
  std::optional<std::string> actor;
  std::int64_t limit = 100;
  std::int64_t offset = 0;  // newest first
};

}  // namespace atrium::store
