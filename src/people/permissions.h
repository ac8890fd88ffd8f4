// What a group may do, as TMS groups had it: a set of permissions per group, a user's rights the
// sum of its groups', and optionally the folders of the systems navigator a group's system
// rights are limited to. Pure types and decisions; the store and the API feed them.
#pragma once

#include <bitset>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace atrium::people {

enum class Permission {
  kSystemsRead,        // see systems, their events, calls and tickets
  kSystemsEdit,        // add, change, move and remove systems; acknowledge tickets
  kBooking,            // book conferences
  kConferenceControl,  // control live conferences
  kPhoneBooks,         // manage phone books
  kTemplates,          // manage configuration templates
  kAdministration,     // users and groups, settings, cluster, keys, tasks, audit
};
inline constexpr std::size_t kPermissionCount = 7;
using PermissionSet = std::bitset<kPermissionCount>;

// "systems.read", "systems.edit", "booking", "conference.control", "phonebooks", "templates",
// "administration": the names the API and the database use.
std::string_view permissionName(Permission p);
std::optional<Permission> parsePermission(std::string_view name);
std::vector<std::string> permissionNames(const PermissionSet& set);
inline bool has(const PermissionSet& set, Permission p) { return set.test(static_cast<std::size_t>(p)); }
inline void add(PermissionSet& set, Permission p) { set.set(static_cast<std::size_t>(p)); }
PermissionSet allPermissions();

// One group's grant: its permissions, and the folders its system permissions hold in (with
// their subfolders); no folders: everywhere, unfiled systems included.
struct GroupGrant {
  PermissionSet permissions;
  std::vector<std::string> folders;
};

// What a caller may do with systems: nullopt folders = every system; a set = only systems in
// those folders (already expanded to their subfolders); unfiled systems are then hidden.
struct Access {
  PermissionSet permissions;
  std::optional<std::set<std::string>> read_folders;
  std::optional<std::set<std::string>> edit_folders;

  bool may(Permission p) const { return has(permissions, p); }
  bool mayRead(const std::optional<std::string>& folder_id) const;
  bool mayEdit(const std::optional<std::string>& folder_id) const;
};

// The sum of the groups' grants. `parent_of` maps every folder id to its parent (nullopt at the
// top), so that a grant on a folder covers its subfolders. Editing implies reading.
Access accessOf(const std::vector<GroupGrant>& groups,
                const std::map<std::string, std::optional<std::string>>& parent_of);

}  // namespace atrium::people
