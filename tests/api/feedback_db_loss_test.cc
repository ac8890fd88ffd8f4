// Feedback posted continuously while PostgreSQL is stopped and started again: every post keeps
// getting a 2xx (from the spool while the database is away), and afterwards every acknowledged
// post is in the database exactly once.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "devices/cisco_xapi/document_builder.h"
#include "support/atrium_node.h"
#include "support/backends.h"

namespace atrium::testing {
namespace {

using nlohmann::json;

TEST(FeedbackDbLossTest, AcknowledgedFeedbackSurvivesPostgresRestartExactlyOnce) {
  TempDir tmp;
  const std::string url = freshDatabaseUrl(kPostgres, tmp.path());
  const std::string db_name = url.substr(url.rfind('/') + 1);
  AtriumNode node(tmp.path() / "n", {.database_url = url});
  ASSERT_EQ(node.init().exit_code, 0);
  ASSERT_TRUE(node.start().ok()) << node.log();
  ASSERT_TRUE(node.waitReady());
  auto created = node.http("POST", "/api/v1/systems",
                           R"({"name":"Room","family":"cisco-xapi","addresses":["127.0.0.1"]})",
                           {{"Content-Type", "application/json"}});
  ASSERT_EQ(created->status, 201u) << created->body;
  const std::string system_id = AtriumNode::json(*created)["id"];
  auto& pg = sharedPostgres();
  auto secret = pg.sql("SELECT feedback_secret FROM systems WHERE id = '" + system_id + "'", db_name);
  ASSERT_TRUE(secret.ok()) << secret.error().message;
  ASSERT_EQ(secret->size(), 32u);

  devices::SystemIdentity identity;
  identity.system_name = "Room";
  identity.serial_number = "FTT1";
  // One poster, each post a distinct call (its call id is the post's number).
  std::mutex mu;
  std::set<int> acknowledged;
  std::vector<std::string> refusals;
  std::atomic<bool> stop{false};
  std::thread poster([&] {
    for (int i = 0; !stop; ++i) {
      devices::CallInfo call;
      call.call_id = std::to_string(i);
      call.remote_number = fmt::format("sip:peer{}@example.com", i);
      auto r = node.http("POST", "/feedback/" + *secret,
                         devices::cisco_xapi::buildCallSuccessfulFeedback(identity, call),
                         {{"Content-Type", "text/xml"}});
      std::lock_guard lock(mu);
      if (r.ok() && r->status / 100 == 2) {
        acknowledged.insert(i);
      } else {
        refusals.push_back(r.ok() ? fmt::format("{}: {}", r->status, r->body) : r.error().message);
      }
    }
  });
  auto acked = [&] {
    std::lock_guard lock(mu);
    return acknowledged.size();
  };
  // A counter from /metrics; -1 when it cannot be read.
  auto metric = [&](const std::string& name) -> std::int64_t {
    auto m = node.http("GET", "/metrics");
    if (!m.ok()) return -1;
    auto at = m->body.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::stoll(m->body.substr(at + name.size() + 2));
  };

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
  stop = true;
  poster.join();
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(refusals.empty()) << refusals.size() << " refused, first: " << refusals.front();
  }

  // The spool drains; then every acknowledged post is stored exactly once.
  ASSERT_TRUE(waitFor([&] { return metric("atrium_ingest_spool_pending") == 0; },
                      std::chrono::seconds(30)))
      << node.log();
  std::map<int, int> stored;
  std::int64_t since_id = 0;
  for (;;) {
    auto page = node.http("GET", fmt::format("/api/v1/events?system_id={}&since_id={}&limit=1000",
                                             system_id, since_id));
    ASSERT_EQ(page->status, 200u) << page->body;
    json items = AtriumNode::json(*page)["items"];
    if (items.empty()) break;
    for (const auto& e : items) {
      since_id = e["id"].get<std::int64_t>();
      ++stored[std::stoi(e["payload"]["call"]["call_id"].get<std::string>())];
    }
  }
  std::lock_guard lock(mu);
  ASSERT_GE(acknowledged.size(), 70u);
  for (int i : acknowledged) EXPECT_EQ(stored[i], 1) << "post " << i;
  for (const auto& [i, n] : stored) EXPECT_EQ(n, 1) << "post " << i << " stored " << n << " times";
  EXPECT_NE(node.log().find("ingest.replayed"), std::string::npos);
}

}  // namespace
}  // namespace atrium::testing
