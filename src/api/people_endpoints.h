// People in the API: signing in and out, users, groups and their permissions, personal API tokens.
//  - POST /api/v1/sessions {"user","password"} -> 201 {"token","expires_at","user","csrf_token"}
//    and the session cookie; a wrong name or password -> 401 "wrong user name or password".
//  - GET /api/v1/sessions/current: who is signed in and what they may do; DELETE: sign out.
//    DELETE /api/v1/sessions/{id}: an administrator ends someone's session.
//  - /api/v1/users, /api/v1/groups (administration), /api/v1/tokens (one's own),
//    PUT /api/v1/me/password.
// Blocking (database, argon2id): ApiServer runs them on its database pool.
#pragma once

#include <chrono>

#include "api/authenticator.h"
#include "api/endpoints.h"
#include "api/token_signer.h"
#include "net/http_server.h"
#include "people/people_cache.h"
#include "people/sign_in.h"
#include "store/people_store.h"
#include "store/store.h"

namespace atrium::api {

class PeopleEndpoints {
 public:
  PeopleEndpoints(store::PeopleStore& people, store::Store& store, people::SignIn& sign_in,
                  people::PeopleCache& cache, TokenSigner& signer, const Clock& clock,
                  std::chrono::seconds session_lifetime)
      : people_(people),
        store_(store),
        sign_in_(sign_in),
        cache_(cache),
        signer_(signer),
        clock_(clock),
        session_lifetime_(session_lifetime) {}

  static bool serves(Endpoint e);
  net::Response handle(const ApiCall& call);

 private:
  Result<net::Response> createSession(const ApiCall& call);
  Result<net::Response> currentSession(const ApiCall& call);
  Result<net::Response> endCurrentSession(const ApiCall& call);
  Result<net::Response> revokeSession(const ApiCall& call);
  Result<net::Response> listUsers();
  Result<net::Response> createUser(const ApiCall& call);
  Result<net::Response> getUser(const std::string& id);
  Result<net::Response> patchUser(const std::string& id, const ApiCall& call);
  Result<net::Response> setPassword(const std::string& id, const ApiCall& call);
  Result<net::Response> changeOwnPassword(const ApiCall& call);
  Result<net::Response> listGroups();
  Result<net::Response> createGroup(const ApiCall& call);
  Result<net::Response> getGroup(const std::string& id);
  Result<net::Response> patchGroup(const std::string& id, const ApiCall& call);
  Result<net::Response> deleteGroup(const std::string& id, const ApiCall& call);
  Result<net::Response> addMember(const ApiCall& call);
  Result<net::Response> removeMember(const ApiCall& call);
  Result<net::Response> listTokens(const ApiCall& call);
  Result<net::Response> createToken(const ApiCall& call);
  Result<net::Response> revokeToken(const ApiCall& call);
  // A group's fields as a request gives them (absent: unchanged); `creating` requires the name.
  struct GroupChange {
    std::optional<std::string> name;
    std::optional<std::string> description;
    std::optional<std::vector<std::string>> permissions;
    std::optional<std::vector<std::string>> folders;
    std::optional<std::string> directory_group;
  };
  static Result<GroupChange> parseGroupChange(std::string_view body, bool creating);
  // Applies the change to `group` and checks the result (names, text, permissions, folders).
  Status applyGroupChange(const GroupChange& change, store::Group& group);
  // Checks names of permissions and ids of folders.
  Status checkGrant(const std::vector<std::string>& permissions, const std::vector<std::string>& folders);

  store::PeopleStore& people_;
  store::Store& store_;
  people::SignIn& sign_in_;
  people::PeopleCache& cache_;
  TokenSigner& signer_;
  const Clock& clock_;
  std::chrono::seconds session_lifetime_;
};

// The Set-Cookie value of a session (HttpOnly, SameSite=Strict, Path=/, Secure over HTTPS), and
// the one that clears it.
std::string sessionCookieHeader(const std::string& token, std::chrono::seconds max_age, bool secure);
std::string clearedSessionCookieHeader(bool secure);

}  // namespace atrium::api
