// Hot standby with real processes: one active node and two standbys on one PostgreSQL. The
// standbys serve no systems and answer /readyz 503; when the active node is killed exactly one of
// them promotes itself (becomes active, answers /readyz 200, holds every bucket) and the other
// stays a standby. `atrium node promote` and `atrium node demote` move the role by hand.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "support/backends.h"
#include "support/cluster_harness.h"

namespace atrium::testing {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

unsigned readyz(const AtriumNode& node) {
  auto r = node.http("GET", "/readyz");
  return r.ok() ? r->status : 0;
}

// The node's state in the registry ("" when it cannot be read).
std::string stateOf(Cluster& c, int i, int via) {
  auto v = c.view(via);
  if (!v) return "";
  const NodeInfo* n = v->byName(c.nodeName(i));
  return n != nullptr ? n->state : "";
}

RunResult nodeCommand(Cluster& c, int via, const std::string& verb, int target) {
  return c.node(via).run(
      {"node", verb, c.nodeName(target), "--config", c.node(via).configPath().string()});
}

TEST(StandbyTest, ExactlyOneStandbyPromotesAndTheRoleMovesByHand) {
  TempDir tmp;
  ClusterOptions o;
  o.postgres = &sharedPostgres();
  o.nodes = 3;
  o.roles = {"active", "standby", "standby"};
  o.cisco_xapi = 2;
  o.cisco_mcu = 1;
  o.polycom = 1;
  o.snmp = 2;
  auto started = Cluster::start(tmp.path(), o);
  ASSERT_TRUE(started.ok()) << started.error().message;
  Cluster& c = **started;
  LogsOnFailure logs_on_failure{c};

  // The active node holds every bucket; the standbys hold none and are not ready.
  ClusterView v;
  ASSERT_TRUE(c.waitCoverage({c.nodeName(0)}, 30s, &v))
      << v.summary() << v.coverageProblem({c.nodeName(0)});
  ASSERT_TRUE(c.node(0).waitReady(30s));
  for (int i : {1, 2}) {
    EXPECT_TRUE(waitFor([&] { return stateOf(c, i, 0) == "standby"; }, 30s)) << v.summary();
    EXPECT_EQ(readyz(c.node(i)), 503u) << c.nodeName(i);
  }
  const std::string active_id = c.nodeId(0);
  ASSERT_TRUE(waitFor(
      [&] {
        auto s = c.systemsNow(0);
        if (!s) return false;
        for (const auto& sys : *s) {
          if (sys.last_polled_by != active_id) return false;
        }
        return true;
      },
      60s, 200ms))
      << "the standbys must poll nothing";

  // Kill the active node: one standby, and only one, promotes.
  const std::string killed_at = nowTimestamp();
  const auto t0 = Steady::now();
  c.kill(0);
  int promoted = -1;
  ASSERT_TRUE(waitFor(
      [&] {
        for (int i : {1, 2}) {
          if (stateOf(c, i, i) == "active" && readyz(c.node(i)) == 200) {
            promoted = i;
            return true;
          }
        }
        return false;
      },
      30s, 50ms));
  const int other = promoted == 1 ? 2 : 1;
  ASSERT_TRUE(c.waitCoverage({c.nodeName(promoted)}, 30s, &v)) << v.summary();
  std::printf(
      "[ measure  ] %s promoted and held every bucket %.2f s after the active node was killed\n",
      c.nodeName(promoted).c_str(), std::chrono::duration<double>(Steady::now() - t0).count());
  std::fflush(stdout);
  // Over several failover timeouts the other stays a standby and the promoted one keeps the work.
  const auto watch_until = Steady::now() + 3 * o.failover_timeout;
  while (Steady::now() < watch_until) {
    auto now = c.view(promoted);
    ASSERT_TRUE(now.ok());
    ASSERT_EQ(now->byName(c.nodeName(other))->state, "standby") << now->summary();
    ASSERT_EQ(now->coverageProblem({c.nodeName(promoted)}), "") << now->summary();
    ASSERT_EQ(readyz(c.node(other)), 503u);
    std::this_thread::sleep_for(200ms);
  }
  // The moved systems are polled by the promoted node.
  const std::string promoted_id = c.nodeId(promoted);
  EXPECT_TRUE(waitFor(
      [&] {
        auto s = c.systemsNow(promoted);
        if (!s) return false;
        for (const auto& sys : *s) {
          if (sys.last_polled_by != promoted_id || sys.last_polled_at <= killed_at) return false;
        }
        return true;
      },
      60s, 200ms));

  // By hand: promote the other standby (two active nodes share the buckets), then demote the
  // first (the other holds everything, the demoted one is a standby again).
  auto promote = nodeCommand(c, promoted, "promote", other);
  ASSERT_EQ(promote.exit_code, 0) << promote.output;
  ASSERT_TRUE(c.waitCoverage({c.nodeName(promoted), c.nodeName(other)}, 30s, &v)) << v.summary();
  EXPECT_TRUE(waitFor([&] { return readyz(c.node(other)) == 200; }, 10s));
  auto demote = nodeCommand(c, other, "demote", promoted);
  ASSERT_EQ(demote.exit_code, 0) << demote.output;
  ASSERT_TRUE(c.waitCoverage({c.nodeName(other)}, 30s, &v)) << v.summary();
  EXPECT_TRUE(waitFor([&] { return stateOf(c, promoted, other) == "standby"; }, 10s));
  EXPECT_TRUE(waitFor([&] { return readyz(c.node(promoted)) == 503; }, 10s));
  EXPECT_EQ(readyz(c.node(other)), 200u);

  // An unknown node is refused.
  auto unknown = c.node(other).run(
      {"node", "promote", "no-such-node", "--config", c.node(other).configPath().string()});
  EXPECT_NE(unknown.exit_code, 0) << unknown.output;
}

}  // namespace
}  // namespace atrium::testing
