// What a node must share with its installation, with real processes on a real PostgreSQL: a
// node with another identity source, or with a validation key file holding another key, is
// refused at init and at start with a message naming the difference; a standby on SQLite is
// refused (one server only). A second server on one SQLite file is refused too: that case is in
// tests/api/refusals_test.cc (SecondServerOnOneSqliteFileIsRefused).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/atrium_node.h"
#include "support/backends.h"

namespace atrium::testing {
namespace {

constexpr int kExitRefused = 2;
constexpr const char* kClusterSection =
    "[cluster]\nheartbeat_ms = 250\nfailover_timeout_ms = 2000\n";

std::string keyFile(const std::filesystem::path& path, char digit) {
  writeFile(path, std::string(64, digit) + "\n");
  return path.string();
}

TEST(AdmissionTest, NodeWithAnotherIdentitySourceIsRefused) {
  TempDir tmp;
  const std::string url = freshDatabaseUrl(kPostgres, tmp.path());
  AtriumNode a(tmp.path() / "a",
               {.database_url = url, .name = "a", .extra_config = kClusterSection});
  ASSERT_EQ(a.init().exit_code, 0);
  ASSERT_TRUE(a.start().ok()) << a.log();

  AtriumNode b(
      tmp.path() / "b",
      {.database_url = url,
       .name = "b",
       .extra_config =
           std::string(kClusterSection) +
           "[identity]\nsource = \"ldap://dc1.example.com\"\nbase_dn = \"dc=example,dc=com\"\n"});
  auto init = b.init();
  EXPECT_EQ(init.exit_code, kExitRefused) << init.output;
  for (const auto& text : {init.output}) {
    EXPECT_NE(text.find("ldap://dc1.example.com"), std::string::npos) << text;
    EXPECT_NE(text.find("dc=example,dc=com"), std::string::npos) << text;
    EXPECT_NE(text.find("the database's own users"), std::string::npos) << text;
  }
  auto started = b.start(std::chrono::seconds(20));
  ASSERT_FALSE(started.ok());
  const auto& msg = started.error().message;
  EXPECT_NE(msg.find("exited with code 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ldap://dc1.example.com"), std::string::npos) << msg;
  EXPECT_NE(msg.find("the database's own users"), std::string::npos) << msg;
  // The running node is untouched.
  EXPECT_EQ(a.http("GET", "/readyz")->status, 200u);
}

TEST(AdmissionTest, NodeWithAnotherValidationKeyIsRefused) {
  TempDir tmp;
  const std::string url = freshDatabaseUrl(kPostgres, tmp.path());
  // The first node's key file makes the installation's first key.
  const std::string good = keyFile(tmp.path() / "good.key", 'a');
  AtriumNode a(tmp.path() / "a",
               {.database_url = url,
                .name = "a",
                .extra_config = fmt::format("{}[security]\nvalidation_key_file = \"{}\"\n",
                                            kClusterSection, good)});
  auto init_a = a.init();
  ASSERT_EQ(init_a.exit_code, 0) << init_a.output;
  EXPECT_NE(init_a.output.find("validation key"), std::string::npos) << init_a.output;
  ASSERT_TRUE(a.start().ok()) << a.log();

  // A node with the same key joins.
  AtriumNode b(tmp.path() / "b",
               {.database_url = url,
                .name = "b",
                .extra_config = fmt::format("{}[security]\nvalidation_key_file = \"{}\"\n",
                                            kClusterSection, good)});
  ASSERT_EQ(b.init().exit_code, 0);
  ASSERT_TRUE(b.start().ok()) << b.log();

  // A node with another key is refused, naming both fingerprints.
  const std::string other = keyFile(tmp.path() / "other.key", 'b');
  AtriumNode c(tmp.path() / "c",
               {.database_url = url,
                .name = "c",
                .extra_config = fmt::format("{}[security]\nvalidation_key_file = \"{}\"\n",
                                            kClusterSection, other)});
  auto init_c = c.init();
  EXPECT_EQ(init_c.exit_code, kExitRefused) << init_c.output;
  auto started = c.start(std::chrono::seconds(20));
  ASSERT_FALSE(started.ok());
  const auto& msg = started.error().message;
  EXPECT_NE(msg.find("exited with code 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("other.key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("is not the installation's current key"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fingerprint"), std::string::npos) << msg;

  // After `atrium keys rotate --from-file other.key` the second key is the current one: c joins,
  // and a and b (still holding the first key) are reported by the same-validation-key check.
  auto rotate =
      a.run({"keys", "rotate", "--config", a.configPath().string(), "--from-file", other});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.output;
  ASSERT_TRUE(c.start().ok()) << c.log();
  bool reported = waitFor(
      [&] {
        auto r = c.http("GET", "/api/v1/cluster/diagnostics");
        if (!r.ok() || r->status != 200) return false;
        const auto report = AtriumNode::json(*r);
        for (const auto& check : report["checks"]) {
          if (check["id"] == "same-validation-key") return check["status"] == "fail";
        }
        return false;
      },
      std::chrono::seconds(20));
  EXPECT_TRUE(reported) << AtriumNode::json(*c.http("GET", "/api/v1/cluster/diagnostics")).dump(2);
}

TEST(AdmissionTest, StandbyOnSqliteIsRefused) {
  TempDir tmp;
  AtriumNode node(tmp.path() / "n",
                  {.name = "n", .extra_config = "[cluster]\nrole = \"standby\"\n"});
  auto init = node.init();
  EXPECT_EQ(init.exit_code, kExitRefused) << init.output;
  EXPECT_NE(init.output.find("PostgreSQL"), std::string::npos) << init.output;
  auto started = node.start(std::chrono::seconds(20));
  ASSERT_FALSE(started.ok());
  const auto& msg = started.error().message;
  EXPECT_NE(msg.find("exited with code 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cluster.role = \"standby\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("PostgreSQL"), std::string::npos) << msg;
}

}  // namespace
}  // namespace atrium::testing

namespace atrium::testing {
namespace {

// Two processes on one data dir would share a node id, heartbeat as one node and hold each
// other's bucket leases: the second is refused, and the first keeps running.
TEST(AdmissionTest, SecondProcessOnOneDataDirIsRefused) {
  TempDir tmp;
  const std::string url = freshDatabaseUrl(kPostgres, tmp.path());
  AtriumNode first(tmp.path() / "n", {.database_url = url, .name = "n", .extra_config = kClusterSection});
  ASSERT_EQ(first.init().exit_code, 0);
  ASSERT_TRUE(first.start().ok()) << first.log();
  // The same directory (so the same data dir), with its own ports in a rewritten config file.
  AtriumNode second(tmp.path() / "n", {.database_url = url, .name = "n", .extra_config = kClusterSection});
  auto started = second.start(std::chrono::seconds(20));
  ASSERT_FALSE(started.ok());
  const auto& msg = started.error().message;
  EXPECT_NE(msg.find("exited with code 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("is in use by another Atrium process"), std::string::npos) << msg;
  EXPECT_NE(msg.find("node.lock"), std::string::npos) << msg;
  EXPECT_EQ(first.http("GET", "/readyz")->status, 200u) << first.log();
}

}  // namespace
}  // namespace atrium::testing
