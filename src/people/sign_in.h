// Checking who someone is: a name and a password against the local account (argon2id) or the
// directory (an LDAP bind), with failed attempts rate-limited per account and per address
// across the installation (they are rows in the database) and every outcome audited. A local
// account signs in whatever the directory's state: that is the administrators' break-glass way
// in while the directory is down.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "people/directory.h"
#include "store/people_store.h"

namespace atrium::people {

struct SignInLimits {
  std::int64_t per_account = 10;   // failures within `window` before the account is held
  std::int64_t per_address = 50;   // failures within `window` before the address is held
  std::chrono::minutes window{15};
};

// The one answer to a refused sign-in: it tells nobody whether the name exists.
inline constexpr std::string_view kWrongCredentials = "wrong user name or password";

class SignIn {
 public:
  // `directory` may be null (the database's own users only).
  SignIn(store::PeopleStore& store, Directory* directory, const Clock& clock, SignInLimits limits = {});

  // The signed-in user. Errors: unauthorized (kWrongCredentials), too_many_requests (held by the
  // rate limit; says for how long), unavailable (the directory or the database cannot be reached
  // and the account is not a local one).
  Result<store::User> signIn(std::string_view name, std::string_view password, const std::string& address);

  // Called when the directory could not be reached (for a ticket); set by the node.
  void onDirectoryDown(std::function<void(const std::string& why)> callback) { directory_down_ = std::move(callback); }
  void onDirectoryUp(std::function<void()> callback) { directory_up_ = std::move(callback); }

 private:
  Result<store::User> viaDirectory(std::string_view name, std::string_view password,
                                   const Result<store::User>& existing);
  Error refuse(std::string_view name, const std::string& address, std::string_view why);

  store::PeopleStore& store_;
  Directory* directory_;
  const Clock& clock_;
  SignInLimits limits_;
  std::function<void(const std::string&)> directory_down_;
  std::function<void()> directory_up_;
};

}  // namespace atrium::people
