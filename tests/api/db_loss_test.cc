// A server on PostgreSQL keeps running when the database goes away: /readyz answers 503 while it
// cannot write, requests in the gap get a quick 503, and everything works again once the
// database is back, with no restart.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "support/atrium_node.h"
#include "support/backends.h"

namespace atrium::testing {
namespace {

TEST(DatabaseLossTest, ServerSurvivesPostgresRestart) {
  TempDir tmp;
  const std::string url = freshDatabaseUrl(kPostgres, tmp.path());
  AtriumNode node(tmp.path() / "n", {.database_url = url});
  ASSERT_EQ(node.init().exit_code, 0);
  ASSERT_TRUE(node.start().ok()) << node.log();
  ASSERT_TRUE(node.waitReady());
  auto before = node.http("POST", "/api/v1/systems",
                          R"({"name":"Before","family":"snmp","addresses":["192.0.2.1"]})",
                          {{"Content-Type", "application/json"}});
  ASSERT_EQ(before->status, 201u) << before->body;
  const pid_t pid = node.process()->pid();

  auto& pg = sharedPostgres();
  ASSERT_TRUE(pg.stop().ok());

  // Readiness turns 503 while liveness stays 200.
  ASSERT_TRUE(waitFor([&] {
    auto r = node.http("GET", "/readyz");
    return r.ok() && r->status == 503;
  }, std::chrono::seconds(15))) << node.log();
  EXPECT_EQ(node.http("GET", "/healthz")->status, 200u);

  // Requests in the gap get a clear 503 error, not a hang (the client gives up after 10 s).
  auto during = node.http("GET", "/api/v1/systems");
  ASSERT_TRUE(during.ok()) << during.error().message;
  EXPECT_EQ(during->status, 503u) << during->body;
  auto j = AtriumNode::json(*during);
  EXPECT_EQ(j["error"]["code"], "unavailable") << during->body;
  auto write = node.http("POST", "/api/v1/systems",
                         R"({"name":"During","family":"snmp","addresses":["192.0.2.2"]})",
                         {{"Content-Type", "application/json"}});
  ASSERT_TRUE(write.ok());
  EXPECT_EQ(write->status, 503u) << write->body;

  ASSERT_TRUE(pg.startAgain().ok());
  ASSERT_TRUE(node.waitReady(std::chrono::seconds(30))) << node.log();
  EXPECT_TRUE(node.process()->running());
  EXPECT_EQ(node.process()->pid(), pid);

  auto after = node.http("POST", "/api/v1/systems",
                         R"({"name":"After","family":"snmp","addresses":["192.0.2.3"]})",
                         {{"Content-Type", "application/json"}});
  ASSERT_EQ(after->status, 201u) << after->body;
  auto list = AtriumNode::json(*node.http("GET", "/api/v1/systems?sort=name"));
  ASSERT_EQ(list["total"], 2) << list.dump();
  EXPECT_EQ(list["items"][0]["name"], "After");
  EXPECT_EQ(list["items"][1]["name"], "Before");
  EXPECT_NE(node.log().find("db."), std::string::npos);
}

}  // namespace
}  // namespace atrium::testing
