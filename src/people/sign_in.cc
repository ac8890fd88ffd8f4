#include "people/sign_in.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "common/log.h"
#include "people/password.h"

namespace atrium::people {
namespace {

constexpr std::size_t kMaxNameChars = 256;

bool sameText(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// A directory group as Atrium groups name it: its DN, or the value of its first RDN ("cn=Video
// Admins,ou=Groups,..." matches "Video Admins" too).
bool groupMatches(const std::string& mapped, const std::vector<std::string>& member_of) {
  if (mapped.empty()) return false;
  for (const auto& g : member_of) {
    if (sameText(g, mapped)) return true;
    auto eq = g.find('=');
    auto comma = g.find(',');
    if (eq != std::string::npos && eq < comma) {
      std::string_view first = std::string_view(g).substr(eq + 1, comma == std::string::npos ? std::string::npos : comma - eq - 1);
      if (sameText(first, mapped)) return true;
    }
  }
  return false;
}

}  // namespace

SignIn::SignIn(store::PeopleStore& store, Directory* directory, const Clock& clock, SignInLimits limits)
    : store_(store), directory_(directory), clock_(clock), limits_(limits) {}

Error SignIn::refuse(std::string_view name, const std::string& address, std::string_view why) {
  Status recorded = store_.recordFailedSignIn(name, address);
  if (!recorded.ok()) log::warn("session.failure_not_recorded", {{"detail", recorded.error().message}});
  log::warn("session.sign_in_refused", {{"user", std::string(name)}, {"address", address}, {"reason", std::string(why)}});
  return Error{ErrorCode::kUnauthorized, std::string(kWrongCredentials), {}};
}

Result<store::User> SignIn::signIn(std::string_view name, std::string_view password, const std::string& address) {
  if (name.empty() || name.size() > kMaxNameChars || password.empty() || password.size() > kMaxPasswordChars) {
    return refuse(name.substr(0, kMaxNameChars), address, "empty or oversized name or password");
  }
  auto failures = store_.failedSignIns(name, address, clock_.now() - limits_.window);
  if (!failures.ok()) return failures.error();
  if (failures->first >= limits_.per_account || failures->second >= limits_.per_address) {
    log::warn("session.sign_in_held", {{"user", std::string(name)}, {"address", address},
                                       {"account_failures", failures->first}, {"address_failures", failures->second}});
    return Error{ErrorCode::kTooManyRequests,
                 fmt::format("too many failed sign-ins; try again in {} minutes", limits_.window.count()), {}};
  }
  auto existing = store_.userByName(name);
  if (!existing.ok() && existing.error().code != ErrorCode::kNotFound) return existing.error();
  Result<store::User> user = Error::internal("unset");
  if (existing.ok() && existing->source == store::UserSource::kLocal) {
    // A local account: its own password, whether or not there is a directory (break-glass).
    if (!verifyPassword(existing->password_hash, password)) return refuse(name, address, "wrong password");
    user = *existing;
  } else if (directory_ != nullptr) {
    user = viaDirectory(name, password, existing);
    if (!user.ok()) {
      if (user.error().code == ErrorCode::kUnauthorized) return refuse(name, address, user.error().message);
      return user.error();
    }
  } else {
    return refuse(name, address, existing.ok() ? "a directory account, and no directory is configured" : "no such user");
  }
  if (!user->enabled) return refuse(name, address, "the account is disabled");
  Status recorded = store_.recordSignIn(user->id);
  if (!recorded.ok()) log::warn("session.sign_in_not_recorded", {{"detail", recorded.error().message}});
  return user;
}

Result<store::User> SignIn::viaDirectory(std::string_view name, std::string_view password,
                                         const Result<store::User>& existing) {
  auto found = directory_->authenticate(name, password);
  if (!found.ok()) {
    if (found.error().code != ErrorCode::kUnauthorized) {
      log::error("directory.unreachable", {{"directory", directory_->describe()}, {"detail", found.error().message}});
      if (directory_down_) directory_down_(found.error().message);
      return Error::unavailable("the directory cannot be reached; local administrators can still sign in");
    }
    return found.error();
  }
  if (directory_up_) directory_up_();
  store::User u;
  if (existing.ok()) {
    u = *existing;
    u.display_name = found->display_name;
    u.email = found->email;
    if (u.display_name != existing->display_name || u.email != existing->email) {
      auto updated = store_.updateUser(u, "directory");
      if (!updated.ok()) return updated.error();
      u = *updated;
    }
  } else {
    u.name = found->name.empty() ? std::string(name) : found->name;
    u.display_name = found->display_name;
    u.email = found->email;
    u.source = store::UserSource::kDirectory;
    auto created = store_.createUser(u, "directory");
    if (!created.ok()) return created.error();
    u = *created;
  }
  // Membership follows the directory at every sign-in.
  auto groups = store_.groups();
  if (!groups.ok()) return groups.error();
  std::vector<std::string> mapped;
  for (const auto& g : *groups) {
    if (groupMatches(g.directory_group, found->groups)) mapped.push_back(g.id);
  }
  ATRIUM_TRY(store_.setDirectoryGroups(u.id, mapped));
  return u;
}

}  // namespace atrium::people
