// Local passwords: argon2id hashes in the PHC string form ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"),
// with parameters chosen so one hash costs about 20-50 ms of CPU on a server core (OWASP's
// m=19 MiB, t=2, p=1). The encoded form carries its parameters, so hashes made with other
// parameters keep verifying after a change.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace atrium::people {

struct PasswordParams {
  std::uint32_t time_cost = 2;
  std::uint32_t memory_kib = 19 * 1024;
  std::uint32_t parallelism = 1;
};

inline constexpr std::size_t kMinPasswordChars = 12;
inline constexpr std::size_t kMaxPasswordChars = 1024;

// invalid_argument naming the rule when the password is too short or too long.
Status checkPasswordRules(std::string_view password);
// The encoded hash of `password` with a fresh random salt.
Result<std::string> hashPassword(std::string_view password, const PasswordParams& params = {});
// True when `password` matches `encoded`; false for a mismatch or an encoded hash that is not
// an argon2id one (an account with no local password).
bool verifyPassword(std::string_view encoded, std::string_view password);

}  // namespace atrium::people
