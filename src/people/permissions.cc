#include "people/permissions.h"

#include <array>

namespace atrium::people {
namespace {

constexpr std::array<std::string_view, kPermissionCount> kNames = {
    "systems.read", "systems.edit", "booking", "conference.control", "phonebooks", "templates", "administration"};

// The folders in `roots` and every folder below one of them.
std::set<std::string> withSubfolders(const std::set<std::string>& roots,
                                     const std::map<std::string, std::optional<std::string>>& parent_of) {
  std::set<std::string> out;
  for (const auto& [folder, parent] : parent_of) {
    // Walk up from each folder; bounded by the number of folders so a cycle cannot loop.
    std::optional<std::string> at = folder;
    for (std::size_t steps = 0; at && steps <= parent_of.size(); ++steps) {
      if (roots.contains(*at)) {
        out.insert(folder);
        break;
      }
      auto it = parent_of.find(*at);
      at = it == parent_of.end() ? std::nullopt : it->second;
    }
  }
  return out;
}

bool inScope(const std::optional<std::set<std::string>>& scope, const std::optional<std::string>& folder_id) {
  if (!scope) return true;
  return folder_id && scope->contains(*folder_id);
}

}  // namespace

std::string_view permissionName(Permission p) { return kNames[static_cast<std::size_t>(p)]; }

std::optional<Permission> parsePermission(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Permission>(i);
  }
  return std::nullopt;
}

std::vector<std::string> permissionNames(const PermissionSet& set) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kPermissionCount; ++i) {
    if (set.test(i)) out.emplace_back(kNames[i]);
  }
  return out;
}

PermissionSet allPermissions() { return PermissionSet().set(); }

bool Access::mayRead(const std::optional<std::string>& folder_id) const {
  return (may(Permission::kSystemsRead) && inScope(read_folders, folder_id)) || mayEdit(folder_id);
}

bool Access::mayEdit(const std::optional<std::string>& folder_id) const {
  return may(Permission::kSystemsEdit) && inScope(edit_folders, folder_id);
}

Access accessOf(const std::vector<GroupGrant>& groups,
                const std::map<std::string, std::optional<std::string>>& parent_of) {
  Access a;
  bool read_everywhere = false;
  bool edit_everywhere = false;
  std::set<std::string> read_roots;
  std::set<std::string> edit_roots;
  for (const GroupGrant& g : groups) {
    a.permissions |= g.permissions;
    if (has(g.permissions, Permission::kSystemsEdit)) add(a.permissions, Permission::kSystemsRead);
    const bool reads = has(g.permissions, Permission::kSystemsRead) || has(g.permissions, Permission::kSystemsEdit);
    const bool edits = has(g.permissions, Permission::kSystemsEdit);
    if (g.folders.empty()) {
      read_everywhere = read_everywhere || reads;
      edit_everywhere = edit_everywhere || edits;
      continue;
    }
    if (reads) read_roots.insert(g.folders.begin(), g.folders.end());
    if (edits) edit_roots.insert(g.folders.begin(), g.folders.end());
  }
  // Scopes narrow the permissions the groups give; edit rights in a folder include seeing it.
  if (a.may(Permission::kSystemsEdit) && !edit_everywhere) a.edit_folders = withSubfolders(edit_roots, parent_of);
  if (a.may(Permission::kSystemsRead) && !read_everywhere) a.read_folders = withSubfolders(read_roots, parent_of);
  return a;
}

}  // namespace atrium::people
