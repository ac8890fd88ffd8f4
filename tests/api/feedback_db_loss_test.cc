// Feedback posted continuously while PostgreSQL is stopped and started again: every post keeps
// getting a 2xx (from the spool while the database is away), and afterwards every acknowledged
// post is in the database exactly once.
#include <gtest/gtest.h>

#include "support/atrium_node.h"
#include "support/backends.h"
#include "support/feedback_load.h"

namespace atrium::testing {
namespace {

TEST(FeedbackDbLossTest, AcknowledgedFeedbackSurvivesPostgresRestartExactlyOnce) {
  TempDir tmp;
  const std::string url = freshDatabaseUrl(kPostgres, tmp.path());
  const std::string db_name = url.substr(url.rfind('/') + 1);
  AtriumNode node(tmp.path() / "n", {.database_url = url});
  ASSERT_EQ(node.init().exit_code, 0);
  ASSERT_TRUE(node.start().ok()) << node.log();
  ASSERT_TRUE(node.waitReady());
  auto& pg = sharedPostgres();
  auto system =
      createFeedbackSystem(node, [&](const std::string& sql) { return pg.sql(sql, db_name); });
  ASSERT_TRUE(system.ok()) << system.error().message;
  ASSERT_EQ(system->secret.size(), 32u);
  const std::string system_id = system->id;

  FeedbackPoster poster(system->secret, [&](int) -> const AtriumNode& { return node; });
  auto acked = [&] { return poster.acknowledgedCount(); };
  auto metric = [&](const std::string& name) { return metricValue(node, name); };

  EXPECT_TRUE(waitFor([&] { return acked() >= 20; }, std::chrono::seconds(20)));
  ASSERT_TRUE(pg.stop().ok());
  const std::size_t at_stop = acked();
  // Posts go on being acknowledged while the database is down: from the spool.
  EXPECT_TRUE(waitFor([&] { return acked() >= at_stop + 30; }, std::chrono::seconds(30)))
      << node.log();
  EXPECT_GT(metric("atrium_ingest_batches_spooled_total"), 0);
  ASSERT_TRUE(pg.startAgain().ok());
  ASSERT_TRUE(node.waitReady(std::chrono::seconds(30))) << node.log();
  const std::size_t at_start = acked();
  EXPECT_TRUE(waitFor([&] { return acked() >= at_start + 20; }, std::chrono::seconds(30)));
  poster.stop();
  const auto refusals = poster.refusals();
  EXPECT_TRUE(refusals.empty()) << refusals.size() << " refused, first: " << refusals.front();

  // The spool drains; then every acknowledged post is stored exactly once.
  ASSERT_TRUE(waitFor([&] { return metric("atrium_ingest_spool_pending") == 0; },
                      std::chrono::seconds(30)))
      << node.log();
  const auto stored = storedCallEvents(node, system_id);
  const auto acknowledged = poster.acknowledged();
  ASSERT_GE(acknowledged.size(), 70u);
  for (int i : acknowledged) EXPECT_EQ(stored.count(i) ? stored.at(i) : 0, 1) << "post " << i;
  for (const auto& [i, n] : stored) EXPECT_EQ(n, 1) << "post " << i << " stored " << n << " times";
  EXPECT_NE(node.log().find("ingest.replayed"), std::string::npos);
}

}  // namespace
}  // namespace atrium::testing
