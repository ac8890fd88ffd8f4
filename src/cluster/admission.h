// What a node must share with its installation before it may serve, checked at start (right
// after the installation id) and at `atrium init`:
//  - the identity source (same-domain rule): the installation records the first source it saw
//    (identity.source and identity.base_dn, readable, with their fingerprint); a node with
//    another is refused with both named;
//  - the validation key (same-validation-key rule): a node with security.validation_key_file
//    is refused unless the file holds the installation's current key;
//  - the database shape (embedded-single rule): cluster.role = "standby" needs PostgreSQL.
// Refusals are kConflict / kInvalidArgument errors whose message says what to change.
#pragma once

#include <optional>
#include <string>

#include "common/result.h"
#include "config/config.h"
#include "store/cluster_store.h"
#include "store/database.h"

namespace atrium::cluster {

// The identity source a node uses: "database" or an LDAP URL with its base DN.
struct IdentitySource {
  std::string source;
  std::string base_dn;

  static IdentitySource of(const config::Config& cfg) {
    return {cfg.identity.source, cfg.identity.base_dn};
  }
  // sha256(source + "\n" + base_dn), as hex: what the node registry carries.
  std::string fingerprint() const;
  // "ldap://dc1.example.com (base DN dc=example,dc=com)" or "the database's own users".
  std::string describe() const;
};

// The installation's recorded identity source (settings key "identity-source"); nullopt before
// a node recorded one.
Result<std::optional<IdentitySource>> installationIdentitySource(store::Database& db);

// Records the node's identity source when the installation has none yet; refuses (kConflict,
// naming both sources) a node whose source differs from the recorded one.
Status checkIdentitySource(store::Database& db, const config::Config& cfg);

// Makes the installation's first validation key when it has none: the key in
// security.validation_key_file when one is set, else 32 random bytes. Returns the key made
// (nullopt when one existed).
Result<std::optional<store::ValidationKey>> ensureValidationKey(store::ClusterStore& cluster,
                                                                const config::Config& cfg);

// With security.validation_key_file set: refuses (kConflict) unless the file holds the
// installation's current key, naming both key fingerprints (and the current key's id).
Status checkValidationKeyFile(store::ClusterStore& cluster, const config::Config& cfg);

// Refuses cluster settings the database cannot serve: cluster.role = "standby" on SQLite.
Status checkDatabaseShape(store::Database& db, const config::Config& cfg);

// All of the above (shape, identity, first key made if none, key file): what ServerNode::start
// calls after the installation id.
Status admitNode(store::Database& db, store::ClusterStore& cluster, const config::Config& cfg);

// The fingerprint of the key this node signs with: its key file's when set, else "" (the
// installation's current key, see Keyring::currentFingerprint).
std::string keyFileFingerprint(const config::Config& cfg);

}  // namespace atrium::cluster
