// The first administrator of an installation (`atrium init --admin-user`, `atrium demo`): a local
// user in the built-in group "Site administrators", which holds every permission. Local, so it
// signs in whatever the directory's state (the break-glass account).
#pragma once

#include <string>

#include "common/result.h"
#include "store/people_store.h"

namespace atrium::people {

inline constexpr const char* kAdministratorsGroup = "Site administrators";

// Creates the group if missing and the user if missing (with `password`, which must follow the
// password rules), and makes the user a member. An existing user keeps its password. Returns
// whether the user was created.
Result<bool> ensureAdministrator(store::PeopleStore& people, const std::string& name, const std::string& password,
                                 const std::string& actor);

}  // namespace atrium::people
