// What a cluster of Atrium nodes on one PostgreSQL does, with real processes and real signals:
//
//  1. failover time: N nodes polling a simulated fleet; again and again a random node is killed
//     (SIGKILL) and the time is taken from the kill until every bucket it held is held by the
//     others, and until every system of those buckets has been polled by a survivor; the killed
//     node is started again before the next kill. Median, p90 and maximum per setting
//     (failover timeout / heartbeat: 5000/1000 by default, 2000/250 with --fast-too).
//  2. scaling: durable HTTP feedback ingest (events/s acknowledged, spread over the nodes) and
//     polling throughput (polls/s of a fleet) with 1, 2 and 3 nodes on the same durable
//     PostgreSQL, each printed as a ratio against one node measured in the same run.
//
//   build/bench/cluster_bench [--kills N] [--nodes N] [--systems N] [--poll-interval S]
//   [--fast-too]
//                             [--timeouts 5000/1000,2000/250] [--seed N] [--skip-failover]
//                             [--skip-ingest] [--skip-polling] [--scale-nodes 1,2,3] [--seconds S]
//                             [--rounds N] [--connections N] [--poll-systems N] [--poll-delays
//                             0,100]
//                             [--poll-workers N] [--poll-window S]
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "common/log.h"
#include "devices/cisco_xapi/document_builder.h"
#include "net/http_client.h"
#include "support/cluster_harness.h"

namespace atrium::bench {
namespace {

using Steady = std::chrono::steady_clock;
using nlohmann::json;
using testing::Cluster;
using testing::ClusterOptions;
using testing::ClusterView;

struct Timeouts {
  int failover_ms = 5000;
  int heartbeat_ms = 1000;
};

struct Settings {
  // failover
  bool failover = true;
  int kills = 20;
  int nodes = 3;
  int systems = 40;
  int poll_interval_s = 30;
  std::vector<Timeouts> timeouts = {{5000, 1000}};
  std::uint32_t seed = 0;  // 0: random
  // scaling
  bool ingest = true;
  bool polling = true;
  std::vector<int> scale_nodes = {1, 2, 3};
  double seconds = 5;
  int rounds = 3;
  int connections = 12;
  int poll_systems = 1000;
  std::vector<int> poll_delays_ms = {0, 100};
  int poll_workers = 8;
  double poll_window_s = 12;
};

double seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto at = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(at, v.size() - 1)];
}

double median(const std::vector<double>& v) { return quantile(v, 0.5); }

std::set<std::string> allNames(const Cluster& c, int except = -1) {
  std::set<std::string> out;
  for (int i = 0; i < c.size(); ++i) {
    if (i != except) out.insert(c.nodeName(i));
  }
  return out;
}

// ---- 1. failover ---------------------------------------------------------------------------

int runFailover(testing::PgCluster& pg, const Settings& s, const Timeouts& t, std::mt19937& rng) {
  std::printf(
      "\nfailover: %d nodes, %d systems (every family), failover timeout %d ms, heartbeat %d ms, "
      "poll "
      "interval %d s, %d kills\n",
      s.nodes, s.systems, t.failover_ms, t.heartbeat_ms, s.poll_interval_s, s.kills);
  std::fflush(stdout);
  testing::TempDir tmp("atrium-bench");
  ClusterOptions o;
  o.postgres = &pg;
  o.nodes = s.nodes;
  o.heartbeat = std::chrono::milliseconds(t.heartbeat_ms);
  o.failover_timeout = std::chrono::milliseconds(t.failover_ms);
  o.poll_interval_s = s.poll_interval_s;
  o.cisco_xapi = s.systems / 4;
  o.cisco_mcu = s.systems / 4;
  o.polycom = s.systems / 4;
  o.snmp = s.systems - 3 * (s.systems / 4);
  o.log_level = "info";
  auto started = Cluster::start(tmp.path(), o);
  if (!started) {
    std::fprintf(stderr, "cluster: %s\n", started.error().message.c_str());
    return 1;
  }
  Cluster& c = **started;
  const auto settle = std::chrono::milliseconds(4 * t.failover_ms + 30000);
  const auto stable = std::chrono::milliseconds(2 * t.heartbeat_ms + 200);
  ClusterView v;
  if (!c.waitSettled(allNames(c), stable, settle, &v)) {
    std::fprintf(stderr, "the buckets never settled:\n%s%s\n", v.summary().c_str(),
                 c.logs().c_str());
    return 1;
  }

  std::vector<double> to_buckets, to_polled;
  int failures = 0;
  std::uniform_int_distribution<int> pick(0, c.size() - 1);
  for (int k = 0; k < s.kills; ++k) {
    if (!c.waitSettled(allNames(c), stable, settle, &v)) {
      std::fprintf(stderr, "kill %d: the buckets did not settle over every node:\n%s\n", k + 1,
                   v.summary().c_str());
      return 1;
    }
    const int victim = pick(rng);
    const int via = (victim + 1) % c.size();
    const std::string victim_id = c.nodeId(victim);
    std::set<std::string> survivor_ids;
    for (int i = 0; i < c.size(); ++i) {
      if (i != victim) survivor_ids.insert(c.nodeId(i));
    }
    auto before = c.view(via);
    auto systems = c.systemsNow(via);
    if (!before || !systems || before->byId(victim_id) == nullptr) {
      std::fprintf(stderr, "kill %d: cannot read the cluster\n", k + 1);
      return 1;
    }
    const auto& held = before->byId(victim_id)->buckets;
    const std::set<int> buckets(held.begin(), held.end());
    std::set<std::string> moved;
    for (const auto& sys : *systems) {
      if (buckets.contains(sys.bucket)) moved.insert(sys.id);
    }

    const std::string lost_at = testing::nowTimestamp();
    const auto t0 = Steady::now();
    c.kill(victim);
    const auto deadline = t0 + std::chrono::milliseconds(3 * t.failover_ms) +
                          std::chrono::seconds(3 * s.poll_interval_s + 30);
    std::optional<double> b_s, p_s;
    const auto survivors = allNames(c, victim);
    while (Steady::now() < deadline && (!b_s || !p_s)) {
      if (!b_s) {
        auto now = c.view(via);
        if (now && now->coverageProblem(survivors).empty()) b_s = seconds(Steady::now() - t0);
      }
      if (!p_s) {
        auto now = c.systemsNow(via);
        if (now) {
          bool all = true;
          for (const auto& sys : *now) {
            if (moved.contains(sys.id) &&
                (sys.last_polled_at <= lost_at || !survivor_ids.contains(sys.last_polled_by))) {
              all = false;
              break;
            }
          }
          if (all) p_s = seconds(Steady::now() - t0);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (b_s && p_s) {
      to_buckets.push_back(*b_s);
      to_polled.push_back(*p_s);
      std::printf(
          "  kill %2d: %s (%2zu buckets, %2zu systems): buckets held by the others %.2f s, moved "
          "systems "
          "polled %.2f s\n",
          k + 1, c.nodeName(victim).c_str(), buckets.size(), moved.size(), *b_s, *p_s);
    } else {
      ++failures;
      std::printf("  kill %2d: %s: NOT DONE within %.0f s (buckets %s, polls %s)\n", k + 1,
                  c.nodeName(victim).c_str(), seconds(deadline - t0), b_s ? "moved" : "not moved",
                  p_s ? "done" : "not done");
    }
    std::fflush(stdout);
    if (auto st = c.startNode(victim); !st) {
      std::fprintf(stderr, "restarting %s: %s\n", c.nodeName(victim).c_str(),
                   st.error().message.c_str());
      return 1;
    }
  }
  std::printf("  kill -> buckets held by others: median %.2f s, p90 %.2f s, max %.2f s\n",
              median(to_buckets), quantile(to_buckets, 0.9),
              to_buckets.empty() ? 0 : *std::max_element(to_buckets.begin(), to_buckets.end()));
  std::printf("  kill -> every moved system polled: median %.2f s, p90 %.2f s, max %.2f s\n",
              median(to_polled), quantile(to_polled, 0.9),
              to_polled.empty() ? 0 : *std::max_element(to_polled.begin(), to_polled.end()));
  std::printf(
      "RESULT bench=failover failover_timeout_ms=%d heartbeat_ms=%d nodes=%d kills=%zu failed=%d "
      "buckets_median_s=%.2f buckets_p90_s=%.2f buckets_max_s=%.2f polled_median_s=%.2f "
      "polled_p90_s=%.2f "
      "polled_max_s=%.2f\n",
      t.failover_ms, t.heartbeat_ms, s.nodes, to_buckets.size(), failures, median(to_buckets),
      quantile(to_buckets, 0.9),
      to_buckets.empty() ? 0 : *std::max_element(to_buckets.begin(), to_buckets.end()),
      median(to_polled), quantile(to_polled, 0.9),
      to_polled.empty() ? 0 : *std::max_element(to_polled.begin(), to_polled.end()));
  std::fflush(stdout);
  return failures == 0 ? 0 : 1;
}

// ---- 2a. ingest scaling --------------------------------------------------------------------

struct IngestFigure {
  double events_per_s = 0;
  std::uint64_t acknowledged = 0;
  std::int64_t stored = -1;
};

Result<IngestFigure> measureIngest(testing::PgCluster& pg, const Settings& s, int nodes) {
  testing::TempDir tmp("atrium-bench");
  ClusterOptions o;
  o.postgres = &pg;
  o.nodes = nodes;
  o.polling = false;
  o.log_level = "warn";
  auto started = Cluster::start(tmp.path(), o);
  if (!started) return started.error();
  Cluster& c = **started;
  // One Cisco system per connection (documentation addresses: polling is off).
  std::vector<std::string> ids;
  for (int k = 0; k < s.connections; ++k) {
    json body = {{"name", fmt::format("Bench Room {}", k)},
                 {"family", "cisco-xapi"},
                 {"addresses", {fmt::format("192.0.2.{}", k + 1)}}};
    auto r = c.node(0).http("POST", "/api/v1/systems", body.dump(),
                            {{"Content-Type", "application/json"}});
    if (!r || r->status != 201) return Error::internal("creating a system failed");
    ids.push_back(testing::AtriumNode::json(*r)["id"].get<std::string>());
  }
  std::vector<std::string> secrets;
  for (const auto& id : ids) {
    auto secret = pg.sql(fmt::format("SELECT feedback_secret FROM systems WHERE id = '{}'", id),
                         c.databaseName());
    if (!secret) return secret.error();
    secrets.push_back(*secret);
  }

  std::vector<double> rates;
  std::uint64_t acknowledged = 0;
  std::uint64_t serial = 0;
  for (int round = 0; round < s.rounds; ++round) {
    std::atomic<std::uint64_t> ok{0}, next{serial};
    const auto t0 = Steady::now();
    const auto until =
        t0 + std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(s.seconds));
    std::vector<std::thread> threads;
    for (int k = 0; k < s.connections; ++k) {
      threads.emplace_back([&, k] {
        net::HttpConnection conn("127.0.0.1", c.node(k % nodes).port());
        devices::SystemIdentity who;
        who.system_name = fmt::format("Bench Room {}", k);
        who.serial_number = fmt::format("FTT{:06}", k);
        while (Steady::now() < until) {
          devices::CallInfo call;
          call.call_id = std::to_string(next++);
          call.remote_number = "sip:peer@example.com";
          call.protocol = "Sip";
          auto r = conn.request("POST", "/feedback/" + secrets[static_cast<std::size_t>(k)],
                                devices::cisco_xapi::buildCallSuccessfulFeedback(who, call),
                                {{"Content-Type", "text/xml"}});
          if (r && r->status == 200) ++ok;
        }
      });
    }
    for (auto& th : threads) th.join();
    serial = next;
    acknowledged += ok;
    rates.push_back(static_cast<double>(ok) / seconds(Steady::now() - t0));
    std::printf("    %d node%s round %d: %.0f events/s\n", nodes, nodes == 1 ? "" : "s", round + 1,
                rates.back());
    std::fflush(stdout);
  }
  IngestFigure f;
  f.events_per_s = median(rates);
  f.acknowledged = acknowledged;
  auto r = c.node(0).http("GET", "/api/v1/events?source=feedback&limit=1");
  if (r && r->status == 200) f.stored = testing::AtriumNode::json(*r)["total"].get<std::int64_t>();
  return f;
}

int runIngestScaling(testing::PgCluster& pg, const Settings& s) {
  std::printf(
      "\ningest scaling: durable feedback, %d keep-alive connections spread over the nodes, %d "
      "rounds of "
      "%.0f s, durable PostgreSQL\n",
      s.connections, s.rounds, s.seconds);
  std::fflush(stdout);
  int rc = 0;
  std::optional<double> one;
  std::string result = "RESULT bench=ingest_scaling";
  for (int n : s.scale_nodes) {
    auto f = measureIngest(pg, s, n);
    if (!f) {
      std::fprintf(stderr, "%d nodes: %s\n", n, f.error().message.c_str());
      return 1;
    }
    if (n == 1) one = f->events_per_s;
    const bool complete = f->stored == static_cast<std::int64_t>(f->acknowledged);
    if (!complete) rc = 1;
    std::printf("  %d node%s: %.0f events/s (median)%s; acknowledged %llu, stored %lld%s\n", n,
                n == 1 ? " " : "s", f->events_per_s,
                one ? fmt::format(", x{:.2f} one node", f->events_per_s / *one).c_str() : "",
                static_cast<unsigned long long>(f->acknowledged), static_cast<long long>(f->stored),
                complete ? "" : " MISMATCH");
    result += fmt::format(" nodes{}_events_per_s={:.0f}", n, f->events_per_s);
    if (one) result += fmt::format(" nodes{}_ratio={:.2f}", n, f->events_per_s / *one);
    std::fflush(stdout);
  }
  std::printf("%s\n", result.c_str());
  return rc;
}

// ---- 2b. polling scaling -------------------------------------------------------------------

Result<double> measurePolling(testing::PgCluster& pg, const Settings& s, int nodes, int delay_ms) {
  testing::TempDir tmp("atrium-bench");
  ClusterOptions o;
  o.postgres = &pg;
  o.nodes = nodes;
  o.poll_interval_s = 5;
  o.poll_workers = s.poll_workers;
  o.poll_timeout_ms = 10000;
  o.cisco_xapi = s.poll_systems / 4;
  o.cisco_mcu = s.poll_systems / 4;
  o.polycom = s.poll_systems / 4;
  o.snmp = s.poll_systems - 3 * (s.poll_systems / 4);
  o.log_level = "warn";
  auto started = Cluster::start(tmp.path(), o);
  if (!started) return started.error();
  Cluster& c = **started;
  if (delay_ms > 0) {
    for (const auto& m : c.systems()) {
      ATRIUM_TRY(
          c.fleet()->setFault(m.index, sim::Fault::kSlow, std::chrono::milliseconds(delay_ms)));
    }
  }
  ClusterView v;
  std::set<std::string> all;
  for (int i = 0; i < nodes; ++i) all.insert(c.nodeName(i));
  if (!c.waitSettled(all, std::chrono::seconds(1), std::chrono::seconds(60), &v))
    return Error::internal("buckets not settled:\n" + v.summary());
  std::this_thread::sleep_for(std::chrono::seconds(5));  // warm up: the first polls are under way

  // Samples 2 s apart: no system is polled twice within 4 s (5 s interval, -20% jitter at most),
  // so each change of last_polled_at between samples is one poll.
  auto sample = [&]() -> std::map<std::string, std::string> {
    std::map<std::string, std::string> out;
    auto now = c.systemsNow(0);
    if (now) {
      for (const auto& sys : *now) out[sys.id] = sys.last_polled_at;
    }
    return out;
  };
  auto previous = sample();
  const auto t0 = Steady::now();
  std::uint64_t polls = 0;
  while (seconds(Steady::now() - t0) < s.poll_window_s) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    auto current = sample();
    for (const auto& [id, at] : current) {
      auto it = previous.find(id);
      if (!at.empty() && (it == previous.end() || it->second != at)) ++polls;
    }
    previous = std::move(current);
  }
  return static_cast<double>(polls) / seconds(Steady::now() - t0);
}

int runPollingScaling(testing::PgCluster& pg, const Settings& s) {
  int rc = 0;
  for (int delay : s.poll_delays_ms) {
    std::printf(
        "\npolling scaling: %d systems (every family), interval 5 s (%.0f polls/s asked for), %d "
        "workers per "
        "node, systems answering %s, window %.0f s\n",
        s.poll_systems, s.poll_systems / 5.0, s.poll_workers,
        delay > 0 ? fmt::format("after {} ms per request", delay).c_str() : "at once",
        s.poll_window_s);
    std::fflush(stdout);
    std::optional<double> one;
    std::string result =
        fmt::format("RESULT bench=polling_scaling delay_ms={} systems={}", delay, s.poll_systems);
    for (int n : s.scale_nodes) {
      auto rate = measurePolling(pg, s, n, delay);
      if (!rate) {
        std::fprintf(stderr, "%d nodes: %s\n", n, rate.error().message.c_str());
        rc = 1;
        continue;
      }
      if (n == 1) one = *rate;
      std::printf("  %d node%s: %.1f polls/s%s\n", n, n == 1 ? " " : "s", *rate,
                  one ? fmt::format(", x{:.2f} one node", *rate / *one).c_str() : "");
      result += fmt::format(" nodes{}_polls_per_s={:.1f}", n, *rate);
      if (one) result += fmt::format(" nodes{}_ratio={:.2f}", n, *rate / *one);
      std::fflush(stdout);
    }
    std::printf("%s\n", result.c_str());
  }
  return rc;
}

std::vector<int> parseInts(const std::string& text) {
  std::vector<int> out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::stoi(item));
  return out;
}

std::vector<Timeouts> parseTimeouts(const std::string& text) {
  std::vector<Timeouts> out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto slash = item.find('/');
    if (slash == std::string::npos)
      throw std::invalid_argument("expected failover_ms/heartbeat_ms: " + item);
    out.push_back({std::stoi(item.substr(0, slash)), std::stoi(item.substr(slash + 1))});
  }
  return out;
}

}  // namespace
}  // namespace atrium::bench

int main(int argc, char** argv) {
  using namespace atrium;
  bench::Settings s;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string flag = argv[i];
      if (flag == "--skip-failover")
        s.failover = false;
      else if (flag == "--skip-ingest")
        s.ingest = false;
      else if (flag == "--skip-polling")
        s.polling = false;
      else if (flag == "--fast-too")
        s.timeouts.push_back({2000, 250});
      else if (i + 1 < argc) {
        std::string value = argv[++i];
        if (flag == "--kills")
          s.kills = std::max(1, std::stoi(value));
        else if (flag == "--nodes")
          s.nodes = std::max(2, std::stoi(value));
        else if (flag == "--systems")
          s.systems = std::max(4, std::stoi(value));
        else if (flag == "--poll-interval")
          s.poll_interval_s = std::max(5, std::stoi(value));
        else if (flag == "--timeouts")
          s.timeouts = bench::parseTimeouts(value);
        else if (flag == "--seed")
          s.seed = static_cast<std::uint32_t>(std::stoul(value));
        else if (flag == "--scale-nodes")
          s.scale_nodes = bench::parseInts(value);
        else if (flag == "--seconds")
          s.seconds = std::stod(value);
        else if (flag == "--rounds")
          s.rounds = std::max(1, std::stoi(value));
        else if (flag == "--connections")
          s.connections = std::max(1, std::stoi(value));
        else if (flag == "--poll-systems")
          s.poll_systems = std::max(4, std::stoi(value));
        else if (flag == "--poll-delays")
          s.poll_delays_ms = bench::parseInts(value);
        else if (flag == "--poll-workers")
          s.poll_workers = std::max(1, std::stoi(value));
        else if (flag == "--poll-window")
          s.poll_window_s = std::stod(value);
        else {
          std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
          return 2;
        }
      } else {
        std::fprintf(stderr, "unknown flag or missing value: %s\n", flag.c_str());
        return 2;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bad flag value: %s\n", e.what());
    return 2;
  }
  if (std::find(s.scale_nodes.begin(), s.scale_nodes.end(), 1) == s.scale_nodes.end()) {
    s.scale_nodes.insert(s.scale_nodes.begin(), 1);  // the baseline
  }
  std::signal(SIGPIPE, SIG_IGN);
  log::init(log::Format::kText,
            log::Level::kWarn);  // the in-process fleet logs each registration at info
  if (s.seed == 0) s.seed = std::random_device{}();
  std::mt19937 rng(s.seed);
  std::printf("cluster_bench: %u cores, seed %u\n", std::thread::hardware_concurrency(), s.seed);

  auto started = testing::PgCluster::start({.durable = true});
  if (!started) {
    std::fprintf(stderr, "PostgreSQL: %s\n", started.error().message.c_str());
    return 1;
  }
  testing::PgCluster& pg = **started;
  int rc = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto took = [last = t0]() mutable {
    const auto now = std::chrono::steady_clock::now();
    std::printf("  (%.0f s)\n", std::chrono::duration<double>(now - last).count());
    std::fflush(stdout);
    last = now;
  };
  if (s.failover) {
    for (const auto& t : s.timeouts) {
      rc |= bench::runFailover(pg, s, t, rng);
      took();
    }
  }
  if (s.ingest) {
    rc |= bench::runIngestScaling(pg, s);
    took();
  }
  if (s.polling) {
    rc |= bench::runPollingScaling(pg, s);
    took();
  }
  std::printf("\ncluster_bench done in %.0f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return rc;
}
