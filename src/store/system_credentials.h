// Managed systems' management passwords at rest: sealed (common/credential_cipher.h) under the
// installation's current validation key whenever they are written, opened only where a driver
// needs them. System::password carries the stored form everywhere in memory; DeviceStore's
// systemPassword() gives the clear one to the poller, the event reactor and the tasks.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/credential_cipher.h"
#include "common/result.h"
#include "store/database.h"
#include "store/sql.h"

namespace atrium::store {

// Every validation key of the installation as a credential key, the current one first (retired
// keys too, expired or not: they stay able to open what was sealed under them).
Result<std::vector<CredentialKey>> loadCredentialKeys(Connection& conn);

// The stored form of a password: sealed under the current key. Empty stays empty; an already
// sealed value is kept. Without any validation key yet (a database not yet given one), kept as
// given: the first key's creation seals it.
Result<std::string> sealForStorage(Connection& conn, std::string_view password);

// Seals every stored password that is in clear (a legacy value) or under another key than the
// current one, with `conn` inside the caller's transaction or alone. Idempotent. The number of
// values rewritten.
Result<std::size_t> resealSystemPasswords(Connection& conn);

// Opens stored passwords, keeping the keys it read (read again when a value names a key it does
// not hold). Thread-safe.
class CredentialOpener {
 public:
  explicit CredentialOpener(Database& db) : db_(db) {}
  // The clear password: "" for "", a legacy clear value as it is, a sealed one opened.
  Result<std::string> open(std::string_view stored);

 private:
  Database& db_;
  std::mutex mu_;
  std::vector<CredentialKey> keys_;
};

}  // namespace atrium::store
