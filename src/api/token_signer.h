// Signed tokens the API hands out (POST /api/v1/sessions) and verifies on every request that
// carries `Authorization: Bearer <token>`. A token is
//
//   v1.<key id>.<base64url of {"sub","iat","exp"}>.<base64url of HMAC-SHA256>
//
// where the MAC covers everything before the last dot and is made with the installation's
// current validation key. Any node verifies it against the current key and the retired keys
// still within their grace period (cluster::Keyring), so a token made on one node is valid on
// every node. Times are seconds on the database clock, so a node's wrong clock changes nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cluster/keyring.h"
#include "common/result.h"

namespace atrium::api {

struct TokenClaims {
  std::string subject;
  std::string session_id;       // "sid": the sessions row a sign-out revokes ("" in old tokens)
  std::string csrf;             // "csrf": what changes from a browser must send back (X-CSRF-Token)
  std::int64_t issued_at = 0;   // seconds since the epoch (database clock)
  std::int64_t expires_at = 0;  // seconds since the epoch (database clock)
  std::string key_id;
};

struct SignedToken {
  std::string token;
  TokenClaims claims;
};

std::string base64UrlEncode(std::string_view bytes);
// nullopt for text that is not canonical unpadded base64url (unused bits of the last character
// must be zero).
std::optional<std::string> base64UrlDecode(std::string_view text);

class TokenSigner {
 public:
  explicit TokenSigner(cluster::Keyring& keyring) : keyring_(keyring) {}

  // Signs a token for `subject` (and its session) valid for `ttl`, with the current key.
  Result<SignedToken> sign(const std::string& subject, std::chrono::seconds ttl,
                           const std::string& session_id = {}, const std::string& csrf = {});
  // The database clock, seconds since the epoch (what claims are judged against).
  Result<std::int64_t> now();
  // The claims of a valid token; kUnauthorized with the reason (malformed, unknown or retired
  // key, bad signature, expired) otherwise. kUnavailable when the keys cannot be read.
  Result<TokenClaims> verify(std::string_view token);

 private:
  cluster::Keyring& keyring_;
};

}  // namespace atrium::api
