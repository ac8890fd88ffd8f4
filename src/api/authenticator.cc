#include "api/authenticator.h"

#include <openssl/crypto.h>

#include <boost/beast/core/string.hpp>

#include "common/ids.h"
#include "devices/event_key.h"

namespace atrium::api {
namespace {

constexpr std::size_t kTokenIdHexChars = 16;
constexpr std::size_t kTokenSecretHexChars = 64;

Error unauthorized(std::string message) { return Error{ErrorCode::kUnauthorized, std::move(message), {}}; }

bool equalConstantTime(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::optional<std::string> sessionCookie(std::string_view header) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (pair.substr(0, eq) == kSessionCookie) return std::string(pair.substr(eq + 1));
  }
  return std::nullopt;
}

std::string hostOnly(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return close == std::string_view::npos ? std::string() : std::string(host.substr(1, close - 1));
  }
  auto colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) != std::string_view::npos) {
    return std::string(host);  // a bare IPv6 address
  }
  return std::string(host.substr(0, colon));
}

std::string originHost(std::string_view origin) {
  auto scheme = origin.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = origin.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  return hostOnly(rest);
}

NewApiToken makeApiToken() {
  NewApiToken t;
  t.id = randomHex(kTokenIdHexChars / 2);
  const std::string secret = randomHex(kTokenSecretHexChars / 2);
  t.text = std::string(kApiTokenPrefix) + t.id + "_" + secret;
  t.secret_hash = devices::sha256Hex(secret);
  return t;
}

Authenticator::Authenticator(TokenSigner& signer, people::PeopleCache& people, const Clock& clock,
                             AuthOptions options, std::function<bool(std::string_view)> host_allowed)
    : signer_(signer), people_(people), clock_(clock), options_(options), host_allowed_(std::move(host_allowed)) {}

Result<Caller> Authenticator::authenticate(const Credentials& c) {
  if (c.bearer) {
    if (c.bearer->rfind(kApiTokenPrefix, 0) == 0) return fromApiToken(*c.bearer);
    return fromSessionToken(*c.bearer, false, c);
  }
  if (c.cookie) return fromSessionToken(*c.cookie, true, c);
  return unauthorized("sign in first: POST /api/v1/sessions with {\"user\", \"password\"}, then send the session "
                      "cookie or Authorization: Bearer <token>");
}

Result<Caller> Authenticator::fromSessionToken(std::string_view token, bool by_cookie, const Credentials& c) {
  auto claims = signer_.verify(token);
  if (!claims) return claims.error();
  auto now = signer_.now();
  if (!now) return now.error();
  if (claims->session_id.empty()) return unauthorized("the token names no session; sign in again");
  if (claims->expires_at - claims->issued_at > options_.session_lifetime.count()) {
    return unauthorized("the token lives longer than a session may; sign in again");
  }
  if (claims->issued_at > *now + options_.clock_skew.count()) {
    return unauthorized("the token was issued in the future; sign in again");
  }
  if (people_.sessionRevoked(claims->session_id)) return unauthorized("the session was signed out; sign in again");
  if (by_cookie && c.changes) {
    // A browser's change: it must prove it comes from the console (the CSRF token only the
    // console's page can read) and, when the browser says where it comes from, from here.
    if (claims->csrf.empty() || !equalConstantTime(c.csrf, claims->csrf)) {
      return Error{ErrorCode::kForbidden,
                   "a change from a browser needs the session's CSRF token in the X-CSRF-Token header", {}};
    }
    if (!c.origin.empty() && !host_allowed_(originHost(c.origin))) {
      return Error{ErrorCode::kForbidden, "the request comes from another site (Origin " + c.origin + ")", {}};
    }
  }
  auto caller = callerFor(claims->subject);
  if (!caller) return caller;
  caller->session_id = claims->session_id;
  caller->csrf = claims->csrf;
  caller->by_cookie = by_cookie;
  return caller;
}

Result<Caller> Authenticator::fromApiToken(std::string_view token) {
  // atr_<id>_<secret>
  std::string_view rest = token.substr(kApiTokenPrefix.size());
  auto sep = rest.find('_');
  if (sep != kTokenIdHexChars || rest.size() != kTokenIdHexChars + 1 + kTokenSecretHexChars) {
    return unauthorized("the API token is malformed");
  }
  const std::string id(rest.substr(0, sep));
  auto stored = people_.token(id);
  if (!stored) return unauthorized("the API token is unknown, revoked or expired");
  if (!equalConstantTime(devices::sha256Hex(rest.substr(sep + 1)), stored->secret_hash)) {
    return unauthorized("the API token is unknown, revoked or expired");
  }
  if (stored->expires_at && *stored->expires_at <= clock_.now()) {
    return unauthorized("the API token is unknown, revoked or expired");
  }
  auto caller = callerFor(stored->user_id);
  if (!caller) return caller;
  caller->token_id = id;
  return caller;
}

Result<Caller> Authenticator::callerFor(const std::string& user_id) {
  auto principal = people_.principal(user_id);
  if (!principal) {
    if (principal.error().code == ErrorCode::kNotFound) return unauthorized("the token's user no longer exists");
    return principal.error();
  }
  if (!principal->user.enabled) return unauthorized("the account is disabled");
  Caller c;
  c.user_id = principal->user.id;
  c.name = principal->user.name;
  c.access = principal->access;
  return c;
}

}  // namespace atrium::api
