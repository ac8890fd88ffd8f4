// An identity source outside the database: an LDAP / Active Directory server (identity.source
// is an ldap:// or ldaps:// URL). Sign-in binds as the user; what comes back names the groups the
// user belongs to in the directory, which map to Atrium groups (Group::directory_group).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace atrium::people {

struct DirectoryUser {
  std::string name;          // the sign-in name as the directory spells it
  std::string dn;            // its distinguished name
  std::string display_name;
  std::string email;
  std::vector<std::string> groups;  // DNs and common names of the groups it is a member of
};

class Directory {
 public:
  virtual ~Directory() = default;
  // The user, when `password` binds as `name`. Errors: unauthorized (wrong name or password, or
  // a disabled or deleted account: the caller says no more than that), unavailable (the
  // directory cannot be reached; the message says why, for the administrator's ticket).
  virtual Result<DirectoryUser> authenticate(std::string_view name, std::string_view password) = 0;
  // What the directory is, for logs and tickets ("ldaps://dc1.example.com, base dc=example,dc=com").
  virtual std::string describe() const = 0;
};

}  // namespace atrium::people
