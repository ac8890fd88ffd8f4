// The directory as an LDAP / Active Directory server, through Debian's libldap. A sign-in finds
// the user's entry under the base DN (as the search account, or anonymously), then binds as that
// entry with the password (over ldaps:// or after StartTLS when configured), reads its display
// name, e-mail and groups, and refuses a disabled account. Every call is blocking and opens its
// own connection: run it where blocking work runs (the API's database pool), never on a network
// thread. The connect and every operation are bounded by the timeout, so a dead directory answers
// unavailable in about that time. libldap writes to its sockets with write(2): the process must
// ignore SIGPIPE (the node does), or a directory that closes a connection would end it.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "config/config.h"
#include "people/directory.h"

namespace atrium::people {

struct LdapSettings {
  std::string url;      // ldap://host[:port] or ldaps://host[:port]
  std::string base_dn;  // where users (and groups) are searched
  std::string user_filter = "(|(uid={name})(sAMAccountName={name}))";
  std::string bind_dn;        // the search account; "" searches anonymously
  std::string bind_password;  // its password
  bool start_tls = false;
  std::filesystem::path ca_file;  // "" the system's CA certificates
  std::chrono::milliseconds timeout{5000};
};

class LdapDirectory final : public Directory {
 public:
  explicit LdapDirectory(LdapSettings settings);
  Result<DirectoryUser> authenticate(std::string_view name, std::string_view password) override;
  std::string describe() const override;

 private:
  LdapSettings settings_;
};

// `value` escaped for an LDAP filter (RFC 4515): *, (, ), \ and NUL become \2a, \28, \29, \5c, \00.
std::string escapeFilterValue(std::string_view value);
// `filter` with every {name} replaced by the escaped `name`.
std::string userFilter(std::string_view filter, std::string_view name);
// Whether an Active Directory userAccountControl value has ACCOUNTDISABLE (bit 2) set.
bool accountDisabled(std::string_view user_account_control);

// The directory the configuration names: nullptr when identity.source is "database", an
// LdapDirectory for an LDAP URL. invalid_argument when the search account's password file
// cannot be read (start-up stops with the message).
Result<std::unique_ptr<Directory>> makeDirectory(const config::Config::Identity& identity);

}  // namespace atrium::people
