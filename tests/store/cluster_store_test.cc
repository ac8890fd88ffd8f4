// ClusterStore's behaviour (node registry, leases and fencing, the task queue, validation keys,
// the shared ingest retry window), written once and run on SQLite and on a real PostgreSQL.
// Where two nodes matter, PostgreSQL gets two Database objects (two pools, as two nodes have);
// SQLite serves one process, so there both "nodes" share its one Database.
#include "store/cluster_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "common/clock.h"
#include "common/ids.h"
#include "store/device_store.h"
#include "store/store.h"
#include "support/backends.h"

namespace atrium::store {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Waits for a condition with a deadline instead of sleeping a fixed time.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline = 30s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

template <typename T>
T ok(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

void ok(const Status& s) {
  EXPECT_TRUE(s.ok()) << s.error().message;
  if (!s.ok()) throw std::runtime_error(s.error().message);
}

NodeHeartbeat heartbeatOf(const std::string& id, const std::string& name, const std::string& role) {
  NodeHeartbeat hb;
  hb.id = id;
  hb.name = name;
  hb.version = "1.2.3";
  hb.role = role;
  hb.state = role;
  hb.device_addresses = {"http://127.0.0.1:8080", "snmp://127.0.0.1:162"};
  hb.api_address = "127.0.0.1:8080";
  hb.file_path = "/var/cache/atrium";
  hb.cache_checksum = "abc";
  hb.identity_fingerprint = "id-fp";
  hb.key_fingerprint = "key-fp";
  hb.driver_families = {"cisco-xapi", "snmp"};
  hb.rtt_ms = 1.5;
  hb.rtt_p50_ms = 1.25;
  hb.rtt_p99_ms = 4.5;
  hb.clock_offset_ms = -3;
  return hb;
}

class ClusterStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("atrium-cluster-store-" + newUuid());
    fs::create_directories(dir_);
    url_ = testing::freshDatabaseUrl(GetParam(), dir_);
    db_ = ok(Database::open(url_));
    Store store(*db_, clock_);
    ok(store.migrate());
    cluster_ = std::make_unique<ClusterStore>(*db_);
  }

  void TearDown() override {
    cluster_.reset();
    second_cluster_.reset();
    second_db_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  bool postgres() const { return GetParam() == testing::kPostgres; }

  // What a second node uses: its own Database on PostgreSQL, the same one on SQLite.
  ClusterStore& secondNode() {
    if (!second_cluster_) {
      if (postgres()) {
        second_db_ = ok(Database::open(url_));
        second_cluster_ = std::make_unique<ClusterStore>(*second_db_);
      } else {
        second_cluster_ = std::make_unique<ClusterStore>(*db_);
      }
    }
    return *second_cluster_;
  }

  // A lease held by `holder` that expires at once, so another may take it.
  Lease shortLease(const std::string& key, const std::string& holder) {
    auto lease = ok(cluster_->acquireLease(key, holder, 1));
    EXPECT_TRUE(lease.has_value());
    return lease.value_or(Lease{});
  }

  std::optional<Lease> waitToTake(ClusterStore& store, const std::string& key,
                                  const std::string& holder, std::int64_t ttl_ms) {
    std::optional<Lease> taken;
    eventually([&] {
      taken = ok(store.acquireLease(key, holder, ttl_ms));
      return taken.has_value();
    });
    return taken;
  }

  FakeClock clock_{
      std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'000))};
  fs::path dir_;
  std::string url_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<ClusterStore> cluster_;
  std::unique_ptr<Database> second_db_;
  std::unique_ptr<ClusterStore> second_cluster_;
};

// ---- registry --------------------------------------------------------------------------------

TEST_P(ClusterStoreTest, HeartbeatsRegisterNodesWithEverythingTheyReport) {
  const auto before = ok(cluster_->databaseNow());
  ok(cluster_->heartbeat(heartbeatOf("node-a", "alpha", "active"), true));
  ok(cluster_->heartbeat(heartbeatOf("node-b", "beta", "standby"), true));
  auto nodes = ok(cluster_->nodes(60'000));
  ASSERT_EQ(nodes.size(), 2u);
  const NodeRecord& a = nodes[0];
  EXPECT_EQ(a.node.id, "node-a");
  EXPECT_EQ(a.node.name, "alpha");
  EXPECT_EQ(a.node.version, "1.2.3");
  EXPECT_EQ(a.node.role, "active");
  EXPECT_EQ(a.state, "active");
  EXPECT_TRUE(a.alive);
  EXPECT_EQ(a.node.device_addresses,
            (std::vector<std::string>{"http://127.0.0.1:8080", "snmp://127.0.0.1:162"}));
  EXPECT_EQ(a.node.driver_families, (std::vector<std::string>{"cisco-xapi", "snmp"}));
  EXPECT_EQ(a.node.api_address, "127.0.0.1:8080");
  EXPECT_EQ(a.node.file_path, "/var/cache/atrium");
  EXPECT_EQ(a.node.cache_checksum, "abc");
  EXPECT_EQ(a.node.identity_fingerprint, "id-fp");
  EXPECT_EQ(a.node.key_fingerprint, "key-fp");
  EXPECT_DOUBLE_EQ(a.node.rtt_ms, 1.5);
  EXPECT_DOUBLE_EQ(a.node.rtt_p50_ms, 1.25);
  EXPECT_DOUBLE_EQ(a.node.rtt_p99_ms, 4.5);
  EXPECT_EQ(a.node.clock_offset_ms, -3);
  EXPECT_FALSE(a.requested_role.has_value());
  EXPECT_GE(a.started_at, before);
  EXPECT_GE(a.last_heartbeat, a.started_at);
  EXPECT_GE(a.age_ms, 0);
  EXPECT_EQ(nodes[1].node.role, "standby");

  // A later heartbeat of the same process keeps started_at; a fresh start resets it.
  const auto started = a.started_at;
  ASSERT_TRUE(eventually([&] { return ok(cluster_->databaseNow()) > started; }));
  auto hb = heartbeatOf("node-a", "alpha", "active");
  hb.rtt_ms = 9;
  ok(cluster_->heartbeat(hb, false));
  nodes = ok(cluster_->nodes(60'000));
  EXPECT_EQ(nodes[0].started_at, started);
  EXPECT_GT(nodes[0].last_heartbeat, started);
  EXPECT_DOUBLE_EQ(nodes[0].node.rtt_ms, 9);
  ok(cluster_->heartbeat(hb, true));
  EXPECT_GT(ok(cluster_->nodes(60'000))[0].started_at, started);
}

TEST_P(ClusterStoreTest, ANodeSilentForTheFailoverTimeoutIsDead) {
  ok(cluster_->heartbeat(heartbeatOf("node-a", "alpha", "active"), true));
  EXPECT_TRUE(ok(cluster_->nodes(60'000))[0].alive);
  // With a 50 ms failover timeout the node is dead once 50 ms pass on the database clock.
  ASSERT_TRUE(eventually([&] { return !ok(cluster_->nodes(50))[0].alive; }));
  auto dead = ok(cluster_->nodes(50))[0];
  EXPECT_EQ(dead.state, "dead");
  EXPECT_GT(dead.age_ms, 50);
  ok(cluster_->heartbeat(heartbeatOf("node-a", "alpha", "active"), false));
  EXPECT_EQ(ok(cluster_->nodes(60'000))[0].state, "active");
}

TEST_P(ClusterStoreTest, AStoppedNodeIsDeadAtOnceAndPrunedLater) {
  ok(cluster_->heartbeat(heartbeatOf("node-a", "alpha", "active"), true));
  ok(cluster_->heartbeat(heartbeatOf("node-b", "beta", "active"), true));
  ok(cluster_->markStopped("node-a"));
  auto nodes = ok(cluster_->nodes(60'000));
  EXPECT_FALSE(nodes[0].alive);
  EXPECT_EQ(nodes[0].state, "dead");
  EXPECT_EQ(nodes[0].node.state, "draining");
  EXPECT_TRUE(nodes[1].alive);
  EXPECT_EQ(cluster_->markStopped("nobody").error().code, ErrorCode::kNotFound);
  ok(cluster_->pruneNodes(3'600'000));
  nodes = ok(cluster_->nodes(60'000));
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].node.id, "node-b");
}

TEST_P(ClusterStoreTest, RoleRequestsAreRecordedByIdOrNameUntilCleared) {
  ok(cluster_->heartbeat(heartbeatOf("node-a", "alpha", "standby"), true));
  ok(cluster_->requestRole("alpha", "active"));
  EXPECT_EQ(ok(cluster_->nodes(60'000))[0].requested_role, std::optional<std::string>("active"));
  ok(cluster_->requestRole("node-a", "standby"));
  EXPECT_EQ(ok(cluster_->nodes(60'000))[0].requested_role, std::optional<std::string>("standby"));
  EXPECT_EQ(cluster_->requestRole("ghost", "active").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(cluster_->requestRole("alpha", "boss").error().code, ErrorCode::kInvalidArgument);
  ok(cluster_->clearRequestedRole("node-a"));
  EXPECT_FALSE(ok(cluster_->nodes(60'000))[0].requested_role.has_value());
  ok(cluster_->setRole("node-a", "active"));
  EXPECT_EQ(ok(cluster_->nodes(60'000))[0].node.role, "active");
  EXPECT_EQ(cluster_->setRole("ghost", "active").error().code, ErrorCode::kNotFound);
}

TEST_P(ClusterStoreTest, AStandbyPromotesOnlyWhenNoActiveNodeIsAlive) {
  ok(cluster_->heartbeat(heartbeatOf("node-a", "alpha", "active"), true));
  ok(cluster_->heartbeat(heartbeatOf("node-b", "beta", "standby"), true));
  EXPECT_FALSE(ok(cluster_->promoteIfNoActive("node-b", 60'000)));
  // The active node falls silent: with a short failover timeout it no longer counts.
  ASSERT_TRUE(eventually([&] {
    ok(cluster_->heartbeat(heartbeatOf("node-b", "beta", "standby"), false));
    return ok(cluster_->promoteIfNoActive("node-b", 100));
  }));
  auto nodes = ok(cluster_->nodes(60'000));
  EXPECT_EQ(nodes[1].node.role, "active");
  EXPECT_EQ(nodes[1].state, "active");
  // An unknown node cannot promote itself (once no active node is alive to refuse it).
  ok(cluster_->markStopped("node-a"));
  ok(cluster_->markStopped("node-b"));
  auto ghost = cluster_->promoteIfNoActive("ghost", 60'000);
  ASSERT_FALSE(ghost.ok());
  EXPECT_EQ(ghost.error().code, ErrorCode::kNotFound);
}

TEST_P(ClusterStoreTest, TwoStandbysRacingToPromoteExactlyOneWins) {
  for (int round = 0; round < 10; ++round) {
    const std::string a = fmt::format("standby-a-{}", round);
    const std::string b = fmt::format("standby-b-{}", round);
    ok(cluster_->heartbeat(heartbeatOf(a, a, "standby"), true));
    ok(cluster_->heartbeat(heartbeatOf(b, b, "standby"), true));
    ClusterStore& other = secondNode();
    std::atomic<bool> go{false};
    Result<bool> won_a = false;
    Result<bool> won_b = false;
    std::thread ta([&] {
      while (!go) std::this_thread::yield();
      won_a = cluster_->promoteIfNoActive(a, 60'000);
    });
    std::thread tb([&] {
      while (!go) std::this_thread::yield();
      won_b = other.promoteIfNoActive(b, 60'000);
    });
    go = true;
    ta.join();
    tb.join();
    ASSERT_TRUE(won_a.ok()) << won_a.error().message;
    ASSERT_TRUE(won_b.ok()) << won_b.error().message;
    EXPECT_NE(*won_a, *won_b) << "round " << round << ": exactly one standby must promote";
    // Make this round's winner count as gone for the next round.
    ok(cluster_->markStopped(*won_a ? a : b));
  }
}

// ---- leases ----------------------------------------------------------------------------------

TEST_P(ClusterStoreTest, ALeaseIsTakenRenewedRefusedAndStolenAfterExpiryWithARisingToken) {
  auto first = ok(cluster_->acquireLease("bucket:1", "node-a", 60'000));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->holder, "node-a");
  EXPECT_GT(first->expires_at, first->db_now);
  EXPECT_EQ(first->expires_at - first->db_now, 60'000);
  // Renewing by the holder keeps the token.
  auto renewed = ok(cluster_->acquireLease("bucket:1", "node-a", 60'000));
  ASSERT_TRUE(renewed);
  EXPECT_EQ(renewed->token, first->token);
  EXPECT_GE(renewed->expires_at, first->expires_at);
  // Another node is refused while it is held.
  EXPECT_FALSE(ok(secondNode().acquireLease("bucket:1", "node-b", 60'000)).has_value());
  EXPECT_TRUE(ok(cluster_->fenceValid(Fence{"bucket:1", "node-a", first->token})));

  // Once it expires another node takes it, with a higher token; the old fence is dead.
  ok(cluster_->acquireLease("bucket:1", "node-a", 1));
  auto stolen = waitToTake(secondNode(), "bucket:1", "node-b", 60'000);
  ASSERT_TRUE(stolen);
  EXPECT_EQ(stolen->holder, "node-b");
  EXPECT_GT(stolen->token, first->token);
  EXPECT_FALSE(ok(cluster_->fenceValid(Fence{"bucket:1", "node-a", first->token})));
  EXPECT_TRUE(ok(cluster_->fenceValid(Fence{"bucket:1", "node-b", stolen->token})));
  EXPECT_FALSE(ok(cluster_->acquireLease("bucket:1", "node-a", 60'000)).has_value());

  // Release keeps the token; the next holder's is higher still.
  ok(secondNode().releaseLease(Fence{"bucket:1", "node-b", stolen->token}));
  auto listed = ok(cluster_->leases("bucket:"));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].holder, "");
  EXPECT_EQ(listed[0].token, stolen->token);
  EXPECT_FALSE(ok(cluster_->fenceValid(Fence{"bucket:1", "node-b", stolen->token})));
  auto again = ok(cluster_->acquireLease("bucket:1", "node-a", 60'000));
  ASSERT_TRUE(again);
  EXPECT_GT(again->token, stolen->token);
  // A release with a stale fence changes nothing.
  ok(cluster_->releaseLease(Fence{"bucket:1", "node-b", stolen->token}));
  EXPECT_TRUE(ok(cluster_->fenceValid(Fence{"bucket:1", "node-a", again->token})));
}

TEST_P(ClusterStoreTest, RenewingManyLeasesKeepsOnlyThoseStillHeld) {
  auto a = ok(cluster_->acquireLease("bucket:1", "node-a", 60'000));
  auto b = ok(cluster_->acquireLease("bucket:2", "node-a", 60'000));
  auto c = ok(cluster_->acquireLease("bucket:3", "node-a", 1));
  ASSERT_TRUE(a && b && c);
  auto lost = waitToTake(secondNode(), "bucket:3", "node-b", 60'000);
  ASSERT_TRUE(lost);
  auto kept = ok(cluster_->renewLeases(
      "node-a",
      {Fence{"bucket:1", "node-a", a->token}, Fence{"bucket:2", "node-a", b->token},
       Fence{"bucket:3", "node-a", c->token}},
      30'000));
  std::set<std::string> keys;
  for (const auto& l : kept) {
    keys.insert(l.key);
    EXPECT_EQ(l.expires_at - l.db_now, 30'000);
    EXPECT_EQ(l.holder, "node-a");
  }
  EXPECT_EQ(keys, (std::set<std::string>{"bucket:1", "bucket:2"}));
  EXPECT_TRUE(ok(cluster_->renewLeases("node-a", {}, 30'000)).empty());
  EXPECT_EQ(ok(cluster_->leases("bucket:")).size(), 3u);
  EXPECT_EQ(ok(cluster_->leases("task:")).size(), 0u);
}

TEST_P(ClusterStoreTest, AFencedPollWriteIsRefusedOnceAnotherNodeTookTheLease) {
  Store store(*db_, clock_);
  DeviceStore devices(*db_, clock_);
  System s;
  s.name = "Room 1";
  s.family = "cisco-xapi";
  s.addresses = {"10.0.0.1"};
  auto system = ok(store.createSystem(s, "tester"));
  const std::string key = bucketLeaseKey(bucketOf(system.id));

  auto mine = ok(cluster_->acquireLease(key, "node-a", 60'000));
  ASSERT_TRUE(mine);
  PollObservation o;
  o.system_id = system.id;
  o.at = clock_.now();
  o.reachable = true;
  o.status = "idle";
  o.software_version = "ce11.1";
  ok(devices.recordPoll(o, Fence{key, "node-a", mine->token}));
  auto polled = ok(store.system(system.id));
  EXPECT_EQ(polled.status, "idle");
  EXPECT_EQ(polled.last_polled_by, std::optional<std::string>("node-a"));

  // node-a pauses past its lease; node-b takes the bucket and polls.
  ok(cluster_->acquireLease(key, "node-a", 1));
  auto theirs = waitToTake(secondNode(), key, "node-b", 60'000);
  ASSERT_TRUE(theirs);
  o.status = "in-call";
  o.software_version = "ce11.2";
  ok(devices.recordPoll(o, Fence{key, "node-b", theirs->token}));

  // node-a wakes up and writes with its stale token: refused, nothing changes.
  o.status = "unreachable";
  o.software_version = "ce9.0";
  auto stale = devices.recordPoll(o, Fence{key, "node-a", mine->token});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_EQ(stale.error().message,
            fmt::format("lease {} no longer held by this node (token {})", key, mine->token));
  polled = ok(store.system(system.id));
  EXPECT_EQ(polled.status, "in-call");
  EXPECT_EQ(polled.software_version, "ce11.2");
  EXPECT_EQ(polled.last_polled_by, std::optional<std::string>("node-b"));

  // A fenced write about a system that does not exist is still not_found.
  o.system_id = newUuid();
  EXPECT_EQ(devices.recordPoll(o, Fence{key, "node-b", theirs->token}).error().code,
            ErrorCode::kNotFound);

  // Without a fence (a single node) the write lands and names the node when it is given.
  o.system_id = system.id;
  o.status = "idle";
  o.node_id = "solo";
  ok(devices.recordPoll(o));
  EXPECT_EQ(ok(store.system(system.id)).last_polled_by, std::optional<std::string>("solo"));
  o.node_id.clear();
  ok(devices.recordPoll(o));
  EXPECT_EQ(ok(store.system(system.id)).last_polled_by, std::optional<std::string>("solo"));
}

// ---- tasks -----------------------------------------------------------------------------------

TaskSpec taskSpec(const std::string& kind, bool idempotent = false) {
  TaskSpec spec;
  spec.kind = kind;
  spec.idempotent = idempotent;
  spec.created_by = "tester";
  return spec;
}

TEST_P(ClusterStoreTest, ATaskIsCreatedClaimedOnceAndFinished) {
  auto spec = taskSpec("wait");
  spec.name = "Wait a bit";
  spec.payload = R"({"seconds":1})";
  auto created = ok(cluster_->createTask(spec));
  EXPECT_EQ(created.state, "scheduled");
  EXPECT_EQ(created.spec.name, "Wait a bit");
  EXPECT_EQ(created.spec.payload, R"({"seconds":1})");
  EXPECT_EQ(created.spec.misfire, "run-once");
  EXPECT_EQ(created.spec.max_attempts, 3);
  EXPECT_EQ(created.spec.created_by, "tester");
  EXPECT_EQ(ok(cluster_->countTasks("")), 1);
  EXPECT_EQ(ok(cluster_->countTasks("scheduled")), 1);
  EXPECT_EQ(ok(cluster_->countTasks("running")), 0);

  auto claimed = ok(cluster_->claimDueTask("node-a", "alpha", 60'000));
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->task.id, created.id);
  EXPECT_EQ(claimed->task.state, "running");
  EXPECT_EQ(claimed->task.holder, "node-a");
  EXPECT_EQ(claimed->task.attempts, 1);
  EXPECT_EQ(claimed->fence.lease_key, "task:" + created.id);
  EXPECT_TRUE(ok(cluster_->fenceValid(claimed->fence)));
  EXPECT_FALSE(ok(secondNode().claimDueTask("node-b", "beta", 60'000)).has_value());
  EXPECT_TRUE(ok(cluster_->renewTask(claimed->fence, 60'000)));

  EXPECT_TRUE(ok(cluster_->finishTask(*claimed, true, "done")));
  auto finished = ok(cluster_->task(created.id));
  ASSERT_TRUE(finished);
  EXPECT_EQ(finished->state, "succeeded");
  EXPECT_FALSE(ok(cluster_->fenceValid(claimed->fence)));
  EXPECT_FALSE(ok(cluster_->finishTask(*claimed, true, "twice")));
  auto runs = ok(cluster_->taskRuns(created.id));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].node, "node-a");
  EXPECT_EQ(runs[0].node_name, "alpha");
  EXPECT_EQ(runs[0].attempt, 1);
  EXPECT_EQ(runs[0].outcome, "succeeded");
  EXPECT_EQ(runs[0].message, "done");
  EXPECT_TRUE(runs[0].finished_at.has_value());

  auto failing = ok(cluster_->createTask(taskSpec("database-backup")));
  auto claim2 = ok(cluster_->claimDueTask("node-a", "alpha", 60'000));
  ASSERT_TRUE(claim2);
  EXPECT_TRUE(ok(cluster_->finishTask(*claim2, false, "disk full")));
  auto failed = ok(cluster_->task(failing.id));
  EXPECT_EQ(failed->state, "failed");
  EXPECT_EQ(failed->last_error, "disk full");
  auto listed = ok(cluster_->tasks("", 10, 0));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(ok(cluster_->tasks("failed", 10, 0)).size(), 1u);
  EXPECT_FALSE(ok(cluster_->task(newUuid())).has_value());
}

TEST_P(ClusterStoreTest, TasksAreValidated) {
  auto bad = taskSpec("wait");
  bad.misfire = "sometimes";
  EXPECT_EQ(cluster_->createTask(bad).error().field, "misfire");
  bad = taskSpec("");
  EXPECT_EQ(cluster_->createTask(bad).error().field, "kind");
  bad = taskSpec("wait");
  bad.payload = "[1]";
  EXPECT_EQ(cluster_->createTask(bad).error().field, "payload");
  bad = taskSpec("wait");
  bad.interval_s = 0;
  EXPECT_EQ(cluster_->createTask(bad).error().field, "interval_s");
}

TEST_P(ClusterStoreTest, AFutureTaskIsNotDueAndCancellingFollowsItsState) {
  const auto now = ok(cluster_->databaseNow());
  auto later = taskSpec("wait");
  later.run_at = now + 3'600'000;
  auto future = ok(cluster_->createTask(later));
  EXPECT_EQ(future.next_run_at, now + 3'600'000);
  EXPECT_FALSE(ok(cluster_->claimDueTask("node-a", "alpha", 60'000)).has_value());
  EXPECT_EQ(ok(cluster_->cancelTask(future.id)).state, "cancelled");
  EXPECT_EQ(cluster_->cancelTask(future.id).error().code, ErrorCode::kConflict);
  EXPECT_EQ(cluster_->cancelTask(newUuid()).error().code, ErrorCode::kNotFound);

  // A running task is cancelled when its run ends.
  auto running = ok(cluster_->createTask(taskSpec("wait")));
  auto claimed = ok(cluster_->claimDueTask("node-a", "alpha", 60'000));
  ASSERT_TRUE(claimed);
  EXPECT_EQ(ok(cluster_->cancelTask(running.id)).state, "running");
  EXPECT_TRUE(ok(cluster_->finishTask(*claimed, true, "finished anyway")));
  EXPECT_EQ(ok(cluster_->task(running.id))->state, "cancelled");
}

TEST_P(ClusterStoreTest, ARunningTasksCancelComesBackWithItsRenewalAndEndsTheRunCancelled) {
  auto spec = taskSpec("wait");
  spec.interval_s = 60;  // recurring: a cancel still ends it
  auto running = ok(cluster_->createTask(spec));
  auto claimed = ok(cluster_->claimDueTask("node-a", "alpha", 60'000));
  ASSERT_TRUE(claimed);
  auto before = ok(cluster_->renewTaskLease(claimed->fence, 60'000));
  EXPECT_TRUE(before.held);
  EXPECT_FALSE(before.cancel_requested);

  // Any node's cancel is a row change; the holder sees it at its next renewal, with who.
  EXPECT_EQ(ok(cluster_->cancelTask(running.id, "carol")).state, "running");
  auto after = ok(cluster_->renewTaskLease(claimed->fence, 60'000));
  EXPECT_TRUE(after.held);
  EXPECT_TRUE(after.cancel_requested);
  EXPECT_EQ(after.cancelled_by, "carol");

  EXPECT_TRUE(ok(cluster_->finishCancelledTask(*claimed, "cancelled by carol")));
  auto task = ok(cluster_->task(running.id));
  EXPECT_EQ(task->state, "cancelled");
  EXPECT_EQ(task->last_error, "cancelled by carol");
  auto runs = ok(cluster_->taskRuns(running.id));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].outcome, "cancelled");
  EXPECT_EQ(runs[0].message, "cancelled by carol");
  EXPECT_TRUE(runs[0].finished_at.has_value());
  // Fenced: once ended, the renewal is refused.
  EXPECT_FALSE(ok(cluster_->renewTaskLease(claimed->fence, 60'000)).held);
}

TEST_P(ClusterStoreTest, ARecurringTaskGoesBackToItsNextSlot) {
  const auto now = ok(cluster_->databaseNow());
  auto spec = taskSpec("feedback-reregister", true);
  spec.interval_s = 3600;
  spec.run_at = now - 1000;
  auto created = ok(cluster_->createTask(spec));
  auto claimed = ok(cluster_->claimDueTask("node-a", "alpha", 60'000));
  ASSERT_TRUE(claimed);
  EXPECT_TRUE(ok(cluster_->finishTask(*claimed, true, "")));
  auto after = ok(cluster_->task(created.id));
  EXPECT_EQ(after->state, "scheduled");
  EXPECT_EQ(after->next_run_at, now - 1000 + 3'600'000);
  EXPECT_EQ(after->attempts, 0);
  EXPECT_EQ(after->holder, "");
}

TEST_P(ClusterStoreTest, MisfiredRecurringTasksFollowTheirPolicy) {
  const auto now = ok(cluster_->databaseNow());
  auto skip = taskSpec("feedback-reregister");
  skip.interval_s = 60;
  skip.misfire = "skip";
  skip.run_at = now - 10 * 60'000 - 5'000;  // ten runs missed
  auto skipped = ok(cluster_->createTask(skip));
  EXPECT_FALSE(ok(cluster_->claimDueTask("node-a", "alpha", 60'000)).has_value());
  auto moved = ok(cluster_->task(skipped.id));
  EXPECT_EQ(moved->state, "scheduled");
  EXPECT_GT(moved->next_run_at, now);
  EXPECT_EQ((moved->next_run_at - skip.run_at.value()) % 60'000, 0);
  auto runs = ok(cluster_->taskRuns(skipped.id));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].outcome, "skipped");
  EXPECT_NE(runs[0].message.find("missed 11 run(s)"), std::string::npos) << runs[0].message;

  auto once = skip;
  once.misfire = "run-once";
  auto run_once = ok(cluster_->createTask(once));
  auto claimed = ok(cluster_->claimDueTask("node-a", "alpha", 60'000));
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->task.id, run_once.id);
  EXPECT_TRUE(ok(cluster_->finishTask(*claimed, true, "")));
  EXPECT_GT(ok(cluster_->task(run_once.id))->next_run_at, now);
}

TEST_P(ClusterStoreTest, TwoNodesClaimingAtOnceNeverClaimTheSameTask) {
  constexpr int kTasks = 40;
  for (int i = 0; i < kTasks; ++i) ok(cluster_->createTask(taskSpec("wait")));
  ClusterStore& other = secondNode();
  std::vector<std::string> by_a;
  std::vector<std::string> by_b;
  std::atomic<bool> go{false};
  std::string error;
  std::mutex mu;
  auto claimer = [&](ClusterStore& store, const std::string& node, std::vector<std::string>& out) {
    while (!go) std::this_thread::yield();
    for (;;) {
      auto claimed = store.claimDueTask(node, node, 60'000);
      if (!claimed.ok()) {
        std::lock_guard lock(mu);
        error = claimed.error().message;
        return;
      }
      if (!*claimed) return;
      out.push_back((*claimed)->task.id);
    }
  };
  std::thread ta(claimer, std::ref(*cluster_), "node-a", std::ref(by_a));
  std::thread tb(claimer, std::ref(other), "node-b", std::ref(by_b));
  go = true;
  ta.join();
  tb.join();
  ASSERT_EQ(error, "");
  std::set<std::string> all(by_a.begin(), by_a.end());
  for (const auto& id : by_b)
    EXPECT_TRUE(all.insert(id).second) << "task " << id << " claimed twice";
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kTasks));
  EXPECT_EQ(ok(cluster_->countTasks("running")), kTasks);
}

TEST_P(ClusterStoreTest, ExpiredTasksAreReRunWhenIdempotentAndFailedOtherwise) {
  auto rerun = ok(cluster_->createTask(taskSpec("feedback-reregister", true)));
  ok(cluster_->heartbeat(heartbeatOf("node-a", "alpha", "active"), true));
  auto first = ok(cluster_->claimDueTask("node-a", "alpha", 1));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->task.id, rerun.id);
  auto once = ok(cluster_->createTask(taskSpec("database-backup", false)));
  auto second = ok(cluster_->claimDueTask("node-a", "alpha", 1));
  ASSERT_TRUE(second);

  int taken = 0;
  ASSERT_TRUE(eventually([&] {
    taken += ok(secondNode().recoverExpiredTasks("beta"));
    return taken == 2;
  }));
  EXPECT_EQ(ok(secondNode().recoverExpiredTasks("beta")), 0);  // idempotent: nothing left

  auto requeued = ok(cluster_->task(rerun.id));
  EXPECT_EQ(requeued->state, "scheduled");
  EXPECT_EQ(requeued->holder, "");
  EXPECT_NE(requeued->last_error.find("alpha (node-a)"), std::string::npos) << requeued->last_error;
  auto runs = ok(cluster_->taskRuns(rerun.id));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].outcome, "interrupted");
  EXPECT_NE(runs[0].message.find("taken over by beta"), std::string::npos) << runs[0].message;

  auto failed = ok(cluster_->task(once.id));
  EXPECT_EQ(failed->state, "failed");
  EXPECT_NE(failed->last_error.find("alpha (node-a)"), std::string::npos) << failed->last_error;
  EXPECT_NE(failed->last_error.find("not idempotent"), std::string::npos) << failed->last_error;
  EXPECT_EQ(ok(cluster_->taskRuns(once.id))[0].outcome, "interrupted");

  // The stalled node's late finish does not land; the re-run is attempt 2 on the other node.
  EXPECT_FALSE(ok(cluster_->finishTask(*first, true, "late")));
  EXPECT_FALSE(ok(cluster_->renewTask(first->fence, 60'000)));
  auto again = ok(secondNode().claimDueTask("node-b", "beta", 60'000));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->task.id, rerun.id);
  EXPECT_EQ(again->task.attempts, 2);
  EXPECT_GT(again->fence.token, first->fence.token);
  EXPECT_TRUE(ok(secondNode().finishTask(*again, true, "ok")));
  EXPECT_EQ(ok(cluster_->task(rerun.id))->state, "succeeded");
}

TEST_P(ClusterStoreTest, AnIdempotentTaskIsFailedWhenItsAttemptsAreUsedUp) {
  auto spec = taskSpec("feedback-reregister", true);
  spec.max_attempts = 1;
  auto task = ok(cluster_->createTask(spec));
  ASSERT_TRUE(ok(cluster_->claimDueTask("node-a", "alpha", 1)));
  ASSERT_TRUE(eventually([&] { return ok(cluster_->recoverExpiredTasks("beta")) == 1; }));
  auto failed = ok(cluster_->task(task.id));
  EXPECT_EQ(failed->state, "failed");
  EXPECT_NE(failed->last_error.find("no attempts left"), std::string::npos) << failed->last_error;
}

// ---- validation keys -------------------------------------------------------------------------

TEST_P(ClusterStoreTest, RotatedValidationKeysStayValidForTheirGracePeriod) {
  EXPECT_TRUE(ok(cluster_->validationKeys()).empty());
  const std::string s1(64, 'a'), s2(64, 'b'), s3(64, 'c');
  auto k1 = ok(cluster_->rotateValidationKey(s1, 3'600'000));
  EXPECT_EQ(k1.secret_hex, s1);
  EXPECT_FALSE(k1.retired_at.has_value());
  EXPECT_EQ(k1.id.size(), 12u);
  auto keys = ok(cluster_->validationKeys());
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].id, k1.id);

  auto k2 = ok(cluster_->rotateValidationKey(s2, 3'600'000));
  keys = ok(cluster_->validationKeys());
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].id, k2.id);  // current first
  EXPECT_EQ(keys[1].id, k1.id);
  ASSERT_TRUE(keys[1].retired_at && keys[1].valid_until);
  EXPECT_EQ(*keys[1].valid_until - *keys[1].retired_at, 3'600'000);

  // No grace: the key retired now is no longer accepted; the older one keeps its grace.
  auto k3 = ok(cluster_->rotateValidationKey(s3, 0));
  keys = ok(cluster_->validationKeys());
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].id, k3.id);
  EXPECT_EQ(keys[1].id, k1.id);

  EXPECT_EQ(cluster_->rotateValidationKey("abc", 0).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(cluster_->rotateValidationKey(std::string(64, 'z'), 0).error().code,
            ErrorCode::kInvalidArgument);
}

// System passwords at rest, on both backends: a legacy clear value is sealed when the first key
// is made; new ones are sealed on create and update; a rotation moves them all to the new key
// (the old key's values still open until then); the clear text is never in the table.
TEST_P(ClusterStoreTest, SystemPasswordsAreSealedUnderTheCurrentKeyAndMovedByARotation) {
  Store store(*db_, clock_);
  DeviceStore devices(*db_, clock_);
  auto storedPasswords = [&] {
    auto pooled = ok(db_->acquire());
    auto r = ok(pooled->query("SELECT id, password FROM systems ORDER BY name"));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < r.size(); ++i) out.push_back(r.text(i, 1));
    return out;
  };
  System legacy;
  legacy.name = "A legacy";
  legacy.family = "cisco-xapi";
  legacy.addresses = {"10.0.0.1"};
  legacy.password = "legacy-pw-clear";
  // No validation key yet: kept as given.
  auto a = ok(store.createSystem(legacy, "tester"));
  EXPECT_EQ(storedPasswords(), std::vector<std::string>{"legacy-pw-clear"});

  auto k1 = ok(cluster_->rotateValidationKey(std::string(64, '1'), 3'600'000));
  System fresh = legacy;
  fresh.name = "B fresh";
  fresh.password = "fresh-pw-clear";
  auto b = ok(store.createSystem(fresh, "tester"));
  for (const auto& stored : storedPasswords()) {
    EXPECT_TRUE(stored.starts_with("enc1:" + k1.id + ":")) << stored;
  }
  EXPECT_EQ(ok(devices.systemPassword(ok(store.system(a.id)))), "legacy-pw-clear");
  EXPECT_EQ(ok(devices.systemPassword(b)), "fresh-pw-clear");

  // The same password again writes nothing; another is sealed.
  SystemPatch same;
  same.password = "fresh-pw-clear";
  EXPECT_EQ(ok(store.updateSystem(b.id, same, "tester")).password, b.password);
  SystemPatch other;
  other.password = "other-pw-clear";
  auto changed = ok(store.updateSystem(b.id, other, "tester"));
  EXPECT_TRUE(changed.password.starts_with("enc1:" + k1.id + ":"));
  EXPECT_EQ(ok(devices.systemPassword(changed)), "other-pw-clear");

  auto k2 = ok(cluster_->rotateValidationKey(std::string(64, '2'), 3'600'000));
  for (const auto& stored : storedPasswords()) {
    EXPECT_TRUE(stored.starts_with("enc1:" + k2.id + ":")) << stored;
    EXPECT_EQ(stored.find("-pw-clear"), std::string::npos);
  }
  // A value read before the rotation (under k1) still opens; so do the new ones.
  EXPECT_EQ(ok(devices.systemPassword(changed)), "other-pw-clear");
  EXPECT_EQ(ok(devices.systemPassword(ok(store.system(a.id)))), "legacy-pw-clear");
  EXPECT_EQ(ok(devices.systemPassword(ok(store.system(b.id)))), "other-pw-clear");
}

INSTANTIATE_TEST_SUITE_P(Backends, ClusterStoreTest,
                         ::testing::Values(testing::kSqlite, testing::kPostgres),
                         [](const auto& param_info) { return std::string(param_info.param); });

// ---- buckets ---------------------------------------------------------------------------------

TEST(BucketTest, BucketsAreFnv1aOfTheIdAndSpreadEvenly) {
  EXPECT_EQ(bucketOf(""), 37);  // FNV-1a 64 offset basis 0xcbf29ce484222325 mod 64
  EXPECT_EQ(bucketOf("a"), static_cast<int>(0xaf63dc4c8601ec8cull % 64));
  EXPECT_EQ(bucketLeaseKey(5), "bucket:5");
  std::vector<int> counts(kBucketCount, 0);
  for (int i = 0; i < kBucketCount * 100; ++i) {
    const int b = bucketOf(newUuid());
    ASSERT_GE(b, 0);
    ASSERT_LT(b, kBucketCount);
    ++counts[static_cast<std::size_t>(b)];
  }
  for (int c : counts) EXPECT_GT(c, 30);  // about 100 each
}

}  // namespace
}  // namespace atrium::store
