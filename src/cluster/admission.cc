#include "cluster/admission.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "cluster/keyring.h"
#include "common/log.h"
#include "store/catalogue.h"

namespace atrium::cluster {
namespace {

constexpr const char* kIdentitySettingKey = "identity-source";

std::string sha256Hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return fmt::format("{:02x}", fmt::join(digest, digest + SHA256_DIGEST_LENGTH, ""));
}

Result<std::optional<IdentitySource>> parseIdentitySetting(const store::Rows& rows) {
  if (rows.empty()) return std::optional<IdentitySource>();
  auto j = nlohmann::json::parse(rows.text(0, 0), nullptr, false);
  if (!j.is_object() || !j.contains("source") || !j["source"].is_string()) {
    return Error::internal(
        "the installation's recorded identity source (settings key identity-source) is not "
        "readable");
  }
  return std::optional<IdentitySource>(
      IdentitySource{j["source"].get<std::string>(), j.value("base_dn", "")});
}

}  // namespace

std::string IdentitySource::fingerprint() const { return sha256Hex(source + "\n" + base_dn); }

std::string IdentitySource::describe() const {
  if (source == "database") return "the database's own users (identity.source = \"database\")";
  return fmt::format("{} with base DN \"{}\"", source, base_dn);
}

Result<std::optional<IdentitySource>> installationIdentitySource(store::Database& db) {
  auto pooled = db.acquire();
  if (!pooled) return pooled.error();
  auto rows = (**pooled).query(store::catalogueFor(db.dialect()).select_setting,
                               std::vector<store::Value>{std::string(kIdentitySettingKey)});
  if (!rows) return rows.error();
  return parseIdentitySetting(*rows);
}

Status checkIdentitySource(store::Database& db, const config::Config& cfg) {
  const IdentitySource mine = IdentitySource::of(cfg);
  const auto& cat = store::catalogueFor(db.dialect());
  auto pooled = db.acquire();
  if (!pooled) return pooled.error();
  store::Connection& conn = **pooled;
  // The first node records the source; the installation lock makes two first nodes agree.
  store::Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  if (!cat.lock_installation.empty()) {
    auto locked = conn.query(cat.lock_installation);
    if (!locked) return locked.error();
  }
  auto rows =
      conn.query(cat.select_setting, std::vector<store::Value>{std::string(kIdentitySettingKey)});
  if (!rows) return rows.error();
  auto recorded = parseIdentitySetting(*rows);
  if (!recorded) return recorded.error();
  if (!recorded->has_value()) {
    nlohmann::json value = {
        {"source", mine.source}, {"base_dn", mine.base_dn}, {"fingerprint", mine.fingerprint()}};
    auto r = conn.query(cat.upsert_setting,
                        std::vector<store::Value>{std::string(kIdentitySettingKey), value.dump()});
    if (!r) return r.error();
    ATRIUM_TRY(tx.commit());
    log::info("cluster.identity_recorded", {{"source", mine.source}, {"base_dn", mine.base_dn}});
    return okStatus();
  }
  const IdentitySource& theirs = **recorded;
  if (theirs.fingerprint() != mine.fingerprint()) {
    return Error::conflict(fmt::format(
        "this node's identity source is {}, but the installation's is {} (identity fingerprints {} "
        "and {}); every "
        "node of an installation must take its users from the same source: set identity.source and "
        "identity.base_dn in {} to the installation's",
        mine.describe(), theirs.describe(), mine.fingerprint().substr(0, 16),
        theirs.fingerprint().substr(0, 16), cfg.source.string()));
  }
  return okStatus();
}

Result<std::optional<store::ValidationKey>> ensureValidationKey(store::ClusterStore& cluster,
                                                                const config::Config& cfg) {
  auto keys = cluster.validationKeys();
  if (!keys) return keys.error();
  if (!keys->empty()) return std::optional<store::ValidationKey>();
  std::string secret;
  if (!cfg.security.validation_key_file.empty()) {
    auto from_file = readKeyFile(cfg.security.validation_key_file);
    if (!from_file) return from_file.error();
    secret = *from_file;
  } else {
    auto made = generateKeySecret();
    if (!made) return made.error();
    secret = *made;
  }
  auto key = cluster.rotateValidationKey(secret, 0);
  if (!key) return key.error();
  log::info("keys.created", {{"key", key->id}, {"fingerprint", keyFingerprint(key->secret_hex)}});
  return std::optional<store::ValidationKey>(*key);
}

std::string keyFileFingerprint(const config::Config& cfg) {
  if (cfg.security.validation_key_file.empty()) return {};
  auto secret = readKeyFile(cfg.security.validation_key_file);
  return secret ? keyFingerprint(*secret) : std::string();
}

Status checkValidationKeyFile(store::ClusterStore& cluster, const config::Config& cfg) {
  if (cfg.security.validation_key_file.empty()) return okStatus();
  auto secret = readKeyFile(cfg.security.validation_key_file);
  if (!secret) return secret.error();
  auto keys = cluster.validationKeys();
  if (!keys) return keys.error();
  if (keys->empty() || keys->front().retired_at) {
    return Error::conflict(
        "the installation has no current validation key to compare security.validation_key_file "
        "with; run `atrium db "
        "migrate` or `atrium keys rotate` first");
  }
  const auto& current = keys->front();
  const std::string mine = keyFingerprint(*secret);
  const std::string theirs = keyFingerprint(current.secret_hex);
  if (mine == theirs) return okStatus();
  std::string held_retired;
  for (const auto& k : *keys) {
    if (k.retired_at && keyFingerprint(k.secret_hex) == mine) held_retired = k.id;
  }
  return Error::conflict(fmt::format(
      "this node's validation key (security.validation_key_file {}, fingerprint {}) is not the "
      "installation's current "
      "key {} (fingerprint {}){}; tokens signed by one node would be refused by the other: put the "
      "current key in "
      "the file, or clear security.validation_key_file to use the key kept in the database",
      cfg.security.validation_key_file.string(), mine, current.id, theirs,
      held_retired.empty() ? ""
                           : fmt::format("; the file holds the retired key {}", held_retired)));
}

Status checkDatabaseShape(store::Database& db, const config::Config& cfg) {
  if (db.dialect() == store::Dialect::kSqlite &&
      cfg.cluster.role == config::Config::Cluster::Role::kStandby) {
    return Error::invalid(
        fmt::format("cluster.role = \"standby\" is set in {}, but the database {} is SQLite, which "
                    "serves one server only (embedded-single rule): a standby and an active node "
                    "need a PostgreSQL database shared by several servers; set database.url to "
                    "PostgreSQL or remove cluster.role",
                    cfg.source.string(), db.displayUrl()),
        "cluster.role");
  }
  return okStatus();
}

Status admitNode(store::Database& db, store::ClusterStore& cluster, const config::Config& cfg) {
  ATRIUM_TRY(checkDatabaseShape(db, cfg));
  ATRIUM_TRY(checkIdentitySource(db, cfg));
  auto made = ensureValidationKey(cluster, cfg);
  if (!made) return made.error();
  ATRIUM_TRY(checkValidationKeyFile(cluster, cfg));
  return okStatus();
}

}  // namespace atrium::cluster
