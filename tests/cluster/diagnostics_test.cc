// The redundancy rules as checks, with real nodes on a real PostgreSQL: db-latency fails while a
// proxy between the node and PostgreSQL delays every packet by 20 ms and passes again once the
// delay is gone; time-sync fails while the node's clock is 5 s off (ATRIUM_TEST_CLOCK_OFFSET_MS)
// and passes once it runs without; each failure opens the server ticket
// "cluster-check:<id>", cleared when the check passes. `atrium cluster check` says the same
// (exit status 1 while a check fails).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/atrium_node.h"
#include "support/backends.h"
#include "support/latency_proxy.h"

namespace atrium::testing {
namespace {

constexpr auto kDeadline = std::chrono::seconds(60);

std::string clusterSection(int latency_limit_ms) {
  return fmt::format(
      "[cluster]\nheartbeat_ms = 250\nfailover_timeout_ms = 2000\ncheck_interval_ms = 1000\n"
      "db_latency_limit_ms = {}\nclock_skew_limit_ms = 500\n",
      latency_limit_ms);
}

nlohmann::json check(const AtriumNode& node, const std::string& id) {
  auto r = node.http("GET", "/api/v1/cluster/diagnostics");
  if (!r.ok() || r->status != 200) return nullptr;
  const auto report = AtriumNode::json(*r);
  for (const auto& c : report["checks"]) {
    if (c["id"] == id) return c;
  }
  return nullptr;
}

std::string checkStatus(const AtriumNode& node, const std::string& id) {
  auto c = check(node, id);
  return c.is_object() ? c.value("status", "") : "";
}

// The open server ticket of this check (null when none).
nlohmann::json openTicket(const AtriumNode& node, const std::string& id) {
  auto r = node.http("GET", "/api/v1/tickets?kind=cluster-check:" + id);
  if (!r.ok() || r->status != 200) return nullptr;
  auto items = AtriumNode::json(*r)["items"];
  return items.empty() ? nlohmann::json(nullptr) : items.front();
}

// postgresql://atrium@127.0.0.1:PORT/DB with another port.
std::string throughPort(const std::string& url, std::uint16_t port) {
  auto at = url.find('@');
  auto colon = url.find(':', at);
  auto slash = url.find('/', colon);
  return url.substr(0, colon + 1) + std::to_string(port) + url.substr(slash);
}

TEST(DiagnosticsTest, DbLatencyFiresThroughAProxyAndClears) {
  TempDir tmp;
  const std::string url = freshDatabaseUrl(kPostgres, tmp.path());
  auto proxy =
      LatencyProxy::start("127.0.0.1", static_cast<std::uint16_t>(sharedPostgres().port()));
  ASSERT_TRUE(proxy.ok()) << proxy.error().message;
  AtriumNode node(tmp.path() / "n", {.database_url = throughPort(url, (*proxy)->port()),
                                     .name = "slow",
                                     .extra_config = clusterSection(30)});
  ASSERT_EQ(node.init().exit_code, 0);
  ASSERT_TRUE(node.start().ok()) << node.log();
  ASSERT_TRUE(waitFor([&] { return checkStatus(node, "db-latency") == "pass"; }, kDeadline))
      << check(node, "db-latency").dump(2) << node.log();

  // 20 ms each way: every round trip takes at least 40 ms, over the 30 ms limit.
  (*proxy)->setDelay(std::chrono::milliseconds(20));
  ASSERT_TRUE(waitFor([&] { return openTicket(node, "db-latency").is_object(); }, kDeadline))
      << check(node, "db-latency").dump(2) << node.log();
  auto failing = check(node, "db-latency");
  EXPECT_EQ(failing["status"], "fail") << failing.dump(2);
  EXPECT_NE(failing["message"].get<std::string>().find("slow p99"), std::string::npos)
      << failing.dump(2);
  EXPECT_GT(failing["details"]["nodes"][0]["rtt_p99_ms"].get<double>(), 30.0) << failing.dump(2);
  auto ticket = openTicket(node, "db-latency");
  EXPECT_TRUE(ticket["system_id"].is_null()) << ticket.dump(2);
  EXPECT_NE(ticket["message"].get<std::string>().find("30 ms limit"), std::string::npos)
      << ticket.dump(2);

  // Without the delay the window of round trips fills with fast ones: the check passes and the
  // ticket clears itself.
  (*proxy)->setDelay(std::chrono::milliseconds(0));
  ASSERT_TRUE(waitFor([&] { return openTicket(node, "db-latency").is_null(); }, kDeadline))
      << check(node, "db-latency").dump(2) << node.log();
  EXPECT_EQ(checkStatus(node, "db-latency"), "pass") << check(node, "db-latency").dump(2);
  auto all = node.http("GET", "/api/v1/tickets?kind=cluster-check:db-latency&all=true");
  ASSERT_TRUE(all.ok());
  auto items = AtriumNode::json(*all)["items"];
  ASSERT_EQ(items.size(), 1u) << all->body;
  EXPECT_FALSE(items[0]["cleared_at"].is_null()) << all->body;
  EXPECT_EQ(node.stop().value_or(-1), 0) << node.log();
}

TEST(DiagnosticsTest, TimeSyncFiresWithAnOffsetClockAndClears) {
  TempDir tmp;
  const std::string url = freshDatabaseUrl(kPostgres, tmp.path());
  AtriumNode node(
      tmp.path() / "n",
      {.database_url = url, .name = "skewed", .extra_config = clusterSection(1000), .env = {}});
  ASSERT_EQ(node.init().exit_code, 0);
  node.setEnv({"ATRIUM_TEST_CLOCK_OFFSET_MS=5000"});
  ASSERT_TRUE(node.start().ok()) << node.log();
  EXPECT_NE(node.log().find("clock.test_offset"), std::string::npos) << node.log();

  ASSERT_TRUE(waitFor([&] { return openTicket(node, "time-sync").is_object(); }, kDeadline))
      << check(node, "time-sync").dump(2) << node.log();
  auto failing = check(node, "time-sync");
  EXPECT_EQ(failing["status"], "fail") << failing.dump(2);
  EXPECT_NE(failing["message"].get<std::string>().find("skewed is"), std::string::npos)
      << failing.dump(2);
  EXPECT_NE(failing["message"].get<std::string>().find("ahead of the database"), std::string::npos)
      << failing.dump(2);
  auto offset = failing["details"]["nodes"][0]["clock_offset_ms"].get<std::int64_t>();
  EXPECT_GT(offset, 4000);
  EXPECT_LT(offset, 6000);

  // `atrium cluster check` lists it and exits 1.
  auto cli = node.run({"cluster", "check", "--config", node.configPath().string()});
  EXPECT_EQ(cli.exit_code, 1) << cli.output;
  EXPECT_NE(cli.output.find("FAIL  time-sync"), std::string::npos) << cli.output;

  // The node runs again with a right clock: the check passes, the ticket clears.
  ASSERT_EQ(node.stop().value_or(-1), 0) << node.log();
  node.setEnv({});
  ASSERT_TRUE(node.start().ok()) << node.log();
  ASSERT_TRUE(waitFor([&] { return openTicket(node, "time-sync").is_null(); }, kDeadline))
      << check(node, "time-sync").dump(2) << node.log();
  EXPECT_EQ(checkStatus(node, "time-sync"), "pass") << check(node, "time-sync").dump(2);
  auto cli_again = node.run({"cluster", "check", "--config", node.configPath().string()});
  EXPECT_NE(cli_again.output.find("ok    time-sync"), std::string::npos) << cli_again.output;
}

}  // namespace
}  // namespace atrium::testing
