// The databases that store and API tests run on: the embedded SQLite, and a real PostgreSQL
// started once per test binary. Each test gets a database of its own.
#pragma once

#include <memory>
#include <string>

#include "support/pg_cluster.h"
#include "support/process.h"

namespace atrium::testing {

inline constexpr const char* kSqlite = "sqlite";
inline constexpr const char* kPostgres = "postgres";

// The PostgreSQL cluster shared by the tests of this binary, started on first use. A start
// failure fails the test that asked (with the server's log): PostgreSQL tests are never skipped.
PgCluster& sharedPostgres();

// A fresh database URL for one test: a new file under `dir` for SQLite, a new database on the
// shared cluster for PostgreSQL.
std::string freshDatabaseUrl(const std::string& backend, const std::filesystem::path& dir);

}  // namespace atrium::testing
