// Who is calling, decided on every API request without asking another node:
// - a browser session: the cookie `atrium_session` holding a token signed with the installation's
//   validation key (any node verifies it); a change (anything but GET/HEAD) must also carry the
//   session's CSRF token in X-CSRF-Token, and an Origin, when the browser sends one, that names a
//   host the installation answers to;
// - a script: `Authorization: Bearer <token>`, either a session token (POST /api/v1/sessions) or
//   a personal API token (`atr_<id>_<secret>`, only its hash is stored).
// A session token's claims are checked, not only its signature: its lifetime no longer than the
// configured session lifetime, its issue time not in the future, its session not signed out, its
// subject an existing, enabled user. The caller's name is the audit actor; no header can name
// another.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/token_signer.h"
#include "common/clock.h"
#include "common/result.h"
#include "people/people_cache.h"

namespace atrium::api {

inline constexpr std::string_view kSessionCookie = "atrium_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";
inline constexpr std::string_view kApiTokenPrefix = "atr_";

// What a request brings to be authenticated, read on the network thread.
struct Credentials {
  std::optional<std::string> bearer;  // the Authorization: Bearer value
  std::optional<std::string> cookie;  // the atrium_session cookie's value
  std::string csrf;                   // X-CSRF-Token
  std::string origin;                 // Origin ("" when absent)
  bool changes = false;               // the method is not GET or HEAD
};

struct Caller {
  std::string user_id;
  std::string name;  // the audit actor
  people::Access access;
  std::string session_id;  // for a session (cookie or bearer)
  std::string csrf;        // the session's CSRF token
  std::string token_id;    // for a personal API token
  bool by_cookie = false;
};

struct AuthOptions {
  std::chrono::seconds session_lifetime{12 * 3600};
  std::chrono::seconds clock_skew{60};  // how far in the future an issue time may be
};

class Authenticator {
 public:
  // `host_allowed` answers whether a host name (from Origin) is one the installation answers to.
  Authenticator(TokenSigner& signer, people::PeopleCache& people, const Clock& clock, AuthOptions options,
                std::function<bool(std::string_view host)> host_allowed);

  // The caller, or unauthorized (no or a bad credential, with the reason) / forbidden (a
  // change without its CSRF token or from a foreign Origin). Blocking (keys, users): call on the
  // database pool.
  Result<Caller> authenticate(const Credentials& credentials);

  const AuthOptions& options() const { return options_; }

 private:
  Result<Caller> fromSessionToken(std::string_view token, bool by_cookie, const Credentials& c);
  Result<Caller> fromApiToken(std::string_view token);
  Result<Caller> callerFor(const std::string& user_id);

  TokenSigner& signer_;
  people::PeopleCache& people_;
  const Clock& clock_;
  AuthOptions options_;
  std::function<bool(std::string_view)> host_allowed_;
};

// The value of the atrium_session cookie in a Cookie header, if any.
std::optional<std::string> sessionCookie(std::string_view cookie_header);
// The host of an Origin ("https://atrium.example.com:8443" -> "atrium.example.com"); "" when
// the origin is "null" or malformed.
std::string originHost(std::string_view origin);
// The host of a Host header ("[::1]:8080" -> "::1", "a.example:80" -> "a.example").
std::string hostOnly(std::string_view host_header);
// A new personal API token: the text to hand out once, its id and the hash to store.
struct NewApiToken {
  std::string text;
  std::string id;
  std::string secret_hash;
};
NewApiToken makeApiToken();

}  // namespace atrium::api
