// Secrets stored in the database (managed systems' management passwords), sealed with
// AES-256-GCM under a key derived from an installation validation key by HKDF-SHA256 (info
// "atrium system credentials v1"). The stored text names its key and its version:
//
//   enc1:<key id>:<base64 nonce (12 bytes)>:<base64 ciphertext + 16-byte tag>
//
// The key id and the version are authenticated (additional data), so a value cannot be moved
// under another key's name. Pure functions apart from the random nonce; no logging.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace atrium {

inline constexpr std::string_view kSealedCredentialPrefix = "enc1:";

struct CredentialKey {
  std::string id;                      // the validation key's id
  std::array<std::uint8_t, 32> key{};  // HKDF-SHA256(validation secret, info)
};

// Derives the credential key of a validation key (its secret as raw bytes).
CredentialKey deriveCredentialKey(std::string id, std::string_view validation_secret);
// The same from the secret as stored (hex); nullopt when it is not hex.
std::optional<CredentialKey> deriveCredentialKeyFromHex(std::string id,
                                                        std::string_view secret_hex);

// Whether `stored` is in the sealed form (else it is a legacy clear value, or empty).
bool isSealedCredential(std::string_view stored);
// The key id a sealed value names; nullopt when it is not sealed.
std::optional<std::string> sealedCredentialKeyId(std::string_view stored);

// Seals `plain` under `key` with a fresh random nonce. Fails only when the random source does.
Result<std::string> sealCredential(const CredentialKey& key, std::string_view plain);
// The same with a given nonce (tests: known answers).
std::string sealCredentialWithNonce(const CredentialKey& key, std::string_view plain,
                                    const std::array<std::uint8_t, 12>& nonce);

// Opens a sealed value with the key it names among `keys`. Fails (kInvalidArgument, a message that
// holds no part of the value) when the text is malformed or truncated, the key is unknown, or the
// ciphertext, tag, nonce or key id was changed.
Result<std::string> openCredential(const std::vector<CredentialKey>& keys, std::string_view sealed);

}  // namespace atrium
