#include "support/backends.h"

#include <atomic>
#include <mutex>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace atrium::testing {

PgCluster& sharedPostgres() {
  static std::once_flag once;
  static std::unique_ptr<PgCluster> cluster;
  static std::string failure;
  std::call_once(once, [] {
    auto started = PgCluster::start();
    if (started) {
      cluster = std::move(*started);
    } else {
      failure = started.error().message;
    }
  });
  if (!cluster) {
    ADD_FAILURE() << "PostgreSQL could not be started: " << failure;
    throw std::runtime_error("PostgreSQL could not be started: " + failure);
  }
  return *cluster;
}

std::string freshDatabaseUrl(const std::string& backend, const std::filesystem::path& dir) {
  if (backend == kSqlite) return "sqlite:" + (dir / "atrium.db").string();
  static std::atomic<int> counter{0};
  std::string name = fmt::format("t{}_{}", ::getpid(), counter++);
  auto& pg = sharedPostgres();
  auto s = pg.createDatabase(name);
  if (!s) throw std::runtime_error("cannot create database " + name + ": " + s.error().message);
  return pg.url(name);
}

}  // namespace atrium::testing
