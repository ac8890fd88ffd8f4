// People as the installation keeps them: users (local with an argon2id hash, or from the
// directory), groups with their permissions, folder scope and the directory group they map to,
// memberships, browser sessions (a row per sign-in, so that a sign-out or a revocation reaches
// every node), personal API tokens (only a hash of the secret is kept) and failed sign-ins (the
// rate limit). The schema is migration 6; its statements are the same in both dialects
// (store/people_store.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/database.h"
#include "store/types.h"

namespace atrium::store {

// The schema of people (migration 6), the same text on SQLite and PostgreSQL.
extern const std::string_view kPeopleMigration;

enum class UserSource { kLocal, kDirectory };
std::string_view userSourceName(UserSource s);

struct User {
  std::string id;
  std::string name;  // the sign-in name; unique ignoring case
  std::string display_name;
  std::string email;
  UserSource source = UserSource::kLocal;
  std::string password_hash;  // argon2id; "" for directory users
  bool enabled = true;
  TimePoint created_at{};
  TimePoint updated_at{};
  std::optional<TimePoint> last_sign_in_at;
};

struct Group {
  std::string id;
  std::string name;
  std::string description;
  std::vector<std::string> permissions;  // names, see people::permissionName
  std::vector<std::string> folders;      // folder ids the system permissions hold in; empty: all
  std::string directory_group;           // members of this directory group belong ("" none)
  TimePoint created_at{};
  TimePoint updated_at{};
};

struct Session {
  std::string id;
  std::string user_id;
  TimePoint created_at{};
  TimePoint expires_at{};
  std::optional<TimePoint> revoked_at;
  std::string address;
};

struct ApiToken {
  std::string id;
  std::string user_id;
  std::string name;
  std::string secret_hash;  // SHA-256 hex of the secret part
  TimePoint created_at{};
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> revoked_at;
};

class PeopleStore {
 public:
  PeopleStore(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // ---- users ----
  // conflict (field "name") when the name is taken.
  Result<User> createUser(User user, const std::string& actor);
  Result<User> user(const std::string& id);
  Result<User> userByName(std::string_view name);  // not_found when there is none
  Result<std::vector<User>> users();
  // Changes display name, e-mail, enabled and password hash as given; audited (no hash shown).
  Result<User> updateUser(const User& user, const std::string& actor);
  Status recordSignIn(const std::string& user_id);
  Result<std::int64_t> countUsers();

  // ---- groups ----
  Result<Group> createGroup(Group group, const std::string& actor);
  Result<Group> group(const std::string& id);
  Result<std::vector<Group>> groups();
  Result<Group> updateGroup(const Group& group, const std::string& actor);
  Status deleteGroup(const std::string& id, const std::string& actor);
  // Local memberships (set by an administrator) and directory ones (replaced at each sign-in).
  Status addMember(const std::string& group_id, const std::string& user_id, const std::string& actor);
  Status removeMember(const std::string& group_id, const std::string& user_id, const std::string& actor);
  Status setDirectoryGroups(const std::string& user_id, const std::vector<std::string>& group_ids);
  Result<std::vector<Group>> groupsOf(const std::string& user_id);
  Result<std::vector<std::string>> memberIds(const std::string& group_id);

  // ---- sessions ----
  Status createSession(const Session& session);
  // Marks the session revoked (sign-out); not_found when it does not exist or belongs to another
  // user (when `user_id` is given).
  Status revokeSession(const std::string& id, const std::optional<std::string>& user_id);
  Status revokeSessionsOf(const std::string& user_id);
  // Ids of revoked sessions that have not expired yet: what every node refuses.
  Result<std::vector<std::string>> revokedSessions();

  // ---- API tokens ----
  Status createToken(const ApiToken& token, const std::string& actor);
  Result<std::vector<ApiToken>> tokensOf(const std::string& user_id);
  // Tokens neither revoked nor expired (what every node accepts).
  Result<std::vector<ApiToken>> activeTokens();
  Status revokeToken(const std::string& id, const std::optional<std::string>& user_id, const std::string& actor);

  // ---- failed sign-ins ----
  Status recordFailedSignIn(std::string_view user_name, std::string_view address);
  // Failures since `since` for this name (case ignored) and for this address.
  Result<std::pair<std::int64_t, std::int64_t>> failedSignIns(std::string_view user_name, std::string_view address,
                                                              TimePoint since);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace atrium::store
