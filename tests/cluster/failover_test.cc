// Three real nodes on one PostgreSQL polling a simulated fleet of every family, under steady
// HTTP feedback and SNMP inform load spread over all of them. A node killed with SIGKILL: its
// buckets go to the survivors (the registry shows it dead; the survivors' buckets cover 0..63
// once), every system of its buckets is polled again by a survivor, and every event any node
// acknowledged is in the database exactly once. A node stopped with SIGTERM drains: its buckets
// move well before the failover timeout would have moved them.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <set>

#include "support/backends.h"
#include "support/cluster_harness.h"
#include "support/feedback_load.h"
#include "support/pg_cluster.h"

namespace atrium::testing {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

double secondsSince(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

ClusterOptions fleetOptions() {
  ClusterOptions o;
  o.postgres = &sharedPostgres();
  o.nodes = 3;
  o.cisco_xapi = 15;
  o.cisco_mcu = 15;
  o.polycom = 15;
  o.snmp = 15;
  return o;
}

std::set<std::string> names(const Cluster& c, const std::vector<int>& indexes) {
  std::set<std::string> out;
  for (int i : indexes) out.insert(c.nodeName(i));
  return out;
}

// Waits until every system has been polled once.
bool waitAllPolled(Cluster& c, std::chrono::milliseconds timeout) {
  return waitFor(
      [&] {
        auto s = c.systemsNow();
        if (!s) return false;
        for (const auto& sys : *s) {
          if (sys.last_polled_at.empty()) return false;
        }
        return s->size() == c.systems().size();
      },
      timeout, 200ms);
}

// The systems in `buckets` not yet polled after `since` by one of `pollers` (node ids).
std::vector<std::string> notRepolled(const std::vector<SystemInfo>& systems,
                                     const std::set<int>& buckets, const std::string& since,
                                     const std::set<std::string>& pollers) {
  std::vector<std::string> out;
  for (const auto& s : systems) {
    if (!buckets.contains(s.bucket)) continue;
    if (s.last_polled_at <= since || !pollers.contains(s.last_polled_by)) {
      out.push_back(fmt::format("{} (bucket {}, polled {} by {})", s.name, s.bucket,
                                s.last_polled_at, s.last_polled_by));
    }
  }
  return out;
}

class FailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = Cluster::start(tmp_.path(), options_);
    ASSERT_TRUE(started.ok()) << started.error().message;
    cluster_ = std::move(*started);
    ClusterView v;
    ASSERT_TRUE(cluster_->waitSettled(names(*cluster_, {0, 1, 2}), 1s, 30s, &v))
        << v.summary() << v.coverageProblem(names(*cluster_, {0, 1, 2})) << cluster_->logs();
    ASSERT_TRUE(waitAllPolled(*cluster_, 60s)) << cluster_->logs();
  }
  void TearDown() override {
    if (HasFailure() && cluster_) std::cerr << cluster_->logs(300);
  }

  // Kills or stops node `victim` under load and checks what the survivors do. Returns the
  // seconds until its buckets were held by the survivors.
  void loseNode(int victim, int sig) {
    Cluster& c = *cluster_;
    std::vector<int> survivors;
    for (int i = 0; i < c.size(); ++i) {
      if (i != victim) survivors.push_back(i);
    }
    std::set<std::string> survivor_ids;
    for (int i : survivors) {
      survivor_ids.insert(c.nodeId(i));
      ASSERT_FALSE(c.nodeId(i).empty());
    }
    const std::string victim_id = c.nodeId(victim);
    ASSERT_FALSE(victim_id.empty());

    EventLoad load(c, {});
    load.start();
    ASSERT_TRUE(waitFor(
        [&] { return load.acknowledgedFeedback() >= 100 && load.acknowledgedTraps() >= 10; }, 60s))
        << "acknowledged " << load.acknowledgedFeedback() << " posts and "
        << load.acknowledgedTraps() << " informs of " << load.attempted();

    auto before = c.view(survivors.front());
    ASSERT_TRUE(before.ok()) << before.error().message;
    const NodeInfo* v = before->byId(victim_id);
    ASSERT_NE(v, nullptr);
    const std::set<int> moved(v->buckets.begin(), v->buckets.end());
    ASSERT_FALSE(moved.empty()) << before->summary();
    const std::size_t feedback_before = load.acknowledgedFeedback();
    const std::size_t traps_before = load.acknowledgedTraps();

    const std::string lost_at = nowTimestamp();
    const auto t0 = Steady::now();
    if (sig == SIGKILL) {
      c.kill(victim);
    } else {
      c.signal(victim, sig);
    }

    ClusterView after;
    const bool covered = c.waitCoverage(names(c, survivors), 30s, &after);
    const double buckets_s = secondsSince(t0);
    ASSERT_TRUE(covered) << after.summary() << after.coverageProblem(names(c, survivors));
    std::vector<std::string> pending;
    const bool repolled = waitFor(
        [&] {
          auto s = c.systemsNow(survivors.front());
          if (!s) return false;
          pending = notRepolled(*s, moved, lost_at, survivor_ids);
          return pending.empty();
        },
        60s, 100ms);
    const double polled_s = secondsSince(t0);
    ASSERT_TRUE(repolled) << pending.size()
                          << " systems of the lost node's buckets not polled again, first: "
                          << (pending.empty() ? "" : pending.front());
    std::printf(
        "[ measure  ] %s of %s (%zu buckets): buckets held by the survivors after %.2f s, every "
        "moved "
        "system polled again after %.2f s (failover timeout %lld ms)\n",
        sig == SIGKILL ? "SIGKILL" : "SIGTERM", c.nodeName(victim).c_str(), moved.size(), buckets_s,
        polled_s, static_cast<long long>(c.options().failover_timeout.count()));
    std::fflush(stdout);

    // The registry shows the lost node dead, and it holds nothing.
    auto registry = c.view(survivors.front());
    ASSERT_TRUE(registry.ok());
    const NodeInfo* gone = registry->byId(victim_id);
    ASSERT_NE(gone, nullptr) << registry->summary();
    EXPECT_EQ(gone->state, "dead") << registry->summary();
    EXPECT_FALSE(gone->alive);
    EXPECT_TRUE(gone->buckets.empty());
    for (int i : survivors) {
      const NodeInfo* n = registry->byId(c.nodeId(i));
      ASSERT_NE(n, nullptr);
      EXPECT_EQ(n->state, "active") << registry->summary();
    }

    // The load goes on against the survivors (and keeps failing against the lost node).
    EXPECT_TRUE(waitFor(
        [&] {
          return load.acknowledgedFeedback() >= feedback_before + 100 &&
                 load.acknowledgedTraps() >= traps_before + 10;
        },
        60s))
        << "acknowledged " << load.acknowledged();
    load.stop();
    auto per_node = load.acknowledgedPerNode();
    for (int i = 0; i < c.size(); ++i) {
      EXPECT_GT(per_node[i], 0u) << c.nodeName(i) << " acknowledged nothing";
    }
    std::printf("[ measure  ] load: %zu feedback posts and %zu informs acknowledged of %zu sent\n",
                load.acknowledgedFeedback(), load.acknowledgedTraps(), load.attempted());
    const auto failures = load.failures();
    for (std::size_t i = 0; i < failures.size() && i < 3; ++i) {
      std::printf("             not acknowledged: %s\n", failures[i].c_str());
    }

    auto verdict = load.verify(c.node(survivors.front()));
    ASSERT_TRUE(verdict.ok()) << verdict.error().message;
    EXPECT_TRUE(verdict->ok()) << verdict->summary();
    EXPECT_GE(verdict->stored, verdict->acknowledged);
    EXPECT_GT(load.acknowledgedFeedback(), 0u);
    EXPECT_GT(load.acknowledgedTraps(), 0u);
  }

  TempDir tmp_;
  ClusterOptions options_ = fleetOptions();
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(FailoverTest, AKilledNodesBucketsArePolledByTheSurvivorsAndNoAcknowledgedEventIsLost) {
  loseNode(1, SIGKILL);
}

class DrainTest : public FailoverTest {
 protected:
  DrainTest() {
    // A failover timeout far longer than the wait below: buckets that move within it were
    // handed over by the drain, not taken over from a dead node.
    options_.failover_timeout = 30000ms;
    options_.cisco_xapi = options_.cisco_mcu = options_.polycom = options_.snmp = 5;
  }
};

TEST_F(DrainTest, SigtermHandsTheBucketsOverBeforeTheFailoverTimeout) {
  Cluster& c = *cluster_;
  const int victim = 2;
  std::vector<int> survivors = {0, 1};
  const std::string victim_id = c.nodeId(victim);
  ASSERT_FALSE(victim_id.empty());
  auto before = c.view(0);
  ASSERT_TRUE(before.ok());
  const auto& held = before->byId(victim_id)->buckets;
  ASSERT_FALSE(held.empty()) << before->summary();
  const std::set<int> moved(held.begin(), held.end());
  const std::set<std::string> survivor_ids = {c.nodeId(0), c.nodeId(1)};

  EventLoad load(c, {});
  load.start();
  ASSERT_TRUE(waitFor([&] { return load.acknowledged() >= 30; }, 60s));

  const std::string drained_at = nowTimestamp();
  const auto t0 = Steady::now();
  c.signal(victim, SIGTERM);
  ClusterView after;
  // Half the failover timeout: a dead node's buckets could not have moved yet.
  const bool covered = c.waitCoverage(names(c, survivors), 15s, &after);
  const double moved_s = secondsSince(t0);
  EXPECT_TRUE(covered) << after.summary() << after.coverageProblem(names(c, survivors));
  std::printf(
      "[ measure  ] SIGTERM of %s: buckets held by the survivors after %.2f s (failover timeout "
      "%lld ms)\n",
      c.nodeName(victim).c_str(), moved_s,
      static_cast<long long>(options_.failover_timeout.count()));
  std::vector<std::string> pending;
  EXPECT_TRUE(waitFor(
      [&] {
        auto s = c.systemsNow(0);
        if (!s) return false;
        pending = notRepolled(*s, moved, drained_at, survivor_ids);
        return pending.empty();
      },
      60s, 100ms))
      << pending.size() << " systems of the drained node's buckets not polled again, first: "
      << (pending.empty() ? "" : pending.front());
  std::printf(
      "[ measure  ] every system of the drained node's buckets polled by a survivor after %.2f s\n",
      secondsSince(t0));
  auto code = c.node(victim).process()->wait(30s);
  ASSERT_TRUE(code.has_value()) << "the drained node did not exit";
  EXPECT_EQ(*code, 0) << c.node(victim).log();
  auto registry = c.view(0);
  ASSERT_TRUE(registry.ok());
  EXPECT_NE(registry->byId(victim_id)->state, "active") << registry->summary();

  const std::size_t acked = load.acknowledged();
  EXPECT_TRUE(waitFor([&] { return load.acknowledged() >= acked + 30; }, 60s));
  load.stop();
  auto verdict = load.verify(c.node(0));
  ASSERT_TRUE(verdict.ok()) << verdict.error().message;
  EXPECT_TRUE(verdict->ok()) << verdict->summary();
}

// The kill storm with the database crashing too: nodes SIGKILLed and restarted, and PostgreSQL
// itself stopped with -m immediate (durable, as deployed) between them, under feedback and inform
// load whose calls connect on one node and disconnect on the next. Afterwards every spool is
// drained, nothing acknowledged is lost or stored twice, and every call whose disconnect was
// acknowledged is closed.
TEST(CrashStormTest, KillsAndDatabaseCrashesLoseNothingStoreNothingTwiceAndCloseEveryCall) {
  TempDir tmp;
  auto pg = PgCluster::start({.durable = true});
  ASSERT_TRUE(pg.ok()) << pg.error().message;
  ClusterOptions o;
  o.postgres = pg->get();
  o.nodes = 3;
  o.cisco_xapi = 6;
  o.snmp = 6;
  auto started = Cluster::start(tmp.path(), o);
  ASSERT_TRUE(started.ok()) << started.error().message;
  Cluster& c = **started;
  LogsOnFailure logs{c};
  ASSERT_TRUE(c.waitSettled(names(c, {0, 1, 2}), 1s, 30s)) << c.logs();

  LoadOptions lo;
  lo.disconnects = true;
  EventLoad load(c, lo);
  load.start();
  ASSERT_TRUE(waitFor([&] { return load.acknowledgedFeedback() >= 50; }, 60s))
      << load.acknowledged();
  constexpr int kRounds = 3;
  for (int round = 0; round < kRounds; ++round) {
    const int victim = round % c.size();
    c.kill(victim);
    const std::size_t before = load.acknowledged();
    ASSERT_TRUE(waitFor([&] { return load.acknowledged() >= before + 20; }, 60s));
    ASSERT_TRUE((*pg)->kill().ok());
    // The nodes answer from their spools while the database is away.
    const std::size_t during = load.acknowledged();
    EXPECT_TRUE(waitFor([&] { return load.acknowledged() >= during + 10; }, 30s))
        << "round " << round << ": nothing acknowledged while the database was down";
    ASSERT_TRUE((*pg)->startAgain().ok()) << (*pg)->logText();
    ASSERT_TRUE(c.startNode(victim).ok()) << c.node(victim).log();
    const std::size_t after = load.acknowledged();
    ASSERT_TRUE(waitFor([&] { return load.acknowledged() >= after + 20; }, 60s));
    std::printf("[ measure  ] round %d: killed %s, crashed the database; %zu acknowledged so far\n",
                round, c.nodeName(victim).c_str(), load.acknowledged());
  }
  load.stop();
  std::int64_t spooled = 0;
  for (int i = 0; i < c.size(); ++i) {
    ASSERT_TRUE(c.node(i).waitReady(60s)) << c.node(i).log();
    EXPECT_TRUE(
        waitFor([&] { return metricValue(c.node(i), "atrium_ingest_spool_pending") == 0; }, 60s))
        << c.nodeName(i) << " did not drain its spool";
    spooled += metricValue(c.node(i), "atrium_ingest_batches_spooled_total");
  }
  EXPECT_GT(spooled, 0) << "no node spooled: the database crashes were not felt";
  auto verdict = load.verify(c.node(0));
  ASSERT_TRUE(verdict.ok()) << verdict.error().message;
  std::printf("[ measure  ] %s\n", verdict->summary().c_str());
  EXPECT_TRUE(verdict->ok()) << verdict->summary();
  EXPECT_GT(verdict->disconnected, 0u);
}

}  // namespace
}  // namespace atrium::testing
