#include "app/key_commands.h"

#include <fmt/format.h>

#include <cstdio>

#include "app/node.h"
#include "cluster/keyring.h"
#include "store/cluster_store.h"

namespace atrium::app {

int runKeysRotate(const config::Config& cfg, std::chrono::hours grace,
                  const std::filesystem::path& from_file, const Clock& clock) {
  auto fail = [](const Error& e) {
    std::fprintf(stderr, "atrium: %s\n", e.message.c_str());
    return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kInternal ? kExitFailure
                                                                               : kExitRefused;
  };
  // The running node (if any) keeps serving: on SQLite the rotation is one short transaction
  // beside it, on PostgreSQL it is like any other client. Every node reloads the keys within a
  // heartbeat or so.
  store::DatabaseOptions options = databaseOptions(cfg);
  options.beside_running_server = true;
  auto db = store::Database::open(cfg.database.url, options);
  if (!db) return fail(db.error());
  store::Store store(**db, clock);
  if (auto s = store.checkSchema(); !s) return fail(s.error());
  if (auto inst = store.installation(); !inst) return fail(inst.error());
  std::string secret;
  if (!from_file.empty()) {
    auto read = cluster::readKeyFile(from_file);
    if (!read) return fail(read.error());
    secret = *read;
  } else {
    auto made = cluster::generateKeySecret();
    if (!made) return fail(made.error());
    secret = *made;
  }
  store::ClusterStore cluster(**db);
  auto before = cluster.validationKeys();
  if (!before) return fail(before.error());
  const auto grace_ms = std::chrono::duration_cast<std::chrono::milliseconds>(grace).count();
  auto key = cluster.rotateValidationKey(secret, grace_ms);
  if (!key) return fail(key.error());
  std::printf("the installation's current validation key is now %s (fingerprint %s)\n",
              key->id.c_str(), cluster::keyFingerprint(key->secret_hex).c_str());
  if (!before->empty() && !before->front().retired_at) {
    const auto& previous = before->front();
    if (grace.count() > 0) {
      std::printf(
          "the previous key %s stays valid for %lld hour(s): tokens it signed are accepted until "
          "then\n",
          previous.id.c_str(), static_cast<long long>(grace.count()));
    } else {
      std::printf("the previous key %s is no longer accepted: tokens it signed are refused\n",
                  previous.id.c_str());
    }
  }
  if (!cfg.security.validation_key_file.empty() && from_file.empty()) {
    std::printf(
        "nodes with security.validation_key_file need the new key in that file (atrium keys rotate "
        "--from-file makes the file's key the current one)\n");
  }
  return kExitOk;
}

int printClusterCheck(const nlohmann::json& report) {
  std::size_t width = 0;
  for (const auto& c : report["checks"]) width = std::max(width, c.value("id", "").size());
  int failed = 0;
  for (const auto& c : report["checks"]) {
    const std::string status = c.value("status", "");
    const char* mark = status == "pass"   ? "ok  "
                       : status == "fail" ? "FAIL"
                       : status == "warn" ? "warn"
                                          : "n/a ";
    if (status == "fail") ++failed;
    std::printf("%s  %-*s  %s\n", mark, static_cast<int>(width), c.value("id", "").c_str(),
                c.value("message", "").c_str());
  }
  if (failed > 0) {
    std::printf("%d of %zu checks failed (checked at %s)\n", failed, report["checks"].size(),
                report.value("checked_at", "").c_str());
    return kExitFailure;
  }
  std::printf("all %zu checks pass (checked at %s)\n", report["checks"].size(),
              report.value("checked_at", "").c_str());
  return kExitOk;
}

}  // namespace atrium::app
