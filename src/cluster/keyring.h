// The installation's validation keys as one node holds them: loaded from the database (the
// current key signs, retired keys within their grace period still verify), reloaded every
// refresh interval and, rate-limited, when a token names a key this node has not seen yet, so a
// key rotated on any node (or by `atrium keys rotate`) is honoured by all within seconds.
//
// Grace periods are judged on the database clock (estimated between reloads from the node's
// monotonic clock), never on the node's own clock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/cluster_store.h"

namespace atrium::cluster {

// What the node registry and diagnostics compare: the first 16 hex digits of SHA-256 over the
// key's 32 bytes. Shows whether two nodes hold the same key without showing the key.
std::string keyFingerprint(std::string_view secret_hex);

// A new key: 32 random bytes (OpenSSL RAND_bytes) as 64 lower-case hex digits.
Result<std::string> generateKeySecret();

// The key bytes of 64 hex digits; kInvalidArgument otherwise.
Result<std::string> keyBytes(std::string_view secret_hex);

// Reads a validation key file (64 hex digits, surrounding white space ignored). The message of
// an error names the file and what is wrong with it.
Result<std::string> readKeyFile(const std::filesystem::path& path);

struct KeyringOptions {
  std::chrono::milliseconds refresh{5000};     // keys older than this are reloaded when used
  std::chrono::milliseconds min_reload{1000};  // reloads for an unknown key id, at most this often
};

class Keyring {
 public:
  Keyring(store::ClusterStore& store, const Clock& clock, KeyringOptions options = {});
  ~Keyring();
  Keyring(const Keyring&) = delete;
  Keyring& operator=(const Keyring&) = delete;

  // Reloads every refresh interval on a thread of its own, so currentFingerprint() (what the
  // node registry reports) follows a rotation even while no token is signed or verified.
  void start();
  void stop();

  // Loads the keys now.
  Status reload();
  // The key to sign with; kUnavailable when the installation has none or the database cannot
  // be read and nothing was loaded before.
  Result<store::ValidationKey> current();
  // A key that may verify a token: the current one, or a retired one within its grace period.
  // nullopt when no such key exists (after a rate-limited reload for an id never seen).
  Result<std::optional<store::ValidationKey>> find(const std::string& id);
  // The database clock now, estimated from the last reload (ms since the epoch).
  Result<std::int64_t> databaseNow();
  // The fingerprint of the current key at the last load ("" before one). Never waits for the
  // database.
  std::string currentFingerprint() const;

 private:
  Status reloadLocked();
  Status refreshIfStaleLocked();
  std::int64_t dbNowLocked() const;

  store::ClusterStore& store_;
  const Clock& clock_;
  KeyringOptions options_;
  mutable std::mutex mu_;
  bool loaded_ = false;
  std::vector<store::ValidationKey> keys_;  // current first
  std::int64_t db_now_at_load_ = 0;
  std::chrono::steady_clock::time_point loaded_at_{};
  std::chrono::steady_clock::time_point last_miss_reload_{};
  mutable std::mutex fingerprint_mu_;  // apart from mu_, which is held during reloads
  std::string fingerprint_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace atrium::cluster
