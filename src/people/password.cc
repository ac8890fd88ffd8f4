#include "people/password.h"

#include <argon2.h>
#include <openssl/rand.h>

#include <array>
#include <string>

#include <fmt/format.h>

namespace atrium::people {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

}  // namespace

Status checkPasswordRules(std::string_view password) {
  if (password.size() < kMinPasswordChars) {
    return Error::invalid(fmt::format("a password needs at least {} characters", kMinPasswordChars), "password");
  }
  if (password.size() > kMaxPasswordChars) {
    return Error::invalid(fmt::format("a password has at most {} characters", kMaxPasswordChars), "password");
  }
  return okStatus();
}

Result<std::string> hashPassword(std::string_view password, const PasswordParams& params) {
  std::array<unsigned char, kSaltBytes> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Error::internal("the system's random number generator failed");
  }
  const std::size_t length = argon2_encodedlen(params.time_cost, params.memory_kib, params.parallelism,
                                               kSaltBytes, kHashBytes, Argon2_id);
  std::string encoded(length, '\0');
  const int rc = argon2id_hash_encoded(params.time_cost, params.memory_kib, params.parallelism, password.data(),
                                       password.size(), salt.data(), salt.size(), kHashBytes, encoded.data(),
                                       encoded.size());
  if (rc != ARGON2_OK) return Error::internal(std::string("argon2id failed: ") + argon2_error_message(rc));
  encoded.resize(encoded.find('\0') == std::string::npos ? encoded.size() : encoded.find('\0'));
  return encoded;
}

bool verifyPassword(std::string_view encoded, std::string_view password) {
  if (encoded.rfind("$argon2id$", 0) != 0) return false;
  const std::string text(encoded);  // argon2 wants a NUL-terminated string
  return argon2id_verify(text.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace atrium::people
