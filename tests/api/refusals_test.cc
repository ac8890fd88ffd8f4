// What a node refuses at start, with real processes: a second server on one SQLite file, a
// database holding another installation, a read-only PostgreSQL replica, an unknown schema, and
// bad configuration.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "support/atrium_node.h"
#include "support/backends.h"

namespace atrium::testing {
namespace {

constexpr int kExitRefused = 2;

TEST(RefusalTest, SecondServerOnOneSqliteFileIsRefused) {
  TempDir tmp;
  const std::string url = "sqlite:" + (tmp.path() / "shared.db").string();
  AtriumNode first(tmp.path() / "a", {.database_url = url, .name = "a"});
  AtriumNode second(tmp.path() / "b", {.database_url = url, .name = "b"});
  ASSERT_EQ(first.init().exit_code, 0);
  ASSERT_EQ(second.init().exit_code, 0);  // same installation, no server running yet
  ASSERT_TRUE(first.start().ok()) << first.log();

  auto refused = second.start(std::chrono::seconds(10));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("exited with code 2"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("PostgreSQL"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("shared.db"), std::string::npos) << refused.error().message;
  // The first server is untouched.
  EXPECT_EQ(first.http("GET", "/readyz")->status, 200u);
  // Migrations are refused too while the server holds the file.
  auto migrate = second.run({"db", "migrate", "--config", second.configPath().string()});
  EXPECT_NE(migrate.exit_code, 0);
  EXPECT_NE(migrate.output.find("PostgreSQL"), std::string::npos) << migrate.output;

  // Once the first stops, the second may run.
  ASSERT_EQ(first.stop().value_or(-1), 0) << first.log();
  ASSERT_TRUE(second.start().ok()) << second.log();
}

void expectForeignInstallationRefused(const std::string& url_a, const std::string& url_b,
                                      const std::filesystem::path& dir) {
  AtriumNode node_a(dir / "a", {.database_url = url_a, .name = "a"});
  auto init_a = node_a.init("Installation A");
  ASSERT_EQ(init_a.exit_code, 0) << init_a.output;
  AtriumNode node_b(dir / "b", {.database_url = url_b, .name = "b"});
  auto init_b = node_b.init("Installation B");
  ASSERT_EQ(init_b.exit_code, 0) << init_b.output;

  // Node a's data dir now points at database b (as if database.url were edited by mistake).
  AtriumNode moved(dir / "a", {.database_url = url_b, .name = "a"});
  auto started = moved.start(std::chrono::seconds(10));
  ASSERT_FALSE(started.ok());
  const auto& msg = started.error().message;
  EXPECT_NE(msg.find("exited with code 2"), std::string::npos) << msg;
  // The message names both installations.
  auto id_of = [](const std::string& out) {
    auto pos = out.find("installation ");
    return out.substr(pos + 13, 36);
  };
  EXPECT_NE(msg.find(id_of(init_a.output)), std::string::npos) << msg << "\n" << init_a.output;
  EXPECT_NE(msg.find(id_of(init_b.output)), std::string::npos) << msg << "\n" << init_b.output;
  // init refuses the same way.
  auto init_again = moved.init();
  EXPECT_EQ(init_again.exit_code, kExitRefused) << init_again.output;
}

TEST(RefusalTest, ForeignInstallationOnSqliteIsRefused) {
  TempDir tmp;
  expectForeignInstallationRefused("sqlite:" + (tmp.path() / "a.db").string(),
                                   "sqlite:" + (tmp.path() / "b.db").string(), tmp.path());
}

TEST(RefusalTest, ForeignInstallationOnPostgresIsRefused) {
  TempDir tmp;
  expectForeignInstallationRefused(freshDatabaseUrl(kPostgres, tmp.path()),
                                   freshDatabaseUrl(kPostgres, tmp.path()), tmp.path());
}

TEST(RefusalTest, ReadOnlyReplicaIsRefused) {
  TempDir tmp;
  auto& primary = sharedPostgres();
  const std::string url = freshDatabaseUrl(kPostgres, tmp.path());
  AtriumNode on_primary(tmp.path() / "p", {.database_url = url, .name = "p"});
  ASSERT_EQ(on_primary.init().exit_code, 0);

  auto replica = primary.startReplica();
  ASSERT_TRUE(replica.ok()) << replica.error().message;
  const std::string db_name = url.substr(url.rfind('/') + 1);
  AtriumNode on_replica(tmp.path() / "r", {.database_url = (*replica)->url(db_name), .name = "r"});
  auto started = on_replica.start(std::chrono::seconds(15));
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("exited with code 2"), std::string::npos) << started.error().message;
  EXPECT_NE(started.error().message.find("replica"), std::string::npos) << started.error().message;
}

TEST(RefusalTest, UnknownSchemaIsRefused) {
  TempDir tmp;
  const std::string url = freshDatabaseUrl(kPostgres, tmp.path());
  AtriumNode node(tmp.path() / "n", {.database_url = url});
  ASSERT_EQ(node.init().exit_code, 0);
  const std::string db_name = url.substr(url.rfind('/') + 1);
  auto bumped = sharedPostgres().sql("INSERT INTO schema_version (version, applied_at) VALUES (999, 0)", db_name);
  ASSERT_TRUE(bumped.ok()) << bumped.error().message;
  auto started = node.start(std::chrono::seconds(10));
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("newer"), std::string::npos) << started.error().message;
  auto migrate = node.run({"db", "migrate", "--config", node.configPath().string()});
  EXPECT_NE(migrate.exit_code, 0);
  EXPECT_NE(migrate.output.find("upgrade Atrium"), std::string::npos) << migrate.output;
}

TEST(RefusalTest, ServeWithoutInitSaysToInit) {
  TempDir tmp;
  AtriumNode node(tmp.path() / "n", {});
  auto started = node.start(std::chrono::seconds(10));
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("atrium init"), std::string::npos) << started.error().message;
}

TEST(RefusalTest, BadConfigurationNamesTheKey) {
  TempDir tmp;
  AtriumNode node(tmp.path() / "n", {.extra_config = "[cluster]\nsize = 3\n"});
  auto r = node.run({"serve", "--config", node.configPath().string()});
  EXPECT_EQ(r.exit_code, kExitRefused);
  EXPECT_NE(r.output.find("cluster.size is not known"), std::string::npos) << r.output;

  AtriumNode bad_value(tmp.path() / "m", {.api_section_extra = "read_timeout_s = -1\n"});
  r = bad_value.run({"serve", "--config", bad_value.configPath().string()});
  EXPECT_EQ(r.exit_code, kExitRefused);
  EXPECT_NE(r.output.find("api.read_timeout_s"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("an integer from 1 to 3600"), std::string::npos) << r.output;

  r = node.run({"serve", "--config", (tmp.path() / "missing.toml").string()});
  EXPECT_EQ(r.exit_code, kExitRefused);
  EXPECT_NE(r.output.find("missing.toml"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace atrium::testing
