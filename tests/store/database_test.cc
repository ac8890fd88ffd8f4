// The Database: backend choice by URL, the SQLite process lock, the pool, and behaviour when
// PostgreSQL is a replica or goes away and comes back. Uses real PostgreSQL servers.
#include "store/database.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/clock.h"
#include "common/ids.h"
#include "store/postgres/pg_database.h"
#include "store/store.h"
#include "support/pg_cluster.h"

namespace atrium::store {
namespace {

namespace fs = std::filesystem;
using testing::PgCluster;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct SharedPostgres {
  std::unique_ptr<PgCluster> cluster;
  std::string error;
};

SharedPostgres& sharedPostgres() {
  static SharedPostgres shared = [] {
    SharedPostgres s;
    auto started = PgCluster::start();
    if (started.ok()) {
      s.cluster = std::move(started).value();
    } else {
      s.error = started.error().message;
    }
    return s;
  }();
  return shared;
}

#define REQUIRE_POSTGRES()              \
  ASSERT_TRUE(sharedPostgres().cluster) \
      << "PostgreSQL could not be started: " << sharedPostgres().error

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("atrium-db-" + newUuid())) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Polls `condition` until it holds or the deadline passes.
template <typename F>
bool eventually(F condition, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return condition();
}

// ---- URLs --------------------------------------------------------------------------------

TEST(DatabaseUrl, UnrecognisedUrlNamesTheAcceptedForms) {
  auto db = Database::open("mysql://root@localhost/atrium");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(db.error().message.find("sqlite:PATH"), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find("postgresql://"), std::string::npos) << db.error().message;
}

TEST(DatabaseUrl, SqliteForms) {
  TempDir dir;
  const std::string abs = (dir.path() / "a.db").string();
  auto a = Database::open("sqlite://" + abs);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ((*a)->dialect(), Dialect::kSqlite);
  EXPECT_EQ((*a)->lockPath(), abs + ".lock");
  EXPECT_EQ((*a)->displayUrl(), "sqlite:" + abs);
  EXPECT_EQ((*a)->stats().size, 1u);  // SQLite: one connection

  auto relative = Database::open("sqlite://relative.db");
  ASSERT_FALSE(relative.ok());
  EXPECT_EQ(relative.error().code, ErrorCode::kInvalidArgument);

  auto missing = Database::open("sqlite:" + (dir.path() / "no-such-dir" / "a.db").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos)
      << missing.error().message;
  EXPECT_FALSE(fs::exists(dir.path() / "no-such-dir"));
}

TEST(DatabaseUrl, PostgresPasswordIsRedacted) {
  EXPECT_EQ(redactPostgresUrl("postgresql://atrium:s3cret@db1:5432,db2:5432/atrium"),
            "postgresql://atrium:***@db1:5432,db2:5432/atrium");
  EXPECT_EQ(redactPostgresUrl("postgres://db1/atrium?user=a&password=s3cret&sslmode=require"),
            "postgres://db1/atrium?user=a&password=***&sslmode=require");
  EXPECT_EQ(redactPostgresUrl("host=db1,db2 password='s3 cret' dbname=atrium"),
            "host=db1,db2 password=*** dbname=atrium");
  EXPECT_EQ(redactPostgresUrl("postgresql://atrium@db1/atrium"), "postgresql://atrium@db1/atrium");

  auto db = Database::open(
      "postgresql://atrium:s3cret@db1:5432,db2:5432/atrium?target_session_attrs=read-write");
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ((*db)->dialect(), Dialect::kPostgres);
  EXPECT_EQ((*db)->displayUrl().find("s3cret"), std::string::npos);
  auto bad = Database::open("host=db1 nonsense_option=1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

// ---- SQLite lock and pool ----------------------------------------------------------------

TEST(SqliteDatabase, SecondOpenOfTheSameFileIsRefused) {
  TempDir dir;
  const std::string path = (dir.path() / "atrium.db").string();
  auto first = Database::open("sqlite:" + path);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE((*first)->checkWritable().ok());

  const std::string expected = fmt::format(
      "the SQLite database {} is in use by another Atrium process (lock {}.lock held); SQLite "
      "serves one server only — running several servers needs PostgreSQL",
      path, path);
  auto second = Database::open("sqlite:" + path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  EXPECT_EQ(second.error().message, expected);

  // Another process is refused too.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto other = Database::open("sqlite:" + path);
    ::_exit(!other.ok() && other.error().code == ErrorCode::kConflict ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  // Released with the Database.
  first->reset();
  auto third = Database::open("sqlite:" + path);
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_TRUE((*third)->checkWritable().ok());
  EXPECT_TRUE((*third)->ready());
}

TEST(SqliteDatabase, AcquireWaitsForTheOneConnection) {
  TempDir dir;
  DatabaseOptions options;
  options.acquire_timeout = milliseconds(200);
  auto db = Database::open("sqlite:" + (dir.path() / "atrium.db").string(), options);
  ASSERT_TRUE(db.ok()) << db.error().message;
  {
    auto held = (*db)->acquire();
    ASSERT_TRUE(held.ok()) << held.error().message;
    const auto t0 = Clock::now();
    auto starved = (*db)->acquire();
    ASSERT_FALSE(starved.ok());
    EXPECT_EQ(starved.error().code, ErrorCode::kUnavailable);
    EXPECT_GE(Clock::now() - t0, milliseconds(150));
    EXPECT_EQ((*db)->stats().acquire_timeouts, 1u);
    EXPECT_EQ((*db)->stats().in_use, 1u);
  }
  // A waiter gets the connection as soon as it is returned (well within its 200 ms).
  auto held = std::make_unique<Result<PooledConnection>>((*db)->acquire());
  ASSERT_TRUE(held->ok());
  std::thread releaser([&] {
    std::this_thread::sleep_for(milliseconds(50));
    held.reset();
  });
  auto waited = (*db)->acquire();
  releaser.join();
  EXPECT_TRUE(waited.ok());
}

// ---- PostgreSQL --------------------------------------------------------------------------

TEST(PostgresDatabase, PasswordUrlAndKeyValueFormsConnect) {
  REQUIRE_POSTGRES();
  PgCluster& pg = *sharedPostgres().cluster;
  auto with_password = Database::open(pg.urlWithPassword());
  ASSERT_TRUE(with_password.ok()) << with_password.error().message;
  EXPECT_EQ((*with_password)->displayUrl().find(pg.password()), std::string::npos);
  auto s = (*with_password)->checkWritable();
  EXPECT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE((*with_password)->ready());

  auto kv = Database::open(fmt::format(
      "host=127.0.0.1 port={} user=atrium password={} dbname=atrium", pg.port(), pg.password()));
  ASSERT_TRUE(kv.ok()) << kv.error().message;
  EXPECT_EQ((*kv)->displayUrl().find(pg.password()), std::string::npos);
  s = (*kv)->checkWritable();
  EXPECT_TRUE(s.ok()) << s.error().message;
  auto conn = (*kv)->acquire();
  ASSERT_TRUE(conn.ok());
  auto app = (**conn).query("SELECT current_setting('application_name')");
  ASSERT_TRUE(app.ok()) << app.error().message;
  EXPECT_EQ(app->text(0, 0), "atrium");
}

TEST(PostgresDatabase, ReadOnlyReplicaIsRefused) {
  REQUIRE_POSTGRES();
  PgCluster& pg = *sharedPostgres().cluster;
  auto replica = pg.startReplica();
  ASSERT_TRUE(replica.ok()) << replica.error().message << "\n" << pg.logText();

  auto db = Database::open((*replica)->url());
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto s = (*db)->checkWritable();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kReadOnly);
  EXPECT_EQ(s.error().message,
            fmt::format("the PostgreSQL server at {} is a read-only replica (in recovery); Atrium "
                        "needs the primary",
                        (*replica)->url()));
  EXPECT_FALSE((*db)->ready());

  // Writes on the replica map to kReadOnly too.
  auto conn = (*db)->acquire();
  ASSERT_TRUE(conn.ok()) << conn.error().message;
  auto write = (**conn).query("CREATE TABLE t (x int)");
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, ErrorCode::kReadOnly) << write.error().message;

  auto primary = Database::open(pg.url());
  ASSERT_TRUE(primary.ok());
  EXPECT_TRUE((*primary)->checkWritable().ok());
}

TEST(PostgresDatabase, ConcurrentMigrationsTakeTurns) {
  REQUIRE_POSTGRES();
  PgCluster& pg = *sharedPostgres().cluster;
  ASSERT_TRUE(pg.createDatabase("concurrent_migrate").ok());
  FakeClock clock;
  constexpr int kProcesses = 4;
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < kProcesses; ++i) {
    auto db = Database::open(pg.url("concurrent_migrate"));
    ASSERT_TRUE(db.ok());
    dbs.push_back(std::move(db).value());
  }
  std::vector<Result<int>> results(kProcesses, Error::internal("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kProcesses; ++i) {
    threads.emplace_back([&, i] {
      Store store(*dbs[static_cast<std::size_t>(i)], clock);
      results[static_cast<std::size_t>(i)] = store.migrate();
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, latestSchemaVersion());
  }
  auto rows = pg.sql("SELECT count(*) FROM schema_version", "concurrent_migrate");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(*rows, std::to_string(latestSchemaVersion()));
}

// Stops the server under a live Database, then brings it back: requests fail fast while it is
// gone, and the same Database recovers on its own.
TEST(PostgresDatabase, LossIsFastUnavailableAndRecoveryNeedsNoNewObject) {
  auto started = PgCluster::start();
  ASSERT_TRUE(started.ok()) << "PostgreSQL could not be started: " << started.error().message;
  PgCluster& pg = **started;

  DatabaseOptions options;
  options.pool_size = 2;
  options.connect_timeout = milliseconds(2000);
  options.reconnect_min = milliseconds(1000);
  options.reconnect_max = milliseconds(2000);
  auto opened = Database::open(pg.url(), options);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Database& db = **opened;
  ASSERT_TRUE(db.checkWritable().ok());
  {
    // Two open connections in the pool.
    auto a = db.acquire();
    auto b = db.acquire();
    ASSERT_TRUE(a.ok() && b.ok());
  }
  EXPECT_EQ(db.stats().open, 2u);
  EXPECT_TRUE(db.ready());

  for (bool immediate : {false, true}) {
    SCOPED_TRACE(immediate ? "immediate shutdown" : "fast shutdown");
    ASSERT_TRUE((immediate ? pg.kill() : pg.stop()).ok()) << pg.logText();

    auto t0 = Clock::now();
    auto lost = db.checkWritable();
    ASSERT_FALSE(lost.ok());
    EXPECT_EQ(lost.error().code, ErrorCode::kUnavailable) << lost.error().message;
    EXPECT_LT(Clock::now() - t0, options.connect_timeout + milliseconds(1000));
    EXPECT_FALSE(db.ready());

    // Within the backoff, a request fails at once without trying to connect.
    t0 = Clock::now();
    auto in_backoff = db.acquire();
    ASSERT_FALSE(in_backoff.ok());
    EXPECT_EQ(in_backoff.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(Clock::now() - t0, milliseconds(100));

    // While the server is down, every request fails fast: no hang.
    for (int i = 0; i < 5; ++i) {
      t0 = Clock::now();
      auto conn = db.acquire();
      ASSERT_FALSE(conn.ok());
      EXPECT_EQ(conn.error().code, ErrorCode::kUnavailable);
      EXPECT_LT(Clock::now() - t0, options.connect_timeout + milliseconds(1000));
    }
    auto fast = db.acquire();
    ASSERT_FALSE(fast.ok());
    EXPECT_NE(fast.error().message.find("database unavailable: "), std::string::npos)
        << fast.error().message;
    EXPECT_NE(fast.error().message.find("; retrying"), std::string::npos) << fast.error().message;
    EXPECT_GE(db.stats().connect_failures, 1u);
    EXPECT_EQ(db.stats().in_use, 0u);

    ASSERT_TRUE(pg.startAgain().ok()) << pg.logText();
    EXPECT_TRUE(eventually([&] { return db.checkWritable().ok(); }, milliseconds(20000)))
        << pg.logText();
    EXPECT_TRUE(db.ready());
    auto conn = db.acquire();
    ASSERT_TRUE(conn.ok()) << conn.error().message;
    auto r = (**conn).query("SELECT $1::int + 1", std::vector<Value>{std::int64_t{41}});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->integer(0, 0), 42);
  }
}

}  // namespace
}  // namespace atrium::store
