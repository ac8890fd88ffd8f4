#include "store/people_store.h"

#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "store/catalogue.h"
#include "store/paging.h"
#include "store/system_rows.h"

namespace atrium::store {

// Written so that the very same text runs on SQLite (3.35 and later) and PostgreSQL.
const std::string_view kPeopleMigration = R"sql(
-- People: users, groups and their permissions, memberships, sessions, API tokens, failed sign-ins.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL,
  password_hash TEXT NOT NULL DEFAULT '',
  enabled BOOLEAN NOT NULL DEFAULT true,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  last_sign_in_at BIGINT
);
CREATE UNIQUE INDEX users_name_key ON users (lower(name));

CREATE TABLE user_groups (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  permissions TEXT NOT NULL DEFAULT '[]',
  folders TEXT NOT NULL DEFAULT '[]',
  directory_group TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX user_groups_name_key ON user_groups (lower(name));

-- source 'local': set by an administrator; 'directory': from the directory at the last sign-in.
CREATE TABLE group_members (
  group_id TEXT NOT NULL REFERENCES user_groups (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  PRIMARY KEY (group_id, user_id, source)
);
CREATE INDEX group_members_user_idx ON group_members (user_id);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT,
  address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_revoked_idx ON sessions (expires_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE sign_in_failures (
  at BIGINT NOT NULL,
  user_name TEXT NOT NULL,
  address TEXT NOT NULL
);
CREATE INDEX sign_in_failures_user_idx ON sign_in_failures (user_name, at);
CREATE INDEX sign_in_failures_address_idx ON sign_in_failures (address, at);
)sql";

namespace {

using nlohmann::json;

#define ATRIUM_USER_COLUMNS \
  "id, name, display_name, email, source, password_hash, enabled, created_at, updated_at, last_sign_in_at"
#define ATRIUM_GROUP_COLUMNS \
  "id, name, description, permissions, folders, directory_group, created_at, updated_at"
#define ATRIUM_TOKEN_COLUMNS "id, user_id, name, secret_hash, created_at, expires_at, revoked_at"

// The statements, the same in both dialects.
namespace sql {
constexpr std::string_view kInsertUser =
    "INSERT INTO users (" ATRIUM_USER_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)";
constexpr std::string_view kSelectUser = "SELECT " ATRIUM_USER_COLUMNS " FROM users WHERE id = $1";
constexpr std::string_view kSelectUserByName = "SELECT " ATRIUM_USER_COLUMNS " FROM users WHERE lower(name) = lower($1)";
constexpr std::string_view kSelectUsers = "SELECT " ATRIUM_USER_COLUMNS " FROM users ORDER BY lower(name)";
constexpr std::string_view kCountUsers = "SELECT count(*) FROM users";
constexpr std::string_view kUpdateUser =
    "UPDATE users SET display_name = $2, email = $3, enabled = $4, password_hash = $5, updated_at = $6 "
    "WHERE id = $1";
constexpr std::string_view kRecordSignIn = "UPDATE users SET last_sign_in_at = $2 WHERE id = $1";

constexpr std::string_view kInsertGroup =
    "INSERT INTO user_groups (" ATRIUM_GROUP_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
constexpr std::string_view kSelectGroup = "SELECT " ATRIUM_GROUP_COLUMNS " FROM user_groups WHERE id = $1";
constexpr std::string_view kSelectGroups = "SELECT " ATRIUM_GROUP_COLUMNS " FROM user_groups ORDER BY lower(name)";
constexpr std::string_view kUpdateGroup =
    "UPDATE user_groups SET name = $2, description = $3, permissions = $4, folders = $5, directory_group = $6, "
    "updated_at = $7 WHERE id = $1";
constexpr std::string_view kDeleteGroup = "DELETE FROM user_groups WHERE id = $1";
constexpr std::string_view kAddMember =
    "INSERT INTO group_members (group_id, user_id, source) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
constexpr std::string_view kRemoveMember =
    "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2 AND source = 'local'";
constexpr std::string_view kClearDirectoryMembers =
    "DELETE FROM group_members WHERE user_id = $1 AND source = 'directory'";
constexpr std::string_view kGroupsOf =
    "SELECT DISTINCT g.id, g.name, g.description, g.permissions, g.folders, g.directory_group, g.created_at, "
    "g.updated_at FROM user_groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = $1 "
    "ORDER BY g.id";
constexpr std::string_view kMemberIds =
    "SELECT DISTINCT user_id FROM group_members WHERE group_id = $1 ORDER BY user_id";

constexpr std::string_view kInsertSession =
    "INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at, address) "
    "VALUES ($1, $2, $3, $4, NULL, $5)";
constexpr std::string_view kRevokeSession =
    "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
constexpr std::string_view kRevokeSessionOfUser =
    "UPDATE sessions SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL";
constexpr std::string_view kRevokeSessionsOf =
    "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2";
constexpr std::string_view kRevokedSessions =
    "SELECT id FROM sessions WHERE revoked_at IS NOT NULL AND expires_at > $1";

constexpr std::string_view kInsertToken =
    "INSERT INTO api_tokens (" ATRIUM_TOKEN_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, NULL)";
constexpr std::string_view kTokensOf =
    "SELECT " ATRIUM_TOKEN_COLUMNS " FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id";
constexpr std::string_view kActiveTokens =
    "SELECT " ATRIUM_TOKEN_COLUMNS " FROM api_tokens WHERE revoked_at IS NULL "
    "AND (expires_at IS NULL OR expires_at > $1)";
constexpr std::string_view kRevokeToken =
    "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
constexpr std::string_view kSelectToken = "SELECT " ATRIUM_TOKEN_COLUMNS " FROM api_tokens WHERE id = $1";

constexpr std::string_view kInsertFailure =
    "INSERT INTO sign_in_failures (at, user_name, address) VALUES ($1, lower($2), $3)";
constexpr std::string_view kCountFailuresOfUser =
    "SELECT count(*) FROM sign_in_failures WHERE user_name = lower($1) AND at >= $2";
constexpr std::string_view kCountFailuresOfAddress =
    "SELECT count(*) FROM sign_in_failures WHERE address = $1 AND at >= $2";
constexpr std::string_view kPruneFailures = "DELETE FROM sign_in_failures WHERE at < $1";
}  // namespace sql

std::optional<TimePoint> optTime(const Rows& r, std::size_t row, std::size_t col) {
  if (r.isNull(row, col)) return std::nullopt;
  return fromMs(r.integer(row, col));
}

Value optMs(const std::optional<TimePoint>& t) { return t ? Value(toMs(*t)) : Value(nullptr); }

User userFromRow(const Rows& r, std::size_t i) {
  User u;
  u.id = r.text(i, 0);
  u.name = r.text(i, 1);
  u.display_name = r.text(i, 2);
  u.email = r.text(i, 3);
  u.source = r.text(i, 4) == "directory" ? UserSource::kDirectory : UserSource::kLocal;
  u.password_hash = r.text(i, 5);
  u.enabled = r.boolean(i, 6);
  u.created_at = fromMs(r.integer(i, 7));
  u.updated_at = fromMs(r.integer(i, 8));
  u.last_sign_in_at = optTime(r, i, 9);
  return u;
}

std::vector<std::string> stringList(const std::string& text) {
  std::vector<std::string> out;
  json j = json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& item : j) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

Group groupFromRow(const Rows& r, std::size_t i) {
  Group g;
  g.id = r.text(i, 0);
  g.name = r.text(i, 1);
  g.description = r.text(i, 2);
  g.permissions = stringList(r.text(i, 3));
  g.folders = stringList(r.text(i, 4));
  g.directory_group = r.text(i, 5);
  g.created_at = fromMs(r.integer(i, 6));
  g.updated_at = fromMs(r.integer(i, 7));
  return g;
}

ApiToken tokenFromRow(const Rows& r, std::size_t i) {
  ApiToken t;
  t.id = r.text(i, 0);
  t.user_id = r.text(i, 1);
  t.name = r.text(i, 2);
  t.secret_hash = r.text(i, 3);
  t.created_at = fromMs(r.integer(i, 4));
  t.expires_at = optTime(r, i, 5);
  t.revoked_at = optTime(r, i, 6);
  return t;
}

// What the audit log shows of a user: never the hash, only whether there is one.
json userJson(const User& u) {
  return {{"name", u.name},
          {"display_name", u.display_name},
          {"email", u.email},
          {"source", userSourceName(u.source)},
          {"enabled", u.enabled},
          {"password_set", !u.password_hash.empty()}};
}

json groupJson(const Group& g) {
  return {{"name", g.name},
          {"description", g.description},
          {"permissions", g.permissions},
          {"folders", g.folders},
          {"directory_group", g.directory_group}};
}

template <class T, class F>
Result<std::vector<T>> listOf(Result<Rows> rows, F&& from_row) {
  if (!rows.ok()) return rows.error();
  std::vector<T> out;
  out.reserve(rows->size());
  for (std::size_t i = 0; i < rows->size(); ++i) out.push_back(from_row(*rows, i));
  return out;
}

}  // namespace

std::string_view userSourceName(UserSource s) { return s == UserSource::kDirectory ? "directory" : "local"; }

// ---- users -----------------------------------------------------------------------------------

Result<User> PeopleStore::createUser(User u, const std::string& actor) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  if (u.id.empty()) u.id = newUuid();
  u.created_at = u.updated_at = truncateMs(clock_.now());
  auto r = conn.query(sql::kInsertUser, Params{u.id, u.name, u.display_name, u.email,
                                               std::string(userSourceName(u.source)), u.password_hash, u.enabled,
                                               toMs(u.created_at), toMs(u.updated_at)});
  if (!r.ok()) {
    if (r.error().code == ErrorCode::kConflict) {
      return Error{ErrorCode::kConflict, "a user named \"" + u.name + "\" exists already", "name"};
    }
    return r.error();
  }
  ATRIUM_TRY(writeAudit(conn, u.created_at, actor, "create", "user", u.id, nullptr, userJson(u)));
  ATRIUM_TRY(tx.commit());
  return u;
}

Result<User> PeopleStore::user(const std::string& id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto list = listOf<User>((**pooled).query(sql::kSelectUser, Params{id}), userFromRow);
  if (!list.ok()) return list.error();
  if (list->empty()) return Error::notFound("no user has the id " + id);
  return std::move(list->front());
}

Result<User> PeopleStore::userByName(std::string_view name) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto list = listOf<User>((**pooled).query(sql::kSelectUserByName, Params{std::string(name)}), userFromRow);
  if (!list.ok()) return list.error();
  if (list->empty()) return Error::notFound("no user is named \"" + std::string(name) + "\"");
  return std::move(list->front());
}

Result<std::vector<User>> PeopleStore::users() {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return listOf<User>((**pooled).query(sql::kSelectUsers), userFromRow);
}

Result<std::int64_t> PeopleStore::countUsers() {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(sql::kCountUsers);
  if (!r.ok()) return r.error();
  return r->integer(0, 0);
}

Result<User> PeopleStore::updateUser(const User& u, const std::string& actor) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  auto old = listOf<User>(conn.query(sql::kSelectUser, Params{u.id}), userFromRow);
  if (!old.ok()) return old.error();
  if (old->empty()) return Error::notFound("no user has the id " + u.id);
  User next = old->front();
  next.display_name = u.display_name;
  next.email = u.email;
  next.enabled = u.enabled;
  next.password_hash = u.password_hash;
  next.updated_at = truncateMs(clock_.now());
  auto r = conn.query(sql::kUpdateUser,
                      Params{next.id, next.display_name, next.email, next.enabled, next.password_hash,
                             toMs(next.updated_at)});
  if (!r.ok()) return r.error();
  json before = userJson(old->front());
  json after = userJson(next);
  if (old->front().password_hash != next.password_hash) after["password_changed"] = true;
  ATRIUM_TRY(writeAudit(conn, next.updated_at, actor, "update", "user", next.id, before, after));
  ATRIUM_TRY(tx.commit());
  return next;
}

Status PeopleStore::recordSignIn(const std::string& user_id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(sql::kRecordSignIn, Params{user_id, toMs(clock_.now())});
  if (!r.ok()) return r.error();
  return okStatus();
}

// ---- groups ----------------------------------------------------------------------------------

Result<Group> PeopleStore::createGroup(Group g, const std::string& actor) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  if (g.id.empty()) g.id = newUuid();
  g.created_at = g.updated_at = truncateMs(clock_.now());
  auto r = conn.query(sql::kInsertGroup, Params{g.id, g.name, g.description, json(g.permissions).dump(),
                                                json(g.folders).dump(), g.directory_group, toMs(g.created_at),
                                                toMs(g.updated_at)});
  if (!r.ok()) {
    if (r.error().code == ErrorCode::kConflict) {
      return Error{ErrorCode::kConflict, "a group named \"" + g.name + "\" exists already", "name"};
    }
    return r.error();
  }
  ATRIUM_TRY(writeAudit(conn, g.created_at, actor, "create", "group", g.id, nullptr, groupJson(g)));
  ATRIUM_TRY(tx.commit());
  return g;
}

Result<Group> PeopleStore::group(const std::string& id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto list = listOf<Group>((**pooled).query(sql::kSelectGroup, Params{id}), groupFromRow);
  if (!list.ok()) return list.error();
  if (list->empty()) return Error::notFound("no group has the id " + id);
  return std::move(list->front());
}

Result<std::vector<Group>> PeopleStore::groups() {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return listOf<Group>((**pooled).query(sql::kSelectGroups), groupFromRow);
}

Result<Group> PeopleStore::updateGroup(const Group& g, const std::string& actor) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  auto old = listOf<Group>(conn.query(sql::kSelectGroup, Params{g.id}), groupFromRow);
  if (!old.ok()) return old.error();
  if (old->empty()) return Error::notFound("no group has the id " + g.id);
  Group next = g;
  next.created_at = old->front().created_at;
  next.updated_at = truncateMs(clock_.now());
  auto r = conn.query(sql::kUpdateGroup, Params{next.id, next.name, next.description, json(next.permissions).dump(),
                                                json(next.folders).dump(), next.directory_group,
                                                toMs(next.updated_at)});
  if (!r.ok()) {
    if (r.error().code == ErrorCode::kConflict) {
      return Error{ErrorCode::kConflict, "a group named \"" + g.name + "\" exists already", "name"};
    }
    return r.error();
  }
  ATRIUM_TRY(writeAudit(conn, next.updated_at, actor, "update", "group", next.id,
                        groupJson(old->front()), groupJson(next)));
  ATRIUM_TRY(tx.commit());
  return next;
}

Status PeopleStore::deleteGroup(const std::string& id, const std::string& actor) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  auto old = listOf<Group>(conn.query(sql::kSelectGroup, Params{id}), groupFromRow);
  if (!old.ok()) return old.error();
  if (old->empty()) return Error::notFound("no group has the id " + id);
  auto r = conn.query(sql::kDeleteGroup, Params{id});
  if (!r.ok()) return r.error();
  ATRIUM_TRY(writeAudit(conn, clock_.now(), actor, "delete", "group", id, groupJson(old->front()),
                        nullptr));
  return tx.commit();
}

Status PeopleStore::addMember(const std::string& group_id, const std::string& user_id, const std::string& actor) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  auto r = conn.query(sql::kAddMember, Params{group_id, user_id, "local"});
  if (!r.ok()) {
    if (r.error().code == ErrorCode::kInternal || r.error().code == ErrorCode::kConflict) {
      return Error::notFound("no such group or user");  // a foreign key refused it
    }
    return r.error();
  }
  ATRIUM_TRY(writeAudit(conn, clock_.now(), actor, "add-member", "group", group_id, nullptr,
                        json{{"user_id", user_id}}));
  return tx.commit();
}

Status PeopleStore::removeMember(const std::string& group_id, const std::string& user_id, const std::string& actor) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  auto r = conn.query(sql::kRemoveMember, Params{group_id, user_id});
  if (!r.ok()) return r.error();
  if (r->affected == 0) return Error::notFound("the user is not a member of this group (set by an administrator)");
  ATRIUM_TRY(writeAudit(conn, clock_.now(), actor, "remove-member", "group", group_id,
                        json{{"user_id", user_id}}, nullptr));
  return tx.commit();
}

Status PeopleStore::setDirectoryGroups(const std::string& user_id, const std::vector<std::string>& group_ids) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  auto cleared = conn.query(sql::kClearDirectoryMembers, Params{user_id});
  if (!cleared.ok()) return cleared.error();
  for (const auto& g : group_ids) {
    auto r = conn.query(sql::kAddMember, Params{g, user_id, "directory"});
    if (!r.ok()) return r.error();
  }
  return tx.commit();
}

Result<std::vector<Group>> PeopleStore::groupsOf(const std::string& user_id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return listOf<Group>((**pooled).query(sql::kGroupsOf, Params{user_id}), groupFromRow);
}

Result<std::vector<std::string>> PeopleStore::memberIds(const std::string& group_id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return listOf<std::string>((**pooled).query(sql::kMemberIds, Params{group_id}),
                             [](const Rows& r, std::size_t i) { return r.text(i, 0); });
}

// ---- sessions --------------------------------------------------------------------------------

Status PeopleStore::createSession(const Session& s) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(sql::kInsertSession,
                            Params{s.id, s.user_id, toMs(s.created_at), toMs(s.expires_at), s.address});
  if (!r.ok()) return r.error();
  return okStatus();
}

Status PeopleStore::revokeSession(const std::string& id, const std::optional<std::string>& user_id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = user_id ? (**pooled).query(sql::kRevokeSessionOfUser, Params{id, *user_id, toMs(clock_.now())})
                   : (**pooled).query(sql::kRevokeSession, Params{id, toMs(clock_.now())});
  if (!r.ok()) return r.error();
  if (r->affected == 0) return Error::notFound("no such open session");
  return okStatus();
}

Status PeopleStore::revokeSessionsOf(const std::string& user_id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(sql::kRevokeSessionsOf, Params{user_id, toMs(clock_.now())});
  if (!r.ok()) return r.error();
  return okStatus();
}

Result<std::vector<std::string>> PeopleStore::revokedSessions() {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return listOf<std::string>((**pooled).query(sql::kRevokedSessions, Params{toMs(clock_.now())}),
                             [](const Rows& r, std::size_t i) { return r.text(i, 0); });
}

// ---- API tokens ------------------------------------------------------------------------------

Status PeopleStore::createToken(const ApiToken& t, const std::string& actor) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  auto r = conn.query(sql::kInsertToken,
                      Params{t.id, t.user_id, t.name, t.secret_hash, toMs(t.created_at), optMs(t.expires_at)});
  if (!r.ok()) return r.error();
  ATRIUM_TRY(writeAudit(conn, t.created_at, actor, "create", "api-token", t.id, nullptr,
                        json{{"user_id", t.user_id}, {"name", t.name}}));
  return tx.commit();
}

Result<std::vector<ApiToken>> PeopleStore::tokensOf(const std::string& user_id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return listOf<ApiToken>((**pooled).query(sql::kTokensOf, Params{user_id}), tokenFromRow);
}

Result<std::vector<ApiToken>> PeopleStore::activeTokens() {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return listOf<ApiToken>((**pooled).query(sql::kActiveTokens, Params{toMs(clock_.now())}), tokenFromRow);
}

Status PeopleStore::revokeToken(const std::string& id, const std::optional<std::string>& user_id,
                                const std::string& actor) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  auto found = listOf<ApiToken>(conn.query(sql::kSelectToken, Params{id}), tokenFromRow);
  if (!found.ok()) return found.error();
  if (found->empty() || (user_id && found->front().user_id != *user_id)) {
    return Error::notFound("no such API token");
  }
  auto r = conn.query(sql::kRevokeToken, Params{id, toMs(clock_.now())});
  if (!r.ok()) return r.error();
  ATRIUM_TRY(writeAudit(conn, clock_.now(), actor, "revoke", "api-token", id,
                        json{{"user_id", found->front().user_id}, {"name", found->front().name}},
                        nullptr));
  return tx.commit();
}

// ---- failed sign-ins -------------------------------------------------------------------------

Status PeopleStore::recordFailedSignIn(std::string_view user_name, std::string_view address) {
  constexpr auto kKeep = std::chrono::hours(24);
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  const TimePoint now = clock_.now();
  auto r = (**pooled).query(sql::kInsertFailure, Params{toMs(now), std::string(user_name), std::string(address)});
  if (!r.ok()) return r.error();
  (void)(**pooled).query(sql::kPruneFailures, Params{toMs(now - kKeep)});
  return okStatus();
}

Result<std::pair<std::int64_t, std::int64_t>> PeopleStore::failedSignIns(std::string_view user_name,
                                                                         std::string_view address, TimePoint since) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto by_user = (**pooled).query(sql::kCountFailuresOfUser, Params{std::string(user_name), toMs(since)});
  if (!by_user.ok()) return by_user.error();
  auto by_address = (**pooled).query(sql::kCountFailuresOfAddress, Params{std::string(address), toMs(since)});
  if (!by_address.ok()) return by_address.error();
  return std::make_pair(by_user->integer(0, 0), by_address->integer(0, 0));
}

}  // namespace atrium::store
