#include "store/system_credentials.h"

#include <fmt/format.h>

#include <algorithm>

namespace atrium::store {

namespace {

// The same text in both dialects.
constexpr std::string_view kSelectAllKeys =
    "SELECT id, secret_hex FROM validation_keys ORDER BY (retired_at IS NULL) DESC, created_at "
    "DESC";
constexpr std::string_view kSelectStoredPasswords =
    "SELECT id, password FROM systems WHERE password <> ''";
constexpr std::string_view kUpdateStoredPassword =
    "UPDATE systems SET password = $2 WHERE id = $1 AND password = $3";

}  // namespace

Result<std::vector<CredentialKey>> loadCredentialKeys(Connection& conn) {
  // PostgreSQL: FOR SHARE makes a write that seals with these keys and a rotation (which locks the
  // table and retires the current key) wait for each other, so a rotation never misses a value
  // sealed under the key it retires. SQLite's write transactions are serial already.
  const std::string sql = conn.dialect() == Dialect::kPostgres
                              ? std::string(kSelectAllKeys) + " FOR SHARE"
                              : std::string(kSelectAllKeys);
  auto r = conn.query(sql);
  if (!r.ok()) return r.error();
  std::vector<CredentialKey> keys;
  keys.reserve(r->size());
  for (std::size_t i = 0; i < r->size(); ++i) {
    auto key = deriveCredentialKeyFromHex(r->text(i, 0), r->text(i, 1));
    if (!key)
      return Error::internal(
          fmt::format("validation key {} is not hex in the database", r->text(i, 0)));
    keys.push_back(std::move(*key));
  }
  return keys;
}

Result<std::string> sealForStorage(Connection& conn, std::string_view password) {
  if (password.empty() || isSealedCredential(password)) return std::string(password);
  auto keys = loadCredentialKeys(conn);
  if (!keys.ok()) return keys.error();
  // No key yet (a database not migrated to keys): kept as given; the key's creation seals it
  // (ClusterStore::rotateValidationKey runs resealSystemPasswords).
  if (keys->empty()) return std::string(password);
  return sealCredential(keys->front(), password);
}

Result<std::size_t> resealSystemPasswords(Connection& conn) {
  auto keys = loadCredentialKeys(conn);
  if (!keys.ok()) return keys.error();
  if (keys->empty()) return std::size_t{0};
  const CredentialKey& current = keys->front();
  auto rows = conn.query(kSelectStoredPasswords);
  if (!rows.ok()) return rows.error();
  std::size_t rewritten = 0;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const std::string id = rows->text(i, 0);
    const std::string stored = rows->text(i, 1);
    if (sealedCredentialKeyId(stored) == current.id) continue;
    std::string clear = stored;
    if (isSealedCredential(stored)) {
      auto opened = openCredential(*keys, stored);
      if (!opened.ok()) {
        return Error::internal(
            fmt::format("system {}: its stored password cannot be re-encrypted: {}", id,
                        opened.error().message));
      }
      clear = std::move(*opened);
    }
    auto sealed = sealCredential(current, clear);
    if (!sealed.ok()) return sealed.error();
    // Only if nobody changed it meanwhile (then the new value was sealed by its writer).
    auto r = conn.query(kUpdateStoredPassword, std::vector<Value>{id, *sealed, stored});
    if (!r.ok()) return r.error();
    ++rewritten;
  }
  return rewritten;
}

Result<std::string> CredentialOpener::open(std::string_view stored) {
  if (!isSealedCredential(stored)) return std::string(stored);
  const auto id = sealedCredentialKeyId(stored);
  std::lock_guard lock(mu_);
  const bool known =
      id && std::any_of(keys_.begin(), keys_.end(), [&](const auto& k) { return k.id == *id; });
  if (!known) {
    auto pooled = db_.acquire();
    if (!pooled.ok()) return pooled.error();
    auto keys = loadCredentialKeys(**pooled);
    if (!keys.ok()) return keys.error();
    keys_ = std::move(*keys);
  }
  return openCredential(keys_, stored);
}

}  // namespace atrium::store
