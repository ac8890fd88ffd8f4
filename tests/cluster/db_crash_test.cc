// PostgreSQL crashing while a node is paused and the systems retry on another node (the hardening
// issue's points 12 to 14):
// - a post held by a paused node A and its retry sent to node B across a database crash are
//   stored once, though B spooled its copy and A stored its own when it woke;
// - a call whose connect went to A and whose disconnect went to B ends closed, whatever order the
//   two reach the database in;
// - a node restarted just before the database goes away still takes (spools) the posts of every
//   system it knows, instead of answering 503.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <future>

#include "support/atrium_node.h"
#include "support/feedback_load.h"
#include "support/pg_cluster.h"

namespace atrium::testing {
namespace {

// A Cisco feedback document for call `call_id`: a CallSuccessful or a CallDisconnect.
std::string callDocument(bool connected, int call_id) {
  const std::string identity =
      "<Identification><SystemName>Room</SystemName><IPAddress>127.0.0.1</IPAddress>"
      "<ProductID>Cisco Webex Room Kit</ProductID><SerialNumber>FOC0000CRASH</SerialNumber>"
      "</Identification>";
  if (connected) {
    return fmt::format(
        "<?xml version=\"1.0\"?><Event>{}<CallSuccessful item=\"1\"><Protocol "
        "item=\"1\">Sip</Protocol>"
        "<Direction item=\"1\">outgoing</Direction><RemoteURI "
        "item=\"1\">sip:vmr-{}@example.org</RemoteURI>"
        "<CallId item=\"1\">{}</CallId></CallSuccessful></Event>",
        identity, call_id, call_id);
  }
  return fmt::format(
      "<?xml version=\"1.0\"?><Event>{}<CallDisconnect item=\"1\"><CauseValue "
      "item=\"1\">1</CauseValue>"
      "<CauseType item=\"1\">LocalDisconnect</CauseType><OrigCallDirection "
      "item=\"1\">outgoing</OrigCallDirection>"
      "<RemoteURI item=\"1\">sip:vmr-{}@example.org</RemoteURI><CallId item=\"1\">{}</CallId>"
      "<Protocol item=\"1\">Sip</Protocol><Duration "
      "item=\"1\">0</Duration></CallDisconnect></Event>",
      identity, call_id, call_id);
}

class DbCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Durable, as deployed: an immediate shutdown keeps every commit it acknowledged.
    auto pg = PgCluster::start({.durable = true});
    ASSERT_TRUE(pg.ok()) << pg.error().message;
    pg_ = std::move(*pg);
    const std::string config = "[cluster]\nheartbeat_ms = 250\nfailover_timeout_ms = 2000\n";
    a_ = std::make_unique<AtriumNode>(
        tmp_.path() / "a",
        AtriumNode::Options{.database_url = pg_->url(), .name = "node-a", .extra_config = config});
    b_ = std::make_unique<AtriumNode>(
        tmp_.path() / "b",
        AtriumNode::Options{.database_url = pg_->url(), .name = "node-b", .extra_config = config});
    ASSERT_EQ(a_->init().exit_code, 0) << a_->log();
    ASSERT_TRUE(a_->start().ok()) << a_->log();
    ASSERT_TRUE(b_->start().ok()) << b_->log();
    ASSERT_TRUE(a_->waitReady() && b_->waitReady()) << a_->log() << b_->log();
    auto system = createFeedbackSystem(*a_, [&](const std::string& sql) { return pg_->sql(sql); });
    ASSERT_TRUE(system.ok()) << system.error().message;
    system_ = *system;
    // Both nodes learn the new system's secret within about a second, whichever created it.
    ASSERT_TRUE(waitFor(
        [&] {
          return metricValue(*a_, "atrium_feedback_known_secrets") == 1 &&
                 metricValue(*b_, "atrium_feedback_known_secrets") == 1;
        },
        std::chrono::seconds(10)));
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "---- node-a log ----\n"
                << a_->log() << "\n---- node-b log ----\n"
                << b_->log() << "\n---- postgres log ----\n"
                << pg_->logText() << "\n";
    }
  }

  Result<net::HttpResponse> post(const AtriumNode& node, const std::string& body) {
    return node.http("POST", "/feedback/" + system_.secret, body, {{"Content-Type", "text/xml"}});
  }

  // Posts to `node` on a thread of its own: the answer comes when the node answers.
  std::future<Result<net::HttpResponse>> postLater(const AtriumNode& node,
                                                   const std::string& body) {
    return std::async(std::launch::async, [this, &node, body] { return post(node, body); });
  }

  std::int64_t count(const std::string& sql) {
    auto v = pg_->sql(sql);
    if (!v.ok()) {
      ADD_FAILURE() << sql << ": " << v.error().message;
      return -1;
    }
    return v->empty() ? 0 : std::stoll(*v);
  }

  bool spoolsDrained() {
    return metricValue(*a_, "atrium_ingest_spool_pending") == 0 &&
           metricValue(*b_, "atrium_ingest_spool_pending") == 0;
  }

  std::int64_t connectEvents(int call_id) {
    return count(fmt::format(
        "SELECT count(*) FROM events WHERE system_id = '{}' AND kind = 'call-connected' "
        "AND payload LIKE '%\"call_id\":\"{}\"%'",
        system_.id, call_id));
  }

  TempDir tmp_;
  std::unique_ptr<PgCluster> pg_;
  std::unique_ptr<AtriumNode> a_;
  std::unique_ptr<AtriumNode> b_;
  FeedbackSystem system_;
};

TEST_F(DbCrashTest, RetriesAcrossADatabaseCrashAreStoredOnceAndCallsClose) {
  // Node A pauses with two posts in its socket: a call's connect that the system will retry on
  // B, and another call's connect whose disconnect will go to B.
  a_->process()->signal(SIGSTOP);
  auto held_retry = postLater(*a_, callDocument(true, 501));
  auto held_connect = postLater(*a_, callDocument(true, 502));
  // PostgreSQL crashes and comes back; B's connections are broken and its reconnect backs off.
  ASSERT_TRUE(pg_->kill().ok());
  ASSERT_TRUE(pg_->startAgain().ok()) << pg_->logText();
  // The system got no answer from A and retries on B; the other call ends, on B.
  auto retried = post(*b_, callDocument(true, 501));
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_EQ(retried->status, 200u) << retried->body;
  auto disconnected = post(*b_, callDocument(false, 502));
  ASSERT_TRUE(disconnected.ok()) << disconnected.error().message;
  EXPECT_EQ(disconnected->status, 200u) << disconnected->body;
  // B could not use the database yet (the crash broke its connections): its copies went to the
  // spool, keyed by B alone.
  EXPECT_GT(metricValue(*b_, "atrium_ingest_batches_spooled_total"), 0);
  // A wakes and answers what it held (stored, or spooled and replayed).
  a_->process()->signal(SIGCONT);
  for (auto* held : {&held_retry, &held_connect}) {
    auto answer = held->get();
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    EXPECT_EQ(answer->status, 200u) << answer->body;
  }
  ASSERT_TRUE(a_->waitReady(std::chrono::seconds(30)) && b_->waitReady(std::chrono::seconds(30)));
  ASSERT_TRUE(waitFor([&] { return spoolsDrained(); }, std::chrono::seconds(30)));

  // The post and its retry: one event, one open call.
  EXPECT_EQ(connectEvents(501), 1);
  EXPECT_EQ(count(fmt::format(
                "SELECT count(*) FROM call_records WHERE system_id = '{}' AND call_id = '501'",
                system_.id)),
            1);
  // The call whose connect and disconnect went to different nodes: one record, closed, started
  // when the connect says.
  EXPECT_EQ(count(fmt::format(
                "SELECT count(*) FROM call_records WHERE system_id = '{}' AND call_id = '502'",
                system_.id)),
            1);
  EXPECT_EQ(count(fmt::format(
                "SELECT count(*) FROM call_records WHERE system_id = '{}' AND call_id = '502' "
                "AND ended_at IS NOT NULL AND NOT start_missed",
                system_.id)),
            1);
  EXPECT_EQ(count(fmt::format(
                "SELECT count(*) FROM call_records WHERE system_id = '{}' AND ended_at IS NULL "
                "AND call_id <> '501'",
                system_.id)),
            0);
}

TEST_F(DbCrashTest, ARestartedNodeSpoolsPostsOfSystemsItNeverSawWhileTheDatabaseIsAway) {
  // B restarts, and has not seen a post of this system since.
  ASSERT_TRUE(b_->stop().has_value());
  ASSERT_TRUE(b_->start().ok()) << b_->log();
  ASSERT_TRUE(b_->waitReady());
  EXPECT_GE(metricValue(*b_, "atrium_feedback_known_secrets"), 1);
  ASSERT_TRUE(pg_->stop().ok());
  auto answer = post(*b_, callDocument(true, 601));
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->status, 200u) << answer->body;
  EXPECT_GT(metricValue(*b_, "atrium_ingest_batches_spooled_total"), 0);
  // An unknown secret is still refused (404), not taken.
  auto unknown = b_->http("POST", "/feedback/" + std::string(32, 'a'), callDocument(true, 602),
                          {{"Content-Type", "text/xml"}});
  ASSERT_TRUE(unknown.ok());
  EXPECT_NE(unknown->status, 200u);
  ASSERT_TRUE(pg_->startAgain().ok());
  ASSERT_TRUE(waitFor([&] { return spoolsDrained(); }, std::chrono::seconds(30)));
  EXPECT_EQ(connectEvents(601), 1);
}

}  // namespace
}  // namespace atrium::testing
