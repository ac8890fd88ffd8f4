#include "cluster/keyring.h"

#include <fmt/format.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "common/log.h"

namespace atrium::cluster {
namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr char kHexDigits[] = "0123456789abcdef";

std::string toHex(const unsigned char* data, std::size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kHexDigits[data[i] >> 4]);
    out.push_back(kHexDigits[data[i] & 0x0f]);
  }
  return out;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isCurrent(const store::ValidationKey& k) { return !k.retired_at.has_value(); }

}  // namespace

Result<std::string> keyBytes(std::string_view secret_hex) {
  if (secret_hex.size() != 2 * kKeyBytes) {
    return Error::invalid(
        fmt::format("a validation key is {} hex digits, not {}", 2 * kKeyBytes, secret_hex.size()));
  }
  std::string out(kKeyBytes, '\0');
  for (std::size_t i = 0; i < kKeyBytes; ++i) {
    int hi = hexValue(secret_hex[2 * i]);
    int lo = hexValue(secret_hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Error::invalid("a validation key is hex digits only (0-9, a-f)");
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

std::string keyFingerprint(std::string_view secret_hex) {
  auto bytes = keyBytes(secret_hex);
  // A malformed key still gets a stable fingerprint (of its text), so mismatches stay visible.
  const std::string& input = bytes ? *bytes : std::string(secret_hex);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return toHex(digest, SHA256_DIGEST_LENGTH).substr(0, 16);
}

Result<std::string> generateKeySecret() {
  unsigned char buf[kKeyBytes];
  if (RAND_bytes(buf, sizeof(buf)) != 1)
    return Error::internal("OpenSSL RAND_bytes failed to make a validation key");
  return toHex(buf, sizeof(buf));
}

Result<std::string> readKeyFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return Error::invalid(
        fmt::format("security.validation_key_file {} cannot be read", path.string()),
        "security.validation_key_file");
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  auto first = text.find_first_not_of(" \t\r\n");
  auto last = text.find_last_not_of(" \t\r\n");
  text = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto bytes = keyBytes(text); !bytes) {
    return Error::invalid(
        fmt::format("security.validation_key_file {} does not hold a validation key: {}",
                    path.string(), bytes.error().message),
        "security.validation_key_file");
  }
  return text;
}

Keyring::Keyring(store::ClusterStore& store, const Clock& clock, KeyringOptions options)
    : store_(store), clock_(clock), options_(options) {}

Keyring::~Keyring() { stop(); }

void Keyring::start() {
  std::lock_guard lock(mu_);
  if (refresher_.joinable()) return;
  stopping_ = false;
  refresher_ = std::thread([this] {
    std::unique_lock held(mu_);
    while (!cv_.wait_for(held, options_.refresh, [this] { return stopping_; })) {
      (void)refreshIfStaleLocked();
    }
  });
}

void Keyring::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

Status Keyring::reload() {
  std::lock_guard lock(mu_);
  return reloadLocked();
}

Status Keyring::reloadLocked() {
  auto keys = store_.validationKeys();
  if (!keys) return keys.error();
  auto now = store_.databaseNow();
  if (!now) return now.error();
  const std::string before = keys_.empty() ? std::string() : keys_.front().id;
  keys_ = std::move(*keys);
  db_now_at_load_ = *now;
  loaded_at_ = clock_.monotonic();
  loaded_ = true;
  {
    std::lock_guard lock(fingerprint_mu_);
    fingerprint_ = keys_.empty() || !isCurrent(keys_.front())
                       ? std::string()
                       : keyFingerprint(keys_.front().secret_hex);
  }
  if (!keys_.empty() && keys_.front().id != before && !before.empty()) {
    log::info("keys.reloaded", {{"current_key", keys_.front().id},
                                {"fingerprint", keyFingerprint(keys_.front().secret_hex)}});
  }
  return okStatus();
}

Status Keyring::refreshIfStaleLocked() {
  if (loaded_ && clock_.monotonic() - loaded_at_ < options_.refresh) return okStatus();
  Status s = reloadLocked();
  // A database hiccup does not stop verification with the keys already loaded.
  if (!s && loaded_) {
    log::warn("keys.reload_failed", {{"reason", s.error().message}});
    return okStatus();
  }
  return s;
}

std::int64_t Keyring::dbNowLocked() const {
  auto since =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.monotonic() - loaded_at_);
  return db_now_at_load_ + since.count();
}

Result<store::ValidationKey> Keyring::current() {
  std::lock_guard lock(mu_);
  ATRIUM_TRY(refreshIfStaleLocked());
  if (keys_.empty() || !isCurrent(keys_.front())) {
    return Error::unavailable(
        "the installation has no validation key yet; run `atrium keys rotate` (or `atrium db "
        "migrate`) to make one");
  }
  return keys_.front();
}

Result<std::optional<store::ValidationKey>> Keyring::find(const std::string& id) {
  std::lock_guard lock(mu_);
  ATRIUM_TRY(refreshIfStaleLocked());
  auto lookup = [&]() -> std::optional<store::ValidationKey> {
    const std::int64_t now = dbNowLocked();
    for (const auto& k : keys_) {
      if (k.id != id) continue;
      if (isCurrent(k)) return k;
      if (k.valid_until && *k.valid_until > now) return k;
      return std::nullopt;
    }
    return std::nullopt;
  };
  if (auto k = lookup()) return k;
  bool known = false;
  for (const auto& k : keys_) known = known || k.id == id;
  // A key never seen here may be one another node just made: reload, but not on every request.
  if (!known && clock_.monotonic() - last_miss_reload_ >= options_.min_reload) {
    last_miss_reload_ = clock_.monotonic();
    ATRIUM_TRY(reloadLocked());
    return lookup();
  }
  return std::optional<store::ValidationKey>();
}

Result<std::int64_t> Keyring::databaseNow() {
  std::lock_guard lock(mu_);
  ATRIUM_TRY(refreshIfStaleLocked());
  return dbNowLocked();
}

std::string Keyring::currentFingerprint() const {
  std::lock_guard lock(fingerprint_mu_);
  return fingerprint_;
}

}  // namespace atrium::cluster
