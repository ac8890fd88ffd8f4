// The pure parts of a node's cluster membership: who divides the buckets, self-fencing of held
// leases, round-trip percentiles, and the rendezvous division they feed.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cluster/membership.h"
#include "cluster/rendezvous.h"

namespace atrium::cluster {
namespace {

using namespace std::chrono_literals;

store::NodeRecord node(const std::string& id, const std::string& role, const std::string& state,
                       bool alive) {
  store::NodeRecord r;
  r.node.id = id;
  r.node.role = role;
  r.node.state = state;
  r.alive = alive;
  r.state = alive ? state : "dead";
  return r;
}

TEST(ClusterMembership, OnlyLiveActiveNodesThatAreNotDrainingHoldBuckets) {
  std::vector<store::NodeRecord> nodes = {
      node("c", "active", "active", true),   node("a", "active", "starting", true),
      node("d", "active", "draining", true), node("e", "active", "active", false),
      node("f", "standby", "standby", true), node("b", "active", "active", true),
  };
  EXPECT_EQ(bucketHolders(nodes), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(bucketHolders({}).empty());
}

TEST(ClusterMembership, ALeaseStopsCountingOneHeartbeatBeforeItExpires) {
  const auto sent = std::chrono::steady_clock::time_point(100s);
  EXPECT_TRUE(leaseStillHeld(sent, 2000ms, 250ms, sent));
  EXPECT_TRUE(leaseStillHeld(sent, 2000ms, 250ms, sent + 1749ms));
  EXPECT_FALSE(leaseStillHeld(sent, 2000ms, 250ms, sent + 1750ms));
  EXPECT_FALSE(leaseStillHeld(sent, 2000ms, 250ms, sent + 5s));
}

TEST(ClusterMembership, RoundTripPercentilesOverTheLastSamples) {
  RttWindow w(60);
  EXPECT_EQ(w.percentile(50), 0);
  for (int i = 1; i <= 100; ++i) w.add(i);
  EXPECT_EQ(w.size(), 60u);  // 41..100 kept
  EXPECT_EQ(w.percentile(50), 70);
  EXPECT_EQ(w.percentile(99), 100);
  EXPECT_EQ(w.percentile(0), 41);
  RttWindow one;
  one.add(3.5);
  EXPECT_EQ(one.percentile(50), 3.5);
  EXPECT_EQ(one.percentile(99), 3.5);
}

TEST(ClusterMembership, RendezvousDividesEveryBucketOnceAndMovesOnlyTheLeaversBuckets) {
  const std::vector<std::string> three = {"n1", "n2", "n3"};
  std::multiset<int> all;
  for (const auto& id : three) {
    auto owned = bucketsOwnedBy(id, three, store::kBucketCount);
    EXPECT_FALSE(owned.empty()) << id;
    all.insert(owned.begin(), owned.end());
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(store::kBucketCount));
  EXPECT_EQ(std::set<int>(all.begin(), all.end()).size(), all.size());
  // n3 leaves: n1 and n2 keep what they had.
  const std::vector<std::string> two = {"n1", "n2"};
  for (const auto& id : two) {
    auto before = bucketsOwnedBy(id, three, store::kBucketCount);
    auto after = bucketsOwnedBy(id, two, store::kBucketCount);
    for (int b : before)
      EXPECT_NE(std::find(after.begin(), after.end(), b), after.end()) << id << " lost " << b;
  }
}

}  // namespace
}  // namespace atrium::cluster
