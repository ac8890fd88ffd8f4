// NodeRuntime on a real PostgreSQL: several runtimes in one process, each with its own pool (as
// separate nodes have), heartbeat 150 ms and failover timeout 2 s. They divide the 64 buckets
// without overlap, take over the buckets of a node that stopped (after its leases expire) or
// drained (at once), and a hot standby promotes when the active node stops — exactly one when
// two standbys race. Waits are deadlines on conditions.
#include "cluster/node_runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "cluster/rendezvous.h"
#include "common/clock.h"
#include "common/ids.h"
#include "store/cluster_store.h"
#include "store/store.h"
#include "support/backends.h"

namespace atrium::cluster {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline = 20s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

struct Node {
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::ClusterStore> cluster;
  std::unique_ptr<NodeRuntime> runtime;
};

class NodeRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("atrium-node-runtime-" + newUuid());
    fs::create_directories(dir_);
    url_ = testing::freshDatabaseUrl(testing::kPostgres, dir_);
    auto db = store::Database::open(url_);
    ASSERT_TRUE(db.ok()) << db.error().message;
    store::Store s(**db, clock_);
    auto migrated = s.migrate();
    ASSERT_TRUE(migrated.ok()) << migrated.error().message;
    admin_db_ = std::move(*db);
    admin_ = std::make_unique<store::ClusterStore>(*admin_db_);
  }

  void TearDown() override {
    nodes_.clear();
    admin_.reset();
    admin_db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  NodeRuntime& startNode(const std::string& name, const std::string& role,
                         std::chrono::milliseconds failover = 2000ms) {
    Node n;
    auto db = store::Database::open(url_);
    EXPECT_TRUE(db.ok()) << db.error().message;
    n.db = std::move(*db);
    n.cluster = std::make_unique<store::ClusterStore>(*n.db);
    NodeRuntimeOptions o;
    o.identity.id = newUuid();
    o.identity.name = name;
    o.identity.version = "test";
    o.identity.role = role;
    o.identity.driver_families = {"cisco-xapi"};
    o.heartbeat = 150ms;
    o.failover_timeout = failover;
    o.database_url = url_;
    n.runtime = std::make_unique<NodeRuntime>(o, *n.db, *n.cluster, clock_);
    auto started = n.runtime->start();
    EXPECT_TRUE(started.ok()) << started.error().message;
    nodes_.push_back(std::move(n));
    return *nodes_.back().runtime;
  }

  // The owned buckets of these runtimes cover all 64 exactly once.
  static bool divideAll(const std::vector<NodeRuntime*>& runtimes) {
    std::multiset<int> all;
    for (auto* r : runtimes) {
      for (int b : r->ownedBuckets()) all.insert(b);
    }
    if (all.size() != static_cast<std::size_t>(store::kBucketCount)) return false;
    return std::set<int>(all.begin(), all.end()).size() == all.size();
  }

  // The database's view: unexpired bucket leases by holder.
  std::map<std::string, std::set<int>> leaseHolders() {
    std::map<std::string, std::set<int>> out;
    auto leases = admin_->leases("bucket:");
    EXPECT_TRUE(leases.ok()) << leases.error().message;
    if (!leases.ok()) return out;
    for (const auto& l : *leases) {
      if (l.holder.empty() || l.expires_at <= l.db_now) continue;
      out[l.holder].insert(std::stoi(l.key.substr(7)));
    }
    return out;
  }

  fs::path dir_;
  std::string url_;
  SystemClock clock_;
  std::unique_ptr<store::Database> admin_db_;
  std::unique_ptr<store::ClusterStore> admin_;
  std::deque<Node> nodes_;
};

TEST_F(NodeRuntimeTest, ThreeNodesDivideEveryBucketWithoutOverlap) {
  auto& a = startNode("a", "active");
  auto& b = startNode("b", "active");
  auto& c = startNode("c", "active");
  const std::vector<std::string> ids = {a.nodeId(), b.nodeId(), c.nodeId()};
  auto matchesRendezvous = [&] {
    for (auto* r : {&a, &b, &c}) {
      if (r->ownedBuckets() != bucketsOwnedBy(r->nodeId(), ids, store::kBucketCount)) return false;
    }
    return true;
  };
  ASSERT_TRUE(eventually([&] {
    return divideAll({&a, &b, &c}) && matchesRendezvous();
  })) << "a="
      << a.ownedBuckets().size() << " b=" << b.ownedBuckets().size()
      << " c=" << c.ownedBuckets().size();
  for (auto* r : {&a, &b, &c}) {
    EXPECT_FALSE(r->ownedBuckets().empty());
    EXPECT_EQ(r->state(), "active");
    EXPECT_TRUE(r->active());
  }
  // The database agrees: each node holds exactly the leases it believes it owns.
  auto holders = leaseHolders();
  for (auto* r : {&a, &b, &c}) {
    auto owned = r->ownedBuckets();
    EXPECT_EQ(holders[r->nodeId()], std::set<int>(owned.begin(), owned.end()));
  }
  // owns() and fenceFor() follow the system's bucket.
  for (const std::string system : {"sys-1", "sys-2", "sys-3", "sys-4", "sys-5"}) {
    int owners = 0;
    for (auto* r : {&a, &b, &c}) {
      if (!r->owns(system)) {
        EXPECT_FALSE(r->fenceFor(system).has_value());
        continue;
      }
      ++owners;
      auto fence = r->fenceFor(system);
      ASSERT_TRUE(fence.has_value());
      EXPECT_EQ(fence->lease_key, store::bucketLeaseKey(store::bucketOf(system)));
      EXPECT_EQ(fence->holder, r->nodeId());
    }
    EXPECT_EQ(owners, 1) << system;
  }
  // The registry shows round trips measured and all three alive.
  auto nodes = admin_->nodes(2000);
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ(nodes->size(), 3u);
  for (const auto& n : *nodes) {
    EXPECT_TRUE(n.alive) << n.node.name;
    EXPECT_GT(n.node.rtt_p50_ms, 0.0) << n.node.name;
  }
}

TEST_F(NodeRuntimeTest, AStoppedNodesBucketsMoveToTheOthers) {
  auto& a = startNode("a", "active");
  auto& b = startNode("b", "active");
  auto& c = startNode("c", "active");
  ASSERT_TRUE(eventually([&] { return divideAll({&a, &b, &c}) && !c.ownedBuckets().empty(); }));
  const std::string gone = c.nodeId();
  c.stop();  // as if it crashed: no release, its leases expire
  ASSERT_TRUE(eventually([&] {
    return divideAll({&a, &b});
  })) << "a="
      << a.ownedBuckets().size() << " b=" << b.ownedBuckets().size();
  const std::vector<std::string> survivors = {a.nodeId(), b.nodeId()};
  EXPECT_EQ(a.ownedBuckets(), bucketsOwnedBy(a.nodeId(), survivors, store::kBucketCount));
  EXPECT_EQ(b.ownedBuckets(), bucketsOwnedBy(b.nodeId(), survivors, store::kBucketCount));
  auto holders = leaseHolders();
  EXPECT_EQ(holders.count(gone), 0u);
  // Its own view has lapsed too (self-fencing): it owns nothing once its leases ran out.
  EXPECT_TRUE(c.ownedBuckets().empty());
}

TEST_F(NodeRuntimeTest, DrainHandsBucketsOverBeforeTheLeasesExpire) {
  // A long failover timeout: a takeover that waited for expiry would be seen.
  auto& a = startNode("a", "active", 6000ms);
  auto& b = startNode("b", "active", 6000ms);
  ASSERT_TRUE(eventually([&] { return divideAll({&a, &b}) && !b.ownedBuckets().empty(); }));
  // When b's leases would expire, on the database clock.
  std::int64_t latest_expiry = 0;
  auto leases = admin_->leases("bucket:");
  ASSERT_TRUE(leases.ok());
  for (const auto& l : *leases) {
    if (l.holder == b.nodeId()) latest_expiry = std::max(latest_expiry, l.expires_at);
  }
  ASSERT_GT(latest_expiry, 0);
  b.drain();
  EXPECT_TRUE(b.ownedBuckets().empty());
  EXPECT_FALSE(b.active());
  ASSERT_TRUE(eventually(
      [&] { return a.ownedBuckets().size() == static_cast<std::size_t>(store::kBucketCount); }));
  auto now = admin_->databaseNow();
  ASSERT_TRUE(now.ok());
  EXPECT_LT(*now, latest_expiry) << "the buckets moved only after b's leases expired";
  auto nodes = admin_->nodes(6000);
  ASSERT_TRUE(nodes.ok());
  for (const auto& n : *nodes) {
    if (n.node.id == b.nodeId()) {
      EXPECT_FALSE(n.alive) << "a drained node is marked stopped";
    }
  }
}

TEST_F(NodeRuntimeTest, StandbyOwnsNothingAndPromotesWhenTheActiveStops) {
  auto& a = startNode("a", "active");
  auto& s = startNode("s", "standby");
  ASSERT_TRUE(eventually(
      [&] { return a.ownedBuckets().size() == static_cast<std::size_t>(store::kBucketCount); }));
  EXPECT_TRUE(s.ownedBuckets().empty());
  EXPECT_FALSE(s.active());
  EXPECT_EQ(s.state(), "standby");
  a.stop();
  ASSERT_TRUE(eventually([&] { return s.active() && s.ownedBuckets().size() == 64u; }));
  EXPECT_EQ(s.role(), "active");
}

TEST_F(NodeRuntimeTest, OfTwoStandbysExactlyOnePromotes) {
  auto& a = startNode("a", "active");
  auto& s1 = startNode("s1", "standby");
  auto& s2 = startNode("s2", "standby");
  ASSERT_TRUE(eventually([&] { return a.ownedBuckets().size() == 64u; }));
  a.stop();
  ASSERT_TRUE(eventually([&] { return s1.active() || s2.active(); }));
  NodeRuntime& promoted = s1.active() ? s1 : s2;
  NodeRuntime& other = s1.active() ? s2 : s1;
  ASSERT_TRUE(eventually([&] { return promoted.ownedBuckets().size() == 64u; }));
  // The other standby sees a live active node from now on: let several heartbeats pass.
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    EXPECT_FALSE(other.active());
    EXPECT_TRUE(other.ownedBuckets().empty());
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(other.role(), "standby");
}

TEST_F(NodeRuntimeTest, PromoteAndDemoteRequestsAreAppliedAtTheNextHeartbeat) {
  auto& a = startNode("a", "active");
  auto& s = startNode("s", "standby");
  ASSERT_TRUE(eventually([&] { return a.ownedBuckets().size() == 64u; }));
  ASSERT_TRUE(admin_->requestRole("s", "active").ok());
  ASSERT_TRUE(eventually([&] {
    return s.active() && divideAll({&a, &s}) && !s.ownedBuckets().empty();
  }));
  ASSERT_TRUE(admin_->requestRole(a.nodeId(), "standby").ok());
  ASSERT_TRUE(eventually(
      [&] { return !a.active() && a.ownedBuckets().empty() && s.ownedBuckets().size() == 64u; }));
  EXPECT_EQ(a.state(), "standby");
  auto nodes = admin_->nodes(2000);
  ASSERT_TRUE(nodes.ok());
  for (const auto& n : *nodes) EXPECT_FALSE(n.requested_role.has_value()) << n.node.name;
}

TEST_F(NodeRuntimeTest, NotificationsReachEveryNode) {
  auto& a = startNode("a", "active");
  auto& b = startNode("b", "active");
  // Shared with the callback, which b's listener may still call after this body returns (the
  // fixture stops the nodes in TearDown).
  struct Seen {
    std::mutex mu;
    std::vector<std::string> payloads;
  };
  auto seen = std::make_shared<Seen>();
  b.onNotification([seen](const std::string& payload) {
    std::lock_guard lock(seen->mu);
    seen->payloads.push_back(payload);
  });
  // The listener connects on its own thread: send until one arrives.
  ASSERT_TRUE(eventually([&] {
    a.notifyAll("events:sys-42");
    std::lock_guard lock(seen->mu);
    return std::find(seen->payloads.begin(), seen->payloads.end(), "events:sys-42") != seen->payloads.end();
  }));
}

}  // namespace
}  // namespace atrium::cluster
