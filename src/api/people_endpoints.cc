#include "api/people_endpoints.h"

#include <boost/beast/http/field.hpp>
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "api/errors.h"
#include "api/json_body.h"
#include "api/validation.h"
#include "common/ids.h"
#include "common/log.h"
#include "people/password.h"
#include "people/permissions.h"

namespace atrium::api {
namespace {

using nlohmann::json;
namespace http = boost::beast::http;

constexpr std::int64_t kMaxTokenDays = 3650;

json optTime(const std::optional<store::TimePoint>& t) { return t ? json(formatTimestamp(*t)) : json(nullptr); }

json userToJson(const store::User& u) {
  return {{"id", u.id},
          {"name", u.name},
          {"display_name", u.display_name},
          {"email", u.email},
          {"source", store::userSourceName(u.source)},
          {"enabled", u.enabled},
          {"password_set", !u.password_hash.empty()},
          {"created_at", formatTimestamp(u.created_at)},
          {"updated_at", formatTimestamp(u.updated_at)},
          {"last_sign_in_at", optTime(u.last_sign_in_at)}};
}

json groupToJson(const store::Group& g) {
  return {{"id", g.id},
          {"name", g.name},
          {"description", g.description},
          {"permissions", g.permissions},
          {"folders", g.folders},
          {"directory_group", g.directory_group},
          {"created_at", formatTimestamp(g.created_at)},
          {"updated_at", formatTimestamp(g.updated_at)}};
}

json tokenToJson(const store::ApiToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"created_at", formatTimestamp(t.created_at)},
          {"expires_at", optTime(t.expires_at)},
          {"revoked_at", optTime(t.revoked_at)}};
}

json accessJson(const people::Access& a) {
  json j = {{"permissions", people::permissionNames(a.permissions)}};
  auto scope = [](const std::optional<std::set<std::string>>& s) {
    return s ? json(std::vector<std::string>(s->begin(), s->end())) : json(nullptr);
  };
  j["read_folders"] = scope(a.read_folders);
  j["edit_folders"] = scope(a.edit_folders);
  return j;
}

Error userNotFound(const std::string& id) { return Error::notFound("no user with id " + jsonQuote(id)); }
Error groupNotFound(const std::string& id) { return Error::notFound("no group with id " + jsonQuote(id)); }

}  // namespace

std::string sessionCookieHeader(const std::string& token, std::chrono::seconds max_age, bool secure) {
  return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}", kSessionCookie, token,
                     max_age.count(), secure ? "; Secure" : "");
}

std::string clearedSessionCookieHeader(bool secure) {
  return fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}", kSessionCookie,
                     secure ? "; Secure" : "");
}

bool PeopleEndpoints::serves(Endpoint e) {
  switch (e) {
    case Endpoint::kCreateSession:
    case Endpoint::kCurrentSession:
    case Endpoint::kEndCurrentSession:
    case Endpoint::kRevokeSession:
    case Endpoint::kListUsers:
    case Endpoint::kCreateUser:
    case Endpoint::kGetUser:
    case Endpoint::kPatchUser:
    case Endpoint::kSetUserPassword:
    case Endpoint::kChangeOwnPassword:
    case Endpoint::kListGroups:
    case Endpoint::kCreateGroup:
    case Endpoint::kGetGroup:
    case Endpoint::kPatchGroup:
    case Endpoint::kDeleteGroup:
    case Endpoint::kAddGroupMember:
    case Endpoint::kRemoveGroupMember:
    case Endpoint::kListTokens:
    case Endpoint::kCreateToken:
    case Endpoint::kRevokeToken:
      return true;
    default:
      return false;
  }
}

net::Response PeopleEndpoints::handle(const ApiCall& call) {
  const std::string id = call.params.empty() ? std::string() : call.params.front();
  Result<net::Response> r = Error::internal("endpoint not served by people");
  switch (call.endpoint) {
    case Endpoint::kCreateSession: r = createSession(call); break;
    case Endpoint::kCurrentSession: r = currentSession(call); break;
    case Endpoint::kEndCurrentSession: r = endCurrentSession(call); break;
    case Endpoint::kRevokeSession: r = revokeSession(call); break;
    case Endpoint::kListUsers: r = listUsers(); break;
    case Endpoint::kCreateUser: r = createUser(call); break;
    case Endpoint::kGetUser: r = getUser(id); break;
    case Endpoint::kPatchUser: r = patchUser(id, call); break;
    case Endpoint::kSetUserPassword: r = setPassword(id, call); break;
    case Endpoint::kChangeOwnPassword: r = changeOwnPassword(call); break;
    case Endpoint::kListGroups: r = listGroups(); break;
    case Endpoint::kCreateGroup: r = createGroup(call); break;
    case Endpoint::kGetGroup: r = getGroup(id); break;
    case Endpoint::kPatchGroup: r = patchGroup(id, call); break;
    case Endpoint::kDeleteGroup: r = deleteGroup(id, call); break;
    case Endpoint::kAddGroupMember: r = addMember(call); break;
    case Endpoint::kRemoveGroupMember: r = removeMember(call); break;
    case Endpoint::kListTokens: r = listTokens(call); break;
    case Endpoint::kCreateToken: r = createToken(call); break;
    case Endpoint::kRevokeToken: r = revokeToken(call); break;
    default: break;
  }
  return databaseResponse(std::move(r));
}

// ---- sessions --------------------------------------------------------------------------------

Result<net::Response> PeopleEndpoints::createSession(const ApiCall& call) {
  auto body = parseJsonObject(call.body, "session");
  if (!body) return body.error();
  JsonFields fields(*body);
  auto name = fields.requiredString("user");
  if (!name) return name.error();
  auto password = fields.requiredString("password");
  if (!password) return password.error();
  ATRIUM_TRY(fields.finish());
  auto user = sign_in_.signIn(*name, *password, call.client_address);
  if (!user) return user.error();
  store::Session session;
  session.id = newUuid();
  session.user_id = user->id;
  session.created_at = clock_.now();
  session.expires_at = session.created_at + session_lifetime_;
  session.address = call.client_address;
  ATRIUM_TRY(people_.createSession(session));
  const std::string csrf = randomHex(16);
  auto token = signer_.sign(user->id, session_lifetime_, session.id, csrf);
  if (!token) return token.error();
  log::info("session.created", {{"user", user->name}, {"session", session.id}, {"address", call.client_address}});
  const auto expires = std::chrono::system_clock::time_point(std::chrono::seconds(token->claims.expires_at));
  json out = {{"token", token->token},
              {"expires_at", formatTimestamp(expires)},
              {"user", userToJson(*user)},
              {"session_id", session.id},
              {"csrf_token", csrf}};
  auto res = jsonAnswer(201, out);
  res.set(http::field::set_cookie, sessionCookieHeader(token->token, session_lifetime_, call.tls));
  res.set(http::field::cache_control, "no-store");
  return res;
}

Result<net::Response> PeopleEndpoints::currentSession(const ApiCall& call) {
  auto principal = cache_.principal(call.caller->user_id);
  if (!principal) return principal.error();
  json out = {{"user", userToJson(principal->user)},
              {"groups", principal->groups},
              {"access", accessJson(principal->access)},
              {"session_id", call.caller->session_id.empty() ? json(nullptr) : json(call.caller->session_id)},
              {"csrf_token", call.caller->csrf.empty() ? json(nullptr) : json(call.caller->csrf)}};
  auto res = jsonAnswer(200, out);
  res.set(http::field::cache_control, "no-store");
  return res;
}

Result<net::Response> PeopleEndpoints::endCurrentSession(const ApiCall& call) {
  if (call.caller->session_id.empty()) {
    return Error::invalid("an API token is not a session: revoke it with DELETE /api/v1/tokens/{id}");
  }
  ATRIUM_TRY(people_.revokeSession(call.caller->session_id, call.caller->user_id));
  cache_.noteRevokedSession(call.caller->session_id);
  ATRIUM_TRY(store_.recordAudit(call.actor, "sign-out", "session", call.caller->session_id, "", ""));
  auto res = noContent();
  res.set(http::field::set_cookie, clearedSessionCookieHeader(call.tls));
  return res;
}

Result<net::Response> PeopleEndpoints::revokeSession(const ApiCall& call) {
  const std::string& id = call.params.front();
  auto revoked = people_.revokeSession(id, std::nullopt);
  if (!revoked) return revoked.error();
  cache_.noteRevokedSession(id);
  ATRIUM_TRY(store_.recordAudit(call.actor, "revoke", "session", id, "", ""));
  return noContent();
}

// ---- users -----------------------------------------------------------------------------------

Result<net::Response> PeopleEndpoints::listUsers() {
  auto users = people_.users();
  if (!users) return users.error();
  json items = json::array();
  for (const auto& u : *users) items.push_back(userToJson(u));
  return jsonAnswer(200, {{"items", std::move(items)}, {"total", items.size()}});
}

Result<net::Response> PeopleEndpoints::createUser(const ApiCall& call) {
  auto body = parseJsonObject(call.body, "user");
  if (!body) return body.error();
  JsonFields f(*body);
  f.readOnly({"id", "source", "created_at", "updated_at", "last_sign_in_at", "password_set"});
  auto name = f.requiredString("name");
  if (!name) return name.error();
  auto password = f.requiredString("password");
  if (!password) return password.error();
  auto display = f.optionalString("display_name");
  if (!display) return display.error();
  auto email = f.optionalString("email");
  if (!email) return email.error();
  auto enabled = f.optionalBool("enabled");
  if (!enabled) return enabled.error();
  auto groups = f.optionalStringArray("groups");
  if (!groups) return groups.error();
  ATRIUM_TRY(f.finish());
  ATRIUM_TRY(validateName(*name, "name"));
  if (name->find_first_of(" \t/\\:") != std::string::npos) {
    return Error::invalid("a user name has no spaces, slashes or colons", "name");
  }
  ATRIUM_TRY(people::checkPasswordRules(*password));
  if (*display) ATRIUM_TRY(validateText(**display, "display_name"));
  if (*email) ATRIUM_TRY(validateText(**email, "email"));
  store::User u;
  u.name = *name;
  u.display_name = display->value_or("");
  u.email = email->value_or("");
  u.enabled = enabled->value_or(true);
  auto hash = people::hashPassword(*password);
  if (!hash) return hash.error();
  u.password_hash = *hash;
  if (*groups) {
    for (const auto& g : **groups) {
      auto found = people_.group(g);
      if (!found) return Error::invalid("no group with id " + jsonQuote(g), "groups");
    }
  }
  auto created = people_.createUser(u, call.actor);
  if (!created) return created.error();
  if (*groups) {
    for (const auto& g : **groups) ATRIUM_TRY(people_.addMember(g, created->id, call.actor));
  }
  return createdAnswer(userToJson(*created), "/api/v1/users/" + created->id);
}

Result<net::Response> PeopleEndpoints::getUser(const std::string& id) {
  auto u = people_.user(id);
  if (!u) return u.error().code == ErrorCode::kNotFound ? Result<net::Response>(userNotFound(id)) : u.error();
  auto groups = people_.groupsOf(id);
  if (!groups) return groups.error();
  json j = userToJson(*u);
  json g = json::array();
  for (const auto& group : *groups) g.push_back({{"id", group.id}, {"name", group.name}});
  j["groups"] = std::move(g);
  return jsonAnswer(200, j);
}

Result<net::Response> PeopleEndpoints::patchUser(const std::string& id, const ApiCall& call) {
  auto body = parseJsonObject(call.body, "user");
  if (!body) return body.error();
  JsonFields f(*body);
  f.readOnly({"id", "name", "source", "created_at", "updated_at", "last_sign_in_at", "password_set", "password"});
  auto display = f.optionalString("display_name");
  if (!display) return display.error();
  auto email = f.optionalString("email");
  if (!email) return email.error();
  auto enabled = f.optionalBool("enabled");
  if (!enabled) return enabled.error();
  ATRIUM_TRY(f.finish());
  auto u = people_.user(id);
  if (!u) return u.error().code == ErrorCode::kNotFound ? Result<net::Response>(userNotFound(id)) : u.error();
  if (*display) {
    ATRIUM_TRY(validateText(**display, "display_name"));
    u->display_name = **display;
  }
  if (*email) {
    ATRIUM_TRY(validateText(**email, "email"));
    u->email = **email;
  }
  if (*enabled) {
    if (!**enabled && id == call.caller->user_id) {
      return Error::invalid("you cannot disable your own account", "enabled");
    }
    u->enabled = **enabled;
  }
  auto updated = people_.updateUser(*u, call.actor);
  if (!updated) return updated.error();
  if (!updated->enabled) ATRIUM_TRY(people_.revokeSessionsOf(id));  // its sessions end everywhere
  cache_.forget(id);
  return jsonAnswer(200, userToJson(*updated));
}

Result<net::Response> PeopleEndpoints::setPassword(const std::string& id, const ApiCall& call) {
  auto body = parseJsonObject(call.body, "password");
  if (!body) return body.error();
  JsonFields f(*body);
  auto password = f.requiredString("password");
  if (!password) return password.error();
  ATRIUM_TRY(f.finish());
  ATRIUM_TRY(people::checkPasswordRules(*password));
  auto u = people_.user(id);
  if (!u) return u.error().code == ErrorCode::kNotFound ? Result<net::Response>(userNotFound(id)) : u.error();
  if (u->source != store::UserSource::kLocal) {
    return Error::invalid("this user signs in with the directory; change the password there", "password");
  }
  auto hash = people::hashPassword(*password);
  if (!hash) return hash.error();
  u->password_hash = *hash;
  auto updated = people_.updateUser(*u, call.actor);
  if (!updated) return updated.error();
  if (id != call.caller->user_id) ATRIUM_TRY(people_.revokeSessionsOf(id));
  return noContent();
}

Result<net::Response> PeopleEndpoints::changeOwnPassword(const ApiCall& call) {
  auto body = parseJsonObject(call.body, "password");
  if (!body) return body.error();
  JsonFields f(*body);
  auto current = f.requiredString("current_password");
  if (!current) return current.error();
  auto next = f.requiredString("new_password");
  if (!next) return next.error();
  ATRIUM_TRY(f.finish());
  auto u = people_.user(call.caller->user_id);
  if (!u) return u.error();
  if (u->source != store::UserSource::kLocal) {
    return Error::invalid("you sign in with the directory; change the password there", "new_password");
  }
  if (!people::verifyPassword(u->password_hash, *current)) {
    return Error{ErrorCode::kForbidden, "the current password is wrong", "current_password"};
  }
  Status rules = people::checkPasswordRules(*next);
  if (!rules) return Error::invalid(rules.error().message, "new_password");
  auto hash = people::hashPassword(*next);
  if (!hash) return hash.error();
  u->password_hash = *hash;
  auto updated = people_.updateUser(*u, call.actor);
  if (!updated) return updated.error();
  return noContent();
}

// ---- groups ----------------------------------------------------------------------------------

Status PeopleEndpoints::checkGrant(const std::vector<std::string>& permissions,
                                   const std::vector<std::string>& folders) {
  for (const auto& p : permissions) {
    if (!people::parsePermission(p)) {
      return Error::invalid(fmt::format("unknown permission {}; known: {}", jsonQuote(p),
                                        fmt::join(people::permissionNames(people::allPermissions()), ", ")),
                            "permissions");
    }
  }
  if (folders.empty()) return okStatus();
  auto all = store_.folders();
  if (!all) return all.error();
  for (const auto& id : folders) {
    bool found = false;
    for (const auto& folder : *all) found = found || folder.id == id;
    if (!found) return Error::invalid("no folder with id " + jsonQuote(id), "folders");
  }
  return okStatus();
}

Result<net::Response> PeopleEndpoints::listGroups() {
  auto groups = people_.groups();
  if (!groups) return groups.error();
  json items = json::array();
  for (const auto& g : *groups) items.push_back(groupToJson(g));
  return jsonAnswer(200, {{"items", std::move(items)}, {"total", items.size()}});
}

Result<PeopleEndpoints::GroupChange> PeopleEndpoints::parseGroupChange(std::string_view body,
                                                                       bool creating) {
  auto object = parseJsonObject(body, "group");
  if (!object) return object.error();
  JsonFields f(*object);
  if (creating) {
    f.readOnly({"id", "created_at", "updated_at"});
  } else {
    f.readOnly({"id", "created_at", "updated_at", "members"});
  }
  GroupChange c;
  if (creating) {
    auto name = f.requiredString("name");
    if (!name) return name.error();
    c.name = *name;
  } else {
    auto name = f.optionalString("name");
    if (!name) return name.error();
    c.name = *name;
  }
  auto description = f.optionalString("description");
  if (!description) return description.error();
  auto permissions = f.optionalStringArray("permissions");
  if (!permissions) return permissions.error();
  auto folders = f.optionalStringArray("folders");
  if (!folders) return folders.error();
  auto directory = f.optionalString("directory_group");
  if (!directory) return directory.error();
  ATRIUM_TRY(f.finish());
  c.description = *description;
  c.permissions = *permissions;
  c.folders = *folders;
  c.directory_group = *directory;
  return c;
}

Status PeopleEndpoints::applyGroupChange(const GroupChange& c, store::Group& g) {
  if (c.name) {
    ATRIUM_TRY(validateName(*c.name, "name"));
    g.name = *c.name;
  }
  if (c.description) g.description = *c.description;
  if (c.permissions) g.permissions = *c.permissions;
  if (c.folders) g.folders = *c.folders;
  if (c.directory_group) g.directory_group = *c.directory_group;
  ATRIUM_TRY(validateText(g.description, "description"));
  ATRIUM_TRY(validateText(g.directory_group, "directory_group"));
  return checkGrant(g.permissions, g.folders);
}

Result<net::Response> PeopleEndpoints::createGroup(const ApiCall& call) {
  auto change = parseGroupChange(call.body, true);
  if (!change) return change.error();
  store::Group g;
  ATRIUM_TRY(applyGroupChange(*change, g));
  auto created = people_.createGroup(g, call.actor);
  if (!created) return created.error();
  return createdAnswer(groupToJson(*created), "/api/v1/groups/" + created->id);
}

Result<net::Response> PeopleEndpoints::getGroup(const std::string& id) {
  auto g = people_.group(id);
  if (!g) return g.error().code == ErrorCode::kNotFound ? Result<net::Response>(groupNotFound(id)) : g.error();
  auto members = people_.memberIds(id);
  if (!members) return members.error();
  json j = groupToJson(*g);
  j["members"] = *members;
  return jsonAnswer(200, j);
}

Result<net::Response> PeopleEndpoints::patchGroup(const std::string& id, const ApiCall& call) {
  auto change = parseGroupChange(call.body, false);
  if (!change) return change.error();
  auto g = people_.group(id);
  if (!g) return g.error().code == ErrorCode::kNotFound ? Result<net::Response>(groupNotFound(id)) : g.error();
  ATRIUM_TRY(applyGroupChange(*change, *g));
  auto updated = people_.updateGroup(*g, call.actor);
  if (!updated) return updated.error();
  return jsonAnswer(200, groupToJson(*updated));
}

Result<net::Response> PeopleEndpoints::deleteGroup(const std::string& id, const ApiCall& call) {
  auto deleted = people_.deleteGroup(id, call.actor);
  if (!deleted) return deleted.error().code == ErrorCode::kNotFound ? Result<net::Response>(groupNotFound(id))
                                                                      : deleted.error();
  return noContent();
}

Result<net::Response> PeopleEndpoints::addMember(const ApiCall& call) {
  const std::string& group_id = call.params.at(0);
  const std::string& user_id = call.params.at(1);
  auto g = people_.group(group_id);
  if (!g) return g.error().code == ErrorCode::kNotFound ? Result<net::Response>(groupNotFound(group_id)) : g.error();
  auto u = people_.user(user_id);
  if (!u) return u.error().code == ErrorCode::kNotFound ? Result<net::Response>(userNotFound(user_id)) : u.error();
  ATRIUM_TRY(people_.addMember(group_id, user_id, call.actor));
  cache_.forget(user_id);
  return noContent();
}

Result<net::Response> PeopleEndpoints::removeMember(const ApiCall& call) {
  const std::string& group_id = call.params.at(0);
  const std::string& user_id = call.params.at(1);
  ATRIUM_TRY(people_.removeMember(group_id, user_id, call.actor));
  cache_.forget(user_id);
  return noContent();
}

// ---- API tokens ------------------------------------------------------------------------------

Result<net::Response> PeopleEndpoints::listTokens(const ApiCall& call) {
  auto tokens = people_.tokensOf(call.caller->user_id);
  if (!tokens) return tokens.error();
  json items = json::array();
  for (const auto& t : *tokens) items.push_back(tokenToJson(t));
  return jsonAnswer(200, {{"items", std::move(items)}, {"total", items.size()}});
}

Result<net::Response> PeopleEndpoints::createToken(const ApiCall& call) {
  auto body = parseJsonObject(call.body, "token");
  if (!body) return body.error();
  JsonFields f(*body);
  auto name = f.requiredString("name");
  if (!name) return name.error();
  auto days = f.optionalInteger("expires_in_days");
  if (!days) return days.error();
  ATRIUM_TRY(f.finish());
  ATRIUM_TRY(validateName(*name, "name"));
  if (*days && (**days < 1 || **days > kMaxTokenDays)) {
    return Error::invalid(fmt::format("expires_in_days is 1 to {}", kMaxTokenDays), "expires_in_days");
  }
  NewApiToken made = makeApiToken();
  store::ApiToken t;
  t.id = made.id;
  t.user_id = call.caller->user_id;
  t.name = *name;
  t.secret_hash = made.secret_hash;
  t.created_at = clock_.now();
  if (*days) t.expires_at = t.created_at + std::chrono::hours(24 * **days);
  ATRIUM_TRY(people_.createToken(t, call.actor));
  cache_.noteToken(t);
  json j = tokenToJson(t);
  j["token"] = made.text;  // shown this once; only its hash is kept
  auto res = jsonAnswer(201, j);
  res.set(http::field::cache_control, "no-store");
  return res;
}

Result<net::Response> PeopleEndpoints::revokeToken(const ApiCall& call) {
  const std::string& id = call.params.front();
  // One's own token, or anyone's for an administrator.
  std::optional<std::string> owner;
  if (!call.caller->access.may(people::Permission::kAdministration)) owner = call.caller->user_id;
  ATRIUM_TRY(people_.revokeToken(id, owner, call.actor));
  cache_.noteRevokedToken(id);
  return noContent();
}

}  // namespace atrium::api
