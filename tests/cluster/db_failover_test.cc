// Database failover, as Patroni does it: the primary dies and its synchronous replica is
// promoted. A node with a multi-host connection string (target_session_attrs=read-write) keeps
// answering a system's feedback with 2xx through the switch (the spool covers the gap), follows
// the new primary without a restart, and every acknowledged post is stored exactly once.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/atrium_node.h"
#include "support/feedback_load.h"
#include "support/pg_cluster.h"

namespace atrium::testing {
namespace {

TEST(DbFailoverTest, NodeFollowsThePromotedReplicaAndLosesNoAcknowledgedFeedback) {
  TempDir tmp;
  auto primary = PgCluster::start();
  ASSERT_TRUE(primary.ok()) << primary.error().message;
  auto replica = (*primary)->startReplica();
  ASSERT_TRUE(replica.ok()) << replica.error().message << (*primary)->logText();
  // Synchronous replication: a commit the primary acknowledged is on the replica too, so the
  // failover loses nothing (Patroni: synchronous_mode: true).
  ASSERT_TRUE((*primary)->sql("ALTER SYSTEM SET synchronous_standby_names = '*'").ok());
  ASSERT_TRUE((*primary)->sql("ALTER SYSTEM SET synchronous_commit = on").ok());
  ASSERT_TRUE((*primary)->sql("SELECT pg_reload_conf()").ok());
  ASSERT_TRUE(waitFor(
      [&] {
        auto s =
            (*primary)->sql("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'");
        return s.ok() && *s == "1";
      },
      std::chrono::seconds(30)))
      << (*primary)->logText();

  const std::string url = fmt::format(
      "postgresql://atrium:{}@127.0.0.1:{},127.0.0.1:{}/atrium?target_session_attrs=read-write",
      (*primary)->password(), (*primary)->port(), (*replica)->port());
  AtriumNode node(tmp.path() / "n",
                  {.database_url = url,
                   .extra_config = "[cluster]\nheartbeat_ms = 250\nfailover_timeout_ms = 2000\n"});
  ASSERT_EQ(node.init().exit_code, 0) << node.log();
  ASSERT_TRUE(node.start().ok()) << node.log();
  ASSERT_TRUE(node.waitReady());
  auto system =
      createFeedbackSystem(node, [&](const std::string& sql) { return (*primary)->sql(sql); });
  ASSERT_TRUE(system.ok()) << system.error().message;
  const std::string system_id = system->id;

  FeedbackPoster poster(system->secret, [&](int) -> const AtriumNode& { return node; });
  ASSERT_TRUE(waitFor([&] { return poster.acknowledgedCount() >= 20; }, std::chrono::seconds(20)))
      << node.log();

  // The primary dies (immediate shutdown, as on power loss) and the replica is promoted.
  ASSERT_TRUE((*primary)->kill().ok());
  const std::size_t at_kill = poster.acknowledgedCount();
  ASSERT_TRUE((*replica)->promote().ok()) << (*replica)->logText();

  // The node follows the new primary by itself: ready again, and posts keep being acknowledged.
  ASSERT_TRUE(node.waitReady(std::chrono::seconds(60))) << node.log();
  ASSERT_TRUE(
      waitFor([&] { return poster.acknowledgedCount() >= at_kill + 40; }, std::chrono::seconds(60)))
      << node.log();
  poster.stop();
  const auto refusals = poster.refusals();
  EXPECT_TRUE(refusals.empty()) << refusals.size() << " refused, first: " << refusals.front();

  ASSERT_TRUE(waitFor([&] { return metricValue(node, "atrium_ingest_spool_pending") == 0; },
                      std::chrono::seconds(60)))
      << node.log();
  const auto stored = storedCallEvents(node, system_id);
  const auto acknowledged = poster.acknowledged();
  ASSERT_GE(acknowledged.size(), 60u);
  for (int i : acknowledged) EXPECT_EQ(stored.count(i) ? stored.at(i) : 0, 1) << "post " << i;
  for (const auto& [i, n] : stored) EXPECT_EQ(n, 1) << "post " << i << " stored " << n << " times";
  // And the new primary holds them (the node is not reading a stale copy).
  auto count = (*replica)->sql("SELECT count(*) FROM events WHERE system_id = '" + system_id + "'");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(std::stoul(*count), stored.size());
}

}  // namespace
}  // namespace atrium::testing
