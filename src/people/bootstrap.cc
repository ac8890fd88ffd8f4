#include "people/bootstrap.h"

#include "people/password.h"
#include "people/permissions.h"

namespace atrium::people {

Result<bool> ensureAdministrator(store::PeopleStore& people, const std::string& name, const std::string& password,
                                 const std::string& actor) {
  auto groups = people.groups();
  if (!groups) return groups.error();
  std::string group_id;
  for (const auto& g : *groups) {
    if (g.name == kAdministratorsGroup) group_id = g.id;
  }
  if (group_id.empty()) {
    store::Group g;
    g.name = kAdministratorsGroup;
    g.description = "Everything, on every system: users and groups, settings, the cluster, keys and tasks";
    g.permissions = permissionNames(allPermissions());
    auto created = people.createGroup(g, actor);
    if (!created) return created.error();
    group_id = created->id;
  }
  bool created_user = false;
  auto user = people.userByName(name);
  if (!user) {
    if (user.error().code != ErrorCode::kNotFound) return user.error();
    ATRIUM_TRY(checkPasswordRules(password));
    auto hash = hashPassword(password);
    if (!hash) return hash.error();
    store::User u;
    u.name = name;
    u.display_name = "Administrator";
    u.password_hash = *hash;
    user = people.createUser(u, actor);
    if (!user) return user.error();
    created_user = true;
  }
  ATRIUM_TRY(people.addMember(group_id, user->id, actor));
  return created_user;
}

}  // namespace atrium::people
