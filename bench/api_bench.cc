// API throughput: creating systems, and listing 10,000 systems a page at a time, on SQLite and on
// PostgreSQL, each against the same server's /healthz rate measured in the same run (the
// baseline: what the HTTP layer alone does on this machine right now).
//
//   build/bench/api_bench [--seconds N] [--rounds N] [--connections N] [--systems N] [--backend sqlite|postgres]
#include <algorithm>
#include <functional>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "net/http_client.h"
#include "support/atrium_node.h"
#include "support/pg_cluster.h"

namespace atrium::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
  double seconds = 5;
  int rounds = 3;
  int connections = 4;
  int systems = 10000;
  std::string backend;  // empty: both
};

struct Sample {
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::uint64_t errors = 0;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// The administrator's session token every benchmark request carries (the API asks for one).
std::string g_token;  // NOLINT: set once before the loads start

// Runs `connections` keep-alive clients, each sending make_request(i) until the time is up or
// `total` requests (0: unbounded) have been sent in all.
template <typename MakeRequest>
Sample load(std::uint16_t port, const Settings& s, std::uint64_t total, MakeRequest make_request,
            unsigned expect_status) {
  std::atomic<std::uint64_t> next{0}, errors{0};
  std::vector<std::vector<double>> lat(s.connections);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.seconds));
  std::vector<std::thread> threads;
  for (int c = 0; c < s.connections; ++c) {
    threads.emplace_back([&, c] {
      net::HttpConnection conn("127.0.0.1", port);
      while (true) {
        std::uint64_t i = next++;
        if (total != 0 ? i >= total : Clock::now() >= deadline) break;
        auto [method, target, body] = make_request(i);
        auto t0 = Clock::now();
        auto r = conn.request(
            method, target, body,
            {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + g_token}});
        lat[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!r.ok() || r->status != expect_status) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  Sample out;
  out.rps = static_cast<double>(all.size()) / elapsed;
  out.p50_ms = percentile(all, 0.50);
  out.p99_ms = percentile(all, 0.99);
  out.errors = errors;
  return out;
}

struct Request {
  std::string method;
  std::string target;
  std::string body;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void printSample(const char* what, const Sample& s) {
  std::printf("  %-34s %9.0f req/s   p50 %7.2f ms   p99 %7.2f ms   errors %llu\n", what, s.rps, s.p50_ms,
              s.p99_ms, static_cast<unsigned long long>(s.errors));
}

// Runs after the fleet is created, before listing: on PostgreSQL, refreshes the planner's
// statistics as autovacuum would within a minute, so listing is measured in its steady state.
using AfterCreate = std::function<void()>;

int runBackend(const std::string& backend, const std::string& url, const Settings& s,
               const AfterCreate& after_create = {}) {
  testing::TempDir tmp("atrium-bench");
  testing::AtriumNode node(tmp.path() / "node", {.database_url = url, .name = "bench"});
  // Warn-level logs: the benchmark measures the server, not its debug logging.
  {
    auto text = testing::readFile(node.configPath());
    auto pos = text.find("level = \"debug\"");
    if (pos != std::string::npos) text.replace(pos, 15, "level = \"warn\"");
    testing::writeFile(node.configPath(), text);
  }
  auto init = node.init("bench");
  if (init.exit_code != 0) {
    std::fprintf(stderr, "init failed: %s\n", init.output.c_str());
    return 1;
  }
  if (auto st = node.start(); !st) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }
  auto token = node.adminToken();
  if (!token) {
    std::fprintf(stderr, "cannot sign in: %s\n", token.error().message.c_str());
    return 1;
  }
  g_token = *token;
  std::printf("\n%s (%s), %d connections, %d rounds of %.0f s\n", backend.c_str(), url.c_str(), s.connections,
              s.rounds, s.seconds);

  auto healthz = [](std::uint64_t) { return Request{"GET", "/healthz", ""}; };
  auto create = [](std::uint64_t i) {
    return Request{"POST", "/api/v1/systems",
                   fmt::format(R"({{"name":"Bench {:06}","family":"{}","model":"SX80","addresses":["10.{}.{}.{}"]}})", i,
                               i % 4 == 0 ? "cisco-xapi" : i % 4 == 1 ? "polycom" : i % 4 == 2 ? "snmp" : "cisco-mcu",
                               (i >> 16) & 255, (i >> 8) & 255, i & 255)};
  };
  std::mt19937 rng(42);
  std::mutex rng_mu;
  auto list = [&](std::uint64_t) {
    int offset;
    {
      std::lock_guard lock(rng_mu);
      offset = std::uniform_int_distribution<int>(0, std::max(0, s.systems - 50))(rng);
    }
    return Request{"GET", fmt::format("/api/v1/systems?limit=50&offset={}&sort=name", offset), ""};
  };

  // Creating: the time to add the whole fleet through the API.
  Settings unbounded = s;
  unbounded.seconds = 1e9;
  auto created = load(node.port(), unbounded, static_cast<std::uint64_t>(s.systems), create, 201);
  auto base_for_create = load(node.port(), s, 0, healthz, 200);
  if (after_create) after_create();
  printSample(fmt::format("create ({} systems)", s.systems).c_str(), created);
  printSample("healthz (baseline)", base_for_create);

  std::vector<double> list_rps, health_rps;
  for (int r = 0; r < s.rounds; ++r) {
    auto h = load(node.port(), s, 0, healthz, 200);
    auto l = load(node.port(), s, 0, list, 200);
    health_rps.push_back(h.rps);
    list_rps.push_back(l.rps);
    printSample(fmt::format("round {} healthz", r + 1).c_str(), h);
    printSample(fmt::format("round {} list 50 of {}", r + 1, s.systems).c_str(), l);
  }
  std::printf("  median: healthz %.0f req/s, list %.0f req/s (%.1f%% of healthz), create %.0f req/s (%.1f%% of healthz)\n",
              median(health_rps), median(list_rps), 100.0 * median(list_rps) / median(health_rps), created.rps,
              100.0 * created.rps / base_for_create.rps);
  std::printf("RESULT backend=%s healthz_rps=%.0f list_rps=%.0f create_rps=%.0f list_ratio=%.3f create_ratio=%.3f\n",
              backend.c_str(), median(health_rps), median(list_rps), created.rps,
              median(list_rps) / median(health_rps), created.rps / base_for_create.rps);
  node.stop();
  return 0;
}

}  // namespace
}  // namespace atrium::bench

int main(int argc, char** argv) {
  using namespace atrium;
  bench::Settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--seconds") s.seconds = std::stod(value);
    else if (flag == "--rounds") s.rounds = std::stoi(value);
    else if (flag == "--connections") s.connections = std::stoi(value);
    else if (flag == "--systems") s.systems = std::stoi(value);
    else if (flag == "--backend") s.backend = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  int rc = 0;
  if (s.backend.empty() || s.backend == "sqlite") rc |= bench::runBackend("sqlite", "", s);
  if (s.backend.empty() || s.backend == "postgres") {
    auto pg = testing::PgCluster::start({.durable = true});
    if (!pg) {
      std::fprintf(stderr, "PostgreSQL: %s\n", pg.error().message.c_str());
      return 1;
    }
    if (auto c = (*pg)->createDatabase("bench"); !c) {
      std::fprintf(stderr, "PostgreSQL: %s\n", c.error().message.c_str());
      return 1;
    }
    rc |= bench::runBackend("postgres", (*pg)->url("bench"), s, [&] {
      if (auto a = (*pg)->sql("ANALYZE systems", "bench"); !a) std::fprintf(stderr, "ANALYZE: %s\n", a.error().message.c_str());
    });
  }
  return rc;
}
