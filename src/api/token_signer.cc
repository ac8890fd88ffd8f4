#include "api/token_signer.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "common/clock.h"

namespace atrium::api {
namespace {

constexpr std::string_view kVersion = "v1";

Error unauthorized(std::string message) {
  return {ErrorCode::kUnauthorized, std::move(message), {}};
}

Result<std::string> mac(const std::string& secret_hex, std::string_view data) {
  auto key = cluster::keyBytes(secret_hex);
  if (!key) return Error::internal("a stored validation key is malformed: " + key.error().message);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &len) == nullptr) {
    return Error::internal("OpenSSL HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

std::string base64UrlEncode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (auto& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string in(text);
  for (auto& c : in) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (c == '+' || c == '/' || c == '=') {
      return std::nullopt;
    }
  }
  std::size_t padding = (4 - in.size() % 4) % 4;
  in.append(padding, '=');
  std::string out(3 * (in.size() / 4), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - padding);
  // Only the canonical text of these bytes: the last character of a length that is not a multiple
  // of 3 carries unused bits, and text differing only there would otherwise decode the same, so a
  // token altered in those bits would still verify.
  if (base64UrlEncode(out) != text) return std::nullopt;
  return out;
}

Result<std::int64_t> TokenSigner::now() {
  auto now_ms = keyring_.databaseNow();
  if (!now_ms) return now_ms.error();
  return *now_ms / 1000;
}

Result<SignedToken> TokenSigner::sign(const std::string& subject, std::chrono::seconds ttl,
                                      const std::string& session_id, const std::string& csrf) {
  auto key = keyring_.current();
  if (!key) return key.error();
  auto now_ms = keyring_.databaseNow();
  if (!now_ms) return now_ms.error();
  SignedToken out;
  out.claims.subject = subject;
  out.claims.issued_at = *now_ms / 1000;
  out.claims.expires_at = out.claims.issued_at + ttl.count();
  out.claims.key_id = key->id;
  out.claims.session_id = session_id;
  nlohmann::json payload = {
      {"sub", subject}, {"iat", out.claims.issued_at}, {"exp", out.claims.expires_at}};
  if (!session_id.empty()) payload["sid"] = session_id;
  out.claims.csrf = csrf;
  if (!csrf.empty()) payload["csrf"] = csrf;
  std::string signed_part =
      fmt::format("{}.{}.{}", kVersion, key->id, base64UrlEncode(payload.dump()));
  auto m = mac(key->secret_hex, signed_part);
  if (!m) return m.error();
  out.token = signed_part + "." + base64UrlEncode(*m);
  return out;
}

Result<TokenClaims> TokenSigner::verify(std::string_view token) {
  // v1.<kid>.<payload>.<mac>
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < 5) {
    auto dot = token.find('.', start);
    parts.push_back(
        token.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 4 || parts[0] != kVersion || parts[1].empty()) {
    return unauthorized(
        "the bearer token is malformed: expected v1.<key id>.<payload>.<signature> from POST "
        "/api/v1/sessions");
  }
  const std::string key_id(parts[1]);
  auto key = keyring_.find(key_id);
  if (!key) return key.error();
  if (!key->has_value()) {
    return unauthorized(fmt::format(
        "the bearer token was signed with key {}, which this installation does not know or "
        "no longer accepts (retired and past its grace period); get a new token",
        key_id));
  }
  const std::size_t signed_len = parts[0].size() + parts[1].size() + parts[2].size() + 2;
  auto expected = mac((*key)->secret_hex, token.substr(0, signed_len));
  if (!expected) return expected.error();
  auto given = base64UrlDecode(parts[3]);
  if (!given || given->size() != expected->size() ||
      CRYPTO_memcmp(given->data(), expected->data(), expected->size()) != 0) {
    return unauthorized(fmt::format(
        "the bearer token's signature does not match key {}: the token was altered or not "
        "made by this installation",
        key_id));
  }
  auto payload_text = base64UrlDecode(parts[2]);
  auto payload =
      payload_text ? nlohmann::json::parse(*payload_text, nullptr, false) : nlohmann::json();
  if (!payload.is_object() || !payload.contains("sub") || !payload["sub"].is_string() ||
      !payload.contains("exp") || !payload["exp"].is_number_integer()) {
    return unauthorized("the bearer token's payload is malformed");
  }
  TokenClaims claims;
  claims.subject = payload["sub"].get<std::string>();
  claims.issued_at = payload.value("iat", std::int64_t{0});
  claims.expires_at = payload["exp"].get<std::int64_t>();
  if (payload.contains("sid") && payload["sid"].is_string()) claims.session_id = payload["sid"].get<std::string>();
  if (payload.contains("csrf") && payload["csrf"].is_string()) claims.csrf = payload["csrf"].get<std::string>();
  claims.key_id = key_id;
  auto now_ms = keyring_.databaseNow();
  if (!now_ms) return now_ms.error();
  if (*now_ms / 1000 >= claims.expires_at) {
    return unauthorized(fmt::format(
        "the bearer token expired at {}; get a new one from POST /api/v1/sessions",
        formatTimestamp(
            std::chrono::system_clock::time_point(std::chrono::seconds(claims.expires_at)))));
  }
  return claims;
}

}  // namespace atrium::api
