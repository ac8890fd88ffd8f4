// A bucket owner paused (SIGSTOP) past its lease while its polls of slow systems are in flight:
// another node takes its buckets and polls those systems; when the paused node resumes (SIGCONT)
// the answers it was waiting for arrive, and none of the writes it makes with its stale fencing
// token land. Each poll of a slow system takes at least two slow answers (status and
// configuration), so for that long after SIGCONT any write by the resumed node to those systems
// could only be a stale one.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <set>

#include "support/backends.h"
#include "support/cluster_harness.h"

namespace atrium::testing {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr auto kSlowAnswer = 4000ms;  // per HTTP request of a slow system

TEST(FencingTest, AResumedOwnersStaleWritesDoNotLand) {
  TempDir tmp;
  ClusterOptions o;
  o.postgres = &sharedPostgres();
  o.nodes = 2;
  o.cisco_xapi = 16;
  // Long enough that a request in flight across the pause is answered, not timed out.
  o.poll_timeout_ms = 60000;
  auto started = Cluster::start(tmp.path(), o);
  ASSERT_TRUE(started.ok()) << started.error().message;
  Cluster& c = **started;
  LogsOnFailure logs_on_failure{c};

  const int paused = 0;
  const int other = 1;
  ClusterView v;
  ASSERT_TRUE(c.waitSettled({c.nodeName(paused), c.nodeName(other)}, 1s, 30s, &v)) << v.summary();
  const std::string paused_id = c.nodeId(paused);
  const std::string other_id = c.nodeId(other);
  ASSERT_FALSE(paused_id.empty());
  ASSERT_FALSE(other_id.empty());

  // Every system polled once, and the ones in the paused node's buckets made slow.
  std::vector<SystemInfo> systems;
  ASSERT_TRUE(waitFor(
      [&] {
        auto s = c.systemsNow(other);
        if (!s) return false;
        systems = *s;
        for (const auto& sys : systems) {
          if (sys.last_polled_at.empty()) return false;
        }
        return true;
      },
      60s, 200ms));
  auto owners = c.view(other);
  ASSERT_TRUE(owners.ok());
  const NodeInfo* p = owners->byId(paused_id);
  ASSERT_NE(p, nullptr);
  const std::set<int> paused_buckets(p->buckets.begin(), p->buckets.end());
  std::set<std::string> slow;
  for (const auto& s : systems) {
    if (!paused_buckets.contains(s.bucket)) continue;
    ASSERT_EQ(s.last_polled_by, paused_id) << s.name << " in bucket " << s.bucket;
    const ManagedSim* m = c.systemById(s.id);
    ASSERT_NE(m, nullptr);
    ASSERT_TRUE(c.fleet()->setFault(m->index, sim::Fault::kSlow, kSlowAnswer).ok());
    slow.insert(s.id);
  }
  ASSERT_FALSE(slow.empty()) << "the paused node owns no system: " << owners->summary();

  // Within one poll interval (5 s, +20% jitter) every slow system's next poll has started; each
  // then waits for two slow answers.
  std::this_thread::sleep_for(6500ms);
  const std::string paused_at = nowTimestamp();
  const auto t0 = Steady::now();
  c.signal(paused, SIGSTOP);

  // The other node takes every bucket and polls the slow systems itself.
  ClusterView after;
  ASSERT_TRUE(c.waitCoverage({c.nodeName(other)}, 30s, &after, other)) << after.summary();
  const double takeover_s = std::chrono::duration<double>(Steady::now() - t0).count();
  std::vector<std::string> pending;
  const bool repolled = waitFor(
      [&] {
        auto s = c.systemsNow(other);
        if (!s) return false;
        pending.clear();
        for (const auto& sys : *s) {
          if (slow.contains(sys.id) &&
              (sys.last_polled_by != other_id || sys.last_polled_at <= paused_at)) {
            pending.push_back(sys.name);
          }
        }
        return pending.empty();
      },
      60s, 100ms);
  ASSERT_TRUE(repolled) << pending.size() << " slow systems not polled by " << c.nodeName(other);
  std::printf(
      "[ measure  ] SIGSTOP of %s: buckets taken over after %.2f s, its %zu slow systems polled by "
      "%s "
      "after %.2f s\n",
      c.nodeName(paused).c_str(), takeover_s, slow.size(), c.nodeName(other).c_str(),
      std::chrono::duration<double>(Steady::now() - t0).count());
  std::fflush(stdout);

  // Resume. For less than one slow poll, any write by the resumed node would be stale.
  const std::size_t fenced_before = c.countInLog(paused, "poll.fenced");
  const std::size_t dropped_before = c.countInLog(paused, "poller.result_dropped");
  const std::size_t lost_before = c.countInLog(paused, "cluster.lease_lost");
  const auto resumed = Steady::now();
  c.signal(paused, SIGCONT);
  std::map<std::string, std::string> landed;  // system name -> what was seen first
  while (Steady::now() - resumed < kSlowAnswer * 2 - 1500ms) {
    auto s = c.systemsNow(other);
    ASSERT_TRUE(s.ok()) << s.error().message;
    const double after_s = std::chrono::duration<double>(Steady::now() - resumed).count();
    for (const auto& sys : *s) {
      if (slow.contains(sys.id) && sys.last_polled_by != other_id && !landed.contains(sys.name)) {
        landed[sys.name] =
            fmt::format("{}: last_polled_at {} by {} (seen {:.1f} s after SIGCONT)", sys.name,
                        sys.last_polled_at, c.nodeName(c.indexOf(sys.last_polled_by)), after_s);
      }
    }
    std::this_thread::sleep_for(100ms);
  }
  std::string report;
  for (const auto& [name, what] : landed) report += "\n  " + what;
  EXPECT_TRUE(landed.empty())
      << landed.size() << " of " << slow.size()
      << " slow systems got a write from the resumed node within one slow poll of "
         "SIGCONT, i.e. from a poll begun under its old lease:"
      << report;

  // The resumed node noticed: its writes were refused by the database (poll.fenced), or it found
  // it had not renewed its leases in time and dropped the answers (poller.result_dropped) and the
  // buckets (cluster.lease_lost) itself.
  auto count = [&](const char* event) { return c.countInLog(paused, event); };
  const bool noticed = waitFor(
      [&] {
        return count("poll.fenced") > fenced_before ||
               count("poller.result_dropped") > dropped_before ||
               count("cluster.lease_lost") > lost_before;
      },
      20s, 200ms);
  EXPECT_TRUE(noticed) << "no fencing in the resumed node's log";
  std::printf(
      "[ measure  ] after SIGCONT, %s's log: %zu poll.fenced, %zu poller.result_dropped, %zu "
      "cluster.lease_lost\n",
      c.nodeName(paused).c_str(), count("poll.fenced") - fenced_before,
      count("poller.result_dropped") - dropped_before, count("cluster.lease_lost") - lost_before);
  EXPECT_TRUE(c.running(paused)) << "the resumed node exited";
}

}  // namespace
}  // namespace atrium::testing
