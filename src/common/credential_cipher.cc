#include "common/credential_cipher.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

namespace atrium {

namespace {

constexpr std::string_view kInfo = "atrium system credentials v1";
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::string base64(const std::uint8_t* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int len =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

// Canonical padded base64 only (what base64() writes).
std::optional<std::string> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int len = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
  if (len < 0) return std::nullopt;
  std::size_t pad = 0;
  if (text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(len) - pad);
  if (base64(reinterpret_cast<const std::uint8_t*>(out.data()), out.size()) != text)
    return std::nullopt;
  return out;
}

std::string additionalData(std::string_view key_id) {
  return std::string(kSealedCredentialPrefix) + std::string(key_id);
}

Error malformed(std::string_view why) {
  return Error::invalid("a stored credential cannot be opened: " + std::string(why));
}

}  // namespace

CredentialKey deriveCredentialKey(std::string id, std::string_view validation_secret) {
  CredentialKey out;
  out.id = std::move(id);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr), EVP_PKEY_CTX_free);
  std::size_t len = out.key.size();
  const bool ok =
      ctx && EVP_PKEY_derive_init(ctx.get()) == 1 &&
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) == 1 &&
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(),
                                 reinterpret_cast<const unsigned char*>(validation_secret.data()),
                                 static_cast<int>(validation_secret.size())) == 1 &&
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), reinterpret_cast<const unsigned char*>(kInfo.data()),
                                  static_cast<int>(kInfo.size())) == 1 &&
      EVP_PKEY_derive(ctx.get(), out.key.data(), &len) == 1 && len == out.key.size();
  if (!ok) throw std::runtime_error("HKDF-SHA256 is not available in this OpenSSL");
  return out;
}

std::optional<CredentialKey> deriveCredentialKeyFromHex(std::string id,
                                                        std::string_view secret_hex) {
  if (secret_hex.empty() || secret_hex.size() % 2 != 0) return std::nullopt;
  std::string raw;
  raw.reserve(secret_hex.size() / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < secret_hex.size(); i += 2) {
    const int hi = nibble(secret_hex[i]);
    const int lo = nibble(secret_hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    raw.push_back(static_cast<char>(hi * 16 + lo));
  }
  return deriveCredentialKey(std::move(id), raw);
}

bool isSealedCredential(std::string_view stored) {
  return stored.starts_with(kSealedCredentialPrefix);
}

std::optional<std::string> sealedCredentialKeyId(std::string_view stored) {
  if (!isSealedCredential(stored)) return std::nullopt;
  stored.remove_prefix(kSealedCredentialPrefix.size());
  const auto colon = stored.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  return std::string(stored.substr(0, colon));
}

std::string sealCredentialWithNonce(const CredentialKey& key, std::string_view plain,
                                    const std::array<std::uint8_t, 12>& nonce) {
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  const std::string aad = additionalData(key.id);
  std::string sealed(plain.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  int len = 0;
  int total = 0;
  bool ok =
      ctx &&
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.key.data(), nonce.data()) ==
          1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), out, &len, reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) == 1;
  total = len;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), out + total, &len) == 1;
  total += len;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, out + total) == 1;
  if (!ok) throw std::runtime_error("AES-256-GCM is not available in this OpenSSL");
  return std::string(kSealedCredentialPrefix) + key.id + ":" + base64(nonce.data(), nonce.size()) +
         ":" + base64(out, sealed.size());
}

Result<std::string> sealCredential(const CredentialKey& key, std::string_view plain) {
  std::array<std::uint8_t, kNonceBytes> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    return Error::internal("the random source failed: cannot seal a credential");
  }
  return sealCredentialWithNonce(key, plain, nonce);
}

Result<std::string> openCredential(const std::vector<CredentialKey>& keys,
                                   std::string_view sealed) {
  if (!isSealedCredential(sealed)) return malformed("it is not in the enc1 form");
  std::string_view rest = sealed.substr(kSealedCredentialPrefix.size());
  const auto c1 = rest.find(':');
  if (c1 == std::string_view::npos || c1 == 0) return malformed("no key id");
  const std::string_view key_id = rest.substr(0, c1);
  rest.remove_prefix(c1 + 1);
  const auto c2 = rest.find(':');
  if (c2 == std::string_view::npos) return malformed("truncated");
  auto nonce = unbase64(rest.substr(0, c2));
  auto data = unbase64(rest.substr(c2 + 1));
  if (!nonce || nonce->size() != kNonceBytes) return malformed("bad nonce");
  if (!data || data->size() < kTagBytes) return malformed("truncated ciphertext");
  const CredentialKey* key = nullptr;
  for (const auto& k : keys) {
    if (k.id == key_id) key = &k;
  }
  if (key == nullptr) return malformed("its key " + std::string(key_id) + " is not known");

  const std::string aad = additionalData(key_id);
  const std::size_t n = data->size() - kTagBytes;
  std::string plain(n, '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0;
  auto* in = reinterpret_cast<unsigned char*>(data->data());
  bool ok = ctx &&
            EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key->key.data(),
                               reinterpret_cast<const unsigned char*>(nonce->data())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                              reinterpret_cast<const unsigned char*>(aad.data()),
                              static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len, in,
                              static_cast<int>(n)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, in + n) == 1;
  int final_len = 0;
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len,
                                 &final_len) == 1;
  if (!ok) return malformed("authentication failed (wrong key, or the value was changed)");
  return plain;
}

}  // namespace atrium
