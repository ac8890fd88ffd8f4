// What managed systems cost a node, each figure printed with the same node's /healthz rate
// measured in the same run (the baseline: what the HTTP layer alone does on this machine now):
//
//  1. durable feedback ingest: POST /feedback/{secret} with real Cisco xAPI CallSuccessful /
//     CallDisconnect documents, every post a distinct event, on SQLite and on a durable
//     PostgreSQL; events per second, p50/p99 acknowledge latency, and afterwards a check through
//     /api/v1/events that every acknowledged post was stored;
//  2. SNMP traps: v2c traps sent over UDP at bounded rates in steps; per step sent / accepted by
//     the node's sink (/metrics) / stored (/api/v1/events), so the rate where loss begins shows;
//  3. polling at scale: a simulated fleet (5,000 systems by default) registered through the API
//     and polled; the atrium process's CPU time per polled system per minute and RSS per system,
//     against the idle node's RSS.
//
//   build/bench/ingest_bench [--seconds N] [--rounds N] [--connections N] [--backend sqlite|postgres]
//                            [--trap-rates 500,1000,...] [--trap-seconds N] [--systems N]
//                            [--poll-interval N] [--poll-window N] [--poll-workers N]
//                            [--skip-feedback] [--skip-traps] [--skip-polling]
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/log.h"
#include "devices/cisco_xapi/document_builder.h"
#include "net/http_client.h"
#include "sim/fleet.h"
#include "sim/snmp_codec.h"
#include "support/atrium_node.h"
#include "support/pg_cluster.h"

namespace atrium::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace xapi = devices::cisco_xapi;

struct Settings {
  double seconds = 5;  // each feedback and healthz round
  int rounds = 3;
  int connections = 4;
  std::string backend;  // empty: both (feedback, traps); polling runs on SQLite then
  std::vector<int> trap_rates = {500, 1000, 2000, 4000};
  double trap_seconds = 3;
  int systems = 5000;
  int poll_interval_s = 30;
  double poll_window_s = 60;
  int poll_workers = 32;
  bool feedback = true;
  bool traps = true;
  bool polling = true;
};

struct Sample {
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  std::uint64_t ok = 0;  // answered with the expected status
  std::uint64_t errors = 0;
};

struct Request {
  std::string method;
  std::string target;
  std::string body;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Runs `connections` keep-alive clients for `seconds`, client c sending make_request(c, k) for
// its k-th request; or, with `total` != 0, until `total` requests were sent in all (make_request
// then gets the global index as k).
template <typename MakeRequest>
Sample load(std::uint16_t port, int connections, double seconds, std::uint64_t total, MakeRequest make_request,
            unsigned expect_status, const net::Headers& headers) {
  std::atomic<std::uint64_t> next{0}, ok{0}, errors{0};
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(connections));
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      net::HttpConnection conn("127.0.0.1", port);
      for (std::uint64_t k = 0;; ++k) {
        std::uint64_t i = next++;
        if (total != 0 ? i >= total : Clock::now() >= deadline) break;
        Request req = make_request(c, total != 0 ? i : k);
        auto t0 = Clock::now();
        auto r = conn.request(req.method, req.target, req.body, headers);
        lat[static_cast<std::size_t>(c)].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (r.ok() && r->status == expect_status) ++ok;
        else ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  Sample out;
  out.rps = static_cast<double>(ok) / elapsed;
  out.p50_ms = percentile(all, 0.50);
  out.p99_ms = percentile(all, 0.99);
  out.ok = ok;
  out.errors = errors;
  return out;
}

Sample healthz(const testing::AtriumNode& node, int connections, double seconds) {
  return load(node.port(), connections, seconds, 0, [](int, std::uint64_t) { return Request{"GET", "/healthz", ""}; },
              200, {});
}

void printSample(const std::string& what, const Sample& s, const char* unit = "req/s") {
  std::printf("  %-34s %9.0f %-8s p50 %7.2f ms   p99 %7.2f ms   errors %llu\n", what.c_str(), s.rps, unit, s.p50_ms,
              s.p99_ms, static_cast<unsigned long long>(s.errors));
  std::fflush(stdout);
}

// A node started like api_bench's: warn-level logs, so the figures are the server's, not its
// debug logging's.
Status startNode(testing::AtriumNode& node) {
  auto text = testing::readFile(node.configPath());
  auto pos = text.find("level = \"debug\"");
  if (pos != std::string::npos) text.replace(pos, 15, "level = \"warn\"");
  testing::writeFile(node.configPath(), text);
  auto init = node.init("bench");
  if (init.exit_code != 0) return Error::internal("init failed: " + init.output);
  return node.start(std::chrono::seconds(60));
}

json getJson(const testing::AtriumNode& node, const std::string& target) {
  auto r = node.http("GET", target);
  if (!r.ok() || r->status != 200) return nullptr;
  return testing::AtriumNode::json(*r);
}

std::int64_t total(const testing::AtriumNode& node, const std::string& target) {
  json j = getJson(node, target);
  return j.is_object() && j.contains("total") ? j["total"].get<std::int64_t>() : -1;
}

// One counter from /metrics, or -1.
std::int64_t metric(const testing::AtriumNode& node, const std::string& name) {
  auto r = node.http("GET", "/metrics");
  if (!r.ok() || r->status != 200) return -1;
  std::istringstream in(r->body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  }
  return -1;
}

// A system's feedback secret, read from the database: the API never shows it.
class SecretReader {
 public:
  virtual ~SecretReader() = default;
  virtual Result<std::string> secret(const std::string& system_id) = 0;
};

class SqliteSecretReader : public SecretReader {
 public:
  explicit SqliteSecretReader(std::filesystem::path file) : file_(std::move(file)) {}
  Result<std::string> secret(const std::string& system_id) override {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(file_.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
    if (rc != SQLITE_OK) return Error::internal(fmt::format("cannot open {}: {}", file_.string(), sqlite3_errstr(rc)));
    sqlite3_busy_timeout(db.get(), 5000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db.get(), "SELECT feedback_secret FROM systems WHERE id = ?", -1, &st, nullptr) != SQLITE_OK) {
      return Error::internal(sqlite3_errmsg(db.get()));
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(st, &sqlite3_finalize);
    sqlite3_bind_text(stmt.get(), 1, system_id.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt.get()) != SQLITE_ROW) return Error::internal("no such system " + system_id);
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0)));
  }

 private:
  std::filesystem::path file_;
};

class PgSecretReader : public SecretReader {
 public:
  PgSecretReader(testing::PgCluster& pg, std::string db) : pg_(pg), db_(std::move(db)) {}
  Result<std::string> secret(const std::string& system_id) override {
    // The id comes from the API: a UUID, no quoting to do.
    return pg_.sql(fmt::format("SELECT feedback_secret FROM systems WHERE id = '{}'", system_id), db_);
  }

 private:
  testing::PgCluster& pg_;
  std::string db_;
};

Result<std::string> createSystem(const testing::AtriumNode& node, const json& body) {
  auto r = node.http("POST", "/api/v1/systems", body.dump(), {{"Content-Type", "application/json"}});
  if (!r.ok()) return r.error();
  if (r->status != 201) return Error::internal(fmt::format("create: {} {}", r->status, r->body));
  return testing::AtriumNode::json(*r)["id"].get<std::string>();
}

devices::SystemIdentity identity(int c) {
  devices::SystemIdentity id;
  id.system_name = fmt::format("Bench Room {}", c);
  id.product = "Cisco TelePresence SX80";
  id.product_type = "Cisco Codec";
  id.software_version = "ce9.15.3";
  id.serial_number = fmt::format("FTT{:06}", c);
  id.mac_address = fmt::format("00:50:60:00:00:{:02x}", c & 255);
  id.ipv4_address = "127.0.0.1";
  return id;
}

// --- 1. feedback ----------------------------------------------------------------------------

int runFeedback(const testing::AtriumNode& node, SecretReader& secrets, const Settings& s, const std::string& backend) {
  // One system per connection, as many endpoints post at once; the first has the loopback
  // address, so the traps sent later belong to it.
  std::vector<std::string> secret;
  std::vector<devices::SystemIdentity> ids;
  for (int c = 0; c < s.connections; ++c) {
    auto id = createSystem(node, {{"name", fmt::format("Bench Room {}", c)},
                                  {"family", "cisco-xapi"},
                                  {"model", "SX80"},
                                  {"addresses", {c == 0 ? std::string("127.0.0.1") : fmt::format("192.0.2.{}", c)}}});
    if (!id) {
      std::fprintf(stderr, "%s\n", id.error().message.c_str());
      return 1;
    }
    auto sec = secrets.secret(*id);
    if (!sec || sec->empty()) {
      std::fprintf(stderr, "feedback secret of %s: %s\n", id->c_str(), sec ? "empty" : sec.error().message.c_str());
      return 1;
    }
    secret.push_back(*sec);
    ids.push_back(identity(c));
  }

  std::uint64_t acknowledged = 0;
  std::vector<double> fb_rps, hz_rps, fb_p50, fb_p99;
  for (int round = 0; round < s.rounds; ++round) {
    auto h = healthz(node, s.connections, s.seconds);
    // Post k of connection c: call (round, k/2) connects (even k) or ends (odd k).
    auto post = [&](int c, std::uint64_t k) {
      devices::CallInfo call;
      call.call_id = std::to_string(static_cast<std::uint64_t>(round + 1) * 100000000ULL + k / 2);
      call.direction = k % 4 < 2 ? devices::CallDirection::kOutgoing : devices::CallDirection::kIncoming;
      call.remote_number = fmt::format("sip:peer{}@example.com", k % 1000);
      call.protocol = "Sip";
      call.rate_kbps = 6000;
      const auto& who = ids[static_cast<std::size_t>(c)];
      std::string body;
      if (k % 2 == 0) {
        body = xapi::buildCallSuccessfulFeedback(who, call);
      } else {
        call.duration = std::chrono::seconds(60 + static_cast<int>(k % 600));
        body = xapi::buildCallDisconnectFeedback(who, call, "1", "LocalDisconnect", "Normal");
      }
      return Request{"POST", "/feedback/" + secret[static_cast<std::size_t>(c)], std::move(body)};
    };
    auto f = load(node.port(), s.connections, s.seconds, 0, post, 200, {{"Content-Type", "text/xml"}});
    acknowledged += f.ok;
    hz_rps.push_back(h.rps);
    fb_rps.push_back(f.rps);
    fb_p50.push_back(f.p50_ms);
    fb_p99.push_back(f.p99_ms);
    printSample(fmt::format("round {} healthz", round + 1), h);
    printSample(fmt::format("round {} feedback", round + 1), f, "events/s");
  }
  const std::int64_t stored = total(node, "/api/v1/events?source=feedback&limit=1");
  const std::int64_t calls = total(node, "/api/v1/calls?limit=1");
  std::printf("  median: healthz %.0f req/s, feedback %.0f events/s (%.1f%% of healthz), p50 %.2f ms, p99 %.2f ms\n",
              median(hz_rps), median(fb_rps), 100.0 * median(fb_rps) / median(hz_rps), median(fb_p50), median(fb_p99));
  std::printf("  acknowledged %llu, stored %lld (GET /api/v1/events?source=feedback), call records %lld: %s\n",
              static_cast<unsigned long long>(acknowledged), static_cast<long long>(stored),
              static_cast<long long>(calls),
              stored == static_cast<std::int64_t>(acknowledged) ? "every acknowledged post stored" : "MISMATCH");
  std::printf("RESULT bench=feedback backend=%s healthz_rps=%.0f events_per_s=%.0f ratio=%.3f p50_ms=%.2f p99_ms=%.2f "
              "acknowledged=%llu stored=%lld\n",
              backend.c_str(), median(hz_rps), median(fb_rps), median(fb_rps) / median(hz_rps), median(fb_p50),
              median(fb_p99), static_cast<unsigned long long>(acknowledged), static_cast<long long>(stored));
  std::fflush(stdout);
  return stored == static_cast<std::int64_t>(acknowledged) ? 0 : 1;
}

// --- 2. traps -------------------------------------------------------------------------------

struct TrapStep {
  int rate = 0;
  std::uint64_t sent = 0;
  std::int64_t accepted = 0;
  std::int64_t stored = 0;
  double drain_s = 0;
};

int runTraps(const testing::AtriumNode& node, const Settings& s, const std::string& backend) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    std::perror("socket");
    return 1;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(node.snmpPort());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  const auto base = healthz(node, s.connections, std::min(s.seconds, 3.0));
  printSample("healthz (baseline)", base);
  const sim::SnmpOid link_down = sim::parseOid("1.3.6.1.6.3.1.1.5.3");
  const sim::SnmpOid if_index = sim::parseOid("1.3.6.1.2.1.2.2.1.1.2");
  std::int64_t serial = 0;  // sysUpTime of each trap: no two alike, so none is a duplicate
  std::vector<TrapStep> steps;
  int rc = 0;
  for (int rate : s.trap_rates) {
    TrapStep step;
    step.rate = rate;
    const auto count = static_cast<std::uint64_t>(rate * s.trap_seconds);
    // Encoded before sending, so the send loop only paces and sends.
    std::vector<std::string> packets;
    packets.reserve(count);
    for (std::uint64_t i = 0; i < count; ++i) {
      ++serial;
      auto p = sim::encodeSnmpTrap("public", serial, link_down, {{if_index, sim::SnmpValue::integer(2)}},
                                   static_cast<long>(serial));
      if (!p) {
        std::fprintf(stderr, "encode: %s\n", p.error().message.c_str());
        ::close(fd);
        return 1;
      }
      packets.push_back(std::move(*p));
    }
    const std::int64_t accepted0 = metric(node, "atrium_ingest_batches_accepted_total");
    const std::int64_t stored0 = total(node, "/api/v1/events?source=trap&limit=1");
    const auto start = Clock::now();
    const auto gap = std::chrono::duration<double>(1.0 / rate);
    for (std::uint64_t i = 0; i < count; ++i) {
      const auto due = start + std::chrono::duration_cast<Clock::duration>(gap * static_cast<double>(i));
      while (Clock::now() < due) {
        if (due - Clock::now() > std::chrono::microseconds(200)) std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      if (::sendto(fd, packets[i].data(), packets[i].size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) > 0) {
        ++step.sent;
      }
    }
    const auto sent_at = Clock::now();
    // Drained: the accepted counter did not move for a second (or 30 s passed).
    std::int64_t last = -2;
    auto last_change = Clock::now();
    while (Clock::now() - sent_at < std::chrono::seconds(30)) {
      const std::int64_t now_accepted = metric(node, "atrium_ingest_batches_accepted_total");
      if (now_accepted != last) {
        last = now_accepted;
        last_change = Clock::now();
      } else if (Clock::now() - last_change >= std::chrono::seconds(1)) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    step.drain_s = std::chrono::duration<double>(last_change - sent_at).count();
    step.accepted = last - accepted0;
    step.stored = total(node, "/api/v1/events?source=trap&limit=1") - stored0;
    std::printf("  %5d traps/s for %.0f s: sent %6llu  accepted %6lld  stored %6lld  lost %6lld (%.1f%%)  drained %.1f s after the last\n",
                rate, s.trap_seconds, static_cast<unsigned long long>(step.sent), static_cast<long long>(step.accepted),
                static_cast<long long>(step.stored), static_cast<long long>(step.sent) - static_cast<long long>(step.stored),
                100.0 * (static_cast<double>(step.sent) - static_cast<double>(step.stored)) / static_cast<double>(std::max<std::uint64_t>(1, step.sent)),
                step.drain_s);
    std::fflush(stdout);
    if (step.stored != step.accepted) rc = 1;  // accepted means durable: this is a bug
    steps.push_back(step);
  }
  ::close(fd);
  int lossless = 0;
  double stored_rate = 0;
  for (const auto& st : steps) {
    if (st.stored == static_cast<std::int64_t>(st.sent)) lossless = std::max(lossless, st.rate);
    stored_rate = std::max(stored_rate, static_cast<double>(st.stored) / (s.trap_seconds + st.drain_s));
  }
  std::printf("  highest lossless step %d traps/s; best stored rate %.0f traps/s (%.1f%% of healthz)\n", lossless,
              stored_rate, 100.0 * stored_rate / base.rps);
  std::printf("RESULT bench=traps backend=%s healthz_rps=%.0f lossless_rate=%d stored_rate=%.0f\n", backend.c_str(),
              base.rps, lossless, stored_rate);
  std::fflush(stdout);
  return rc;
}

// --- 3. polling -----------------------------------------------------------------------------

struct ProcSample {
  double cpu_s = 0;
  long rss_kib = 0;
};

ProcSample procSample(pid_t pid) {
  ProcSample out;
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(text.substr(close + 2));
    std::vector<std::string> f;
    std::string word;
    while (in >> word) f.push_back(word);
    // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based).
    if (f.size() > 12) {
      out.cpu_s = static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) out.rss_kib = std::stol(line.substr(6));
  }
  return out;
}

// id -> last_polled_at of every system (pages of 1,000).
std::map<std::string, std::string> lastPolled(const testing::AtriumNode& node, int systems) {
  std::map<std::string, std::string> out;
  for (int offset = 0; offset < systems; offset += 1000) {
    json page = getJson(node, fmt::format("/api/v1/systems?limit=1000&offset={}&sort=name", offset));
    if (!page.is_object()) break;
    for (const auto& item : page["items"]) {
      out[item["id"].get<std::string>()] = item["last_polled_at"].is_string() ? item["last_polled_at"].get<std::string>() : "";
    }
  }
  return out;
}

int runPolling(const std::string& backend, const std::string& url, const Settings& s) {
  const std::uint16_t http_port = testing::freePort();
  const std::uint16_t snmp_port = testing::freeUdpPort();
  testing::TempDir tmp("atrium-bench");
  testing::AtriumNode node(tmp.path() / "node",
                           {.database_url = url,
                            .name = "bench",
                            .polling_section = fmt::format(
                                "enabled = true\ninterval_s = {}\nworkers = {}\nhttp_port = {}\nsnmp_port = {}\n",
                                s.poll_interval_s, s.poll_workers, http_port, snmp_port)});
  if (auto st = startNode(node); !st) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }
  const pid_t pid = node.process()->pid();
  std::printf("\npolling, %s, %d systems, interval %d s, %d workers, window %.0f s\n", backend.c_str(), s.systems,
              s.poll_interval_s, s.poll_workers, s.poll_window_s);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // settle after start-up
  const ProcSample idle = procSample(pid);
  const auto base = healthz(node, s.connections, std::min(s.seconds, 3.0));
  printSample("healthz idle (baseline)", base);

  sim::FleetOptions fo;
  fo.cisco_xapi = s.systems / 4;
  fo.cisco_mcu = s.systems / 4;
  fo.polycom = s.systems / 4;
  fo.snmp = s.systems - 3 * (s.systems / 4);
  fo.base_address = "127.40.0.1";
  fo.http_port = http_port;
  fo.snmp_port = snmp_port;
  fo.name_prefix = "Bench";
  const auto fleet_started = Clock::now();
  auto fleet = sim::Fleet::start(fo);
  if (!fleet) {
    std::fprintf(stderr, "fleet: %s\n", fleet.error().message.c_str());
    return 1;
  }
  std::printf("  fleet of %zu simulated systems started in %.1f s (in this process)\n", (*fleet)->systems().size(),
              std::chrono::duration<double>(Clock::now() - fleet_started).count());

  const auto& fleet_systems = (*fleet)->systems();
  auto create = [&](int, std::uint64_t i) {
    const auto& sys = fleet_systems[i];
    json body = {{"name", sys.name}, {"family", sys.family}, {"model", sys.model}, {"addresses", {sys.address}}};
    if (sys.family != "snmp") body["credentials"] = {{"username", sys.username}, {"password", sys.password}};
    return Request{"POST", "/api/v1/systems", body.dump()};
  };
  auto created = load(node.port(), s.connections, 1e9, fleet_systems.size(), create, 201,
                      {{"Content-Type", "application/json"}});
  printSample(fmt::format("create ({} systems)", fleet_systems.size()), created);
  if (created.errors != 0) {
    std::fprintf(stderr, "%llu systems could not be created\n", static_cast<unsigned long long>(created.errors));
    (*fleet)->stop();
    return 1;
  }

  // Every system polled once: none left with status unknown.
  const auto wait_start = Clock::now();
  const auto wait_limit = std::chrono::seconds(3 * s.poll_interval_s + 60);
  std::int64_t unknown = -1;
  while (Clock::now() - wait_start < wait_limit) {
    unknown = total(node, "/api/v1/systems?status=unknown&limit=1");
    if (unknown == 0) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::printf("  %s after %.0f s (%lld not yet polled)\n", unknown == 0 ? "every system polled once" : "NOT every system polled",
              std::chrono::duration<double>(Clock::now() - wait_start).count(), static_cast<long long>(unknown));
  std::string breakdown;
  for (const char* st : {"idle", "in-call", "unreachable", "error", "auth-failed", "unknown"}) {
    breakdown += fmt::format(" {} {}", st, total(node, fmt::format("/api/v1/systems?status={}&limit=1", st)));
  }
  std::printf("  status:%s\n", breakdown.c_str());
  std::fflush(stdout);

  const auto before = lastPolled(node, s.systems);
  const ProcSample p0 = procSample(pid);
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(s.poll_window_s));
  const ProcSample p1 = procSample(pid);
  const double window = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto after = lastPolled(node, s.systems);
  int repolled = 0;
  for (const auto& [id, at] : after) {
    auto it = before.find(id);
    if (!at.empty() && (it == before.end() || it->second != at)) ++repolled;
  }
  const auto loaded = healthz(node, s.connections, std::min(s.seconds, 3.0));
  printSample("healthz while polling", loaded);

  const double n = static_cast<double>(fleet_systems.size());
  const double cpu_ms = (p1.cpu_s - p0.cpu_s) * 1000.0;
  const double cpu_per_system_min = cpu_ms / n / (window / 60.0);
  const double kib_per_system = static_cast<double>(p1.rss_kib - idle.rss_kib) / n;
  std::printf("  atrium CPU %.0f ms in %.0f s (%.1f%% of one core); %d of %zu systems polled again in the window\n", cpu_ms,
              window, 100.0 * cpu_ms / 1000.0 / window, repolled, fleet_systems.size());
  std::printf("  RSS idle %ld KiB, with %zu systems %ld KiB\n", idle.rss_kib, fleet_systems.size(), p1.rss_kib);
  std::printf("  per polled system: %.3f CPU-ms per minute, %.1f KiB RSS; healthz while polling %.1f%% of idle\n",
              cpu_per_system_min, kib_per_system, 100.0 * loaded.rps / base.rps);
  std::printf("RESULT bench=polling backend=%s systems=%zu interval_s=%d cpu_ms_per_system_min=%.3f kib_per_system=%.1f "
              "idle_rss_kib=%ld healthz_idle_rps=%.0f healthz_polling_rps=%.0f\n",
              backend.c_str(), fleet_systems.size(), s.poll_interval_s, cpu_per_system_min, kib_per_system, idle.rss_kib,
              base.rps, loaded.rps);
  std::fflush(stdout);
  node.stop();
  (*fleet)->stop();
  return unknown == 0 ? 0 : 1;
}

// --- per backend ----------------------------------------------------------------------------

int runIngest(const std::string& backend, const std::string& url, const Settings& s,
              const std::function<std::unique_ptr<SecretReader>(const testing::AtriumNode&)>& reader) {
  testing::TempDir tmp("atrium-bench");
  testing::AtriumNode node(tmp.path() / "node", {.database_url = url, .name = "bench"});
  if (auto st = startNode(node); !st) {
    std::fprintf(stderr, "%s\n", st.error().message.c_str());
    return 1;
  }
  int rc = 0;
  if (s.feedback) {
    std::printf("\nfeedback, %s, %d connections (one system each), %d rounds of %.0f s\n", backend.c_str(),
                s.connections, s.rounds, s.seconds);
    auto secrets = reader(node);
    rc |= runFeedback(node, *secrets, s, backend);
  }
  if (s.traps) {
    if (!s.feedback) {  // the traps' sender must be a system for them to be attributed
      if (auto id = createSystem(node, {{"name", "Bench trap sender"}, {"family", "snmp"}, {"addresses", {"127.0.0.1"}}}); !id) {
        std::fprintf(stderr, "%s\n", id.error().message.c_str());
        return 1;
      }
    }
    std::printf("\ntraps, %s, v2c linkDown over UDP from 127.0.0.1, steps of %.0f s\n", backend.c_str(), s.trap_seconds);
    rc |= runTraps(node, s, backend);
  }
  node.stop();
  return rc;
}

std::vector<int> parseRates(const std::string& text) {
  std::vector<int> out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(std::max(1, std::stoi(item)));
  return out;
}

}  // namespace
}  // namespace atrium::bench

int main(int argc, char** argv) {
  using namespace atrium;
  bench::Settings s;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--skip-feedback") s.feedback = false;
    else if (flag == "--skip-traps") s.traps = false;
    else if (flag == "--skip-polling") s.polling = false;
    else if (i + 1 < argc) {
      std::string value = argv[++i];
      if (flag == "--seconds") s.seconds = std::stod(value);
      else if (flag == "--rounds") s.rounds = std::stoi(value);
      else if (flag == "--connections") s.connections = std::max(1, std::stoi(value));
      else if (flag == "--backend") s.backend = value;
      else if (flag == "--trap-rates") s.trap_rates = bench::parseRates(value);
      else if (flag == "--trap-seconds") s.trap_seconds = std::stod(value);
      else if (flag == "--systems") s.systems = std::max(4, std::stoi(value));
      else if (flag == "--poll-interval") s.poll_interval_s = std::stoi(value);
      else if (flag == "--poll-window") s.poll_window_s = std::stod(value);
      else if (flag == "--poll-workers") s.poll_workers = std::stoi(value);
      else {
        std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "unknown flag or missing value: %s\n", flag.c_str());
      return 2;
    }
  }
  if (!s.backend.empty() && s.backend != "sqlite" && s.backend != "postgres") {
    std::fprintf(stderr, "--backend is sqlite or postgres\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  log::init(log::Format::kText, log::Level::kWarn);  // the in-process fleet logs each registration at info
  int rc = 0;
  const bool sqlite = s.backend.empty() || s.backend == "sqlite";
  const bool postgres = s.backend.empty() || s.backend == "postgres";
  if (sqlite && (s.feedback || s.traps)) {
    rc |= bench::runIngest("sqlite", "", s, [](const testing::AtriumNode& node) -> std::unique_ptr<bench::SecretReader> {
      return std::make_unique<bench::SqliteSecretReader>(node.dataDir() / "atrium.db");
    });
  }
  std::unique_ptr<testing::PgCluster> pg;
  if (postgres && (s.feedback || s.traps || (s.polling && !sqlite))) {
    auto started = testing::PgCluster::start({.durable = true});
    if (!started) {
      std::fprintf(stderr, "PostgreSQL: %s\n", started.error().message.c_str());
      return 1;
    }
    pg = std::move(*started);
    for (const char* db : {"bench", "bench_poll"}) {
      if (auto c = pg->createDatabase(db); !c) {
        std::fprintf(stderr, "PostgreSQL: %s\n", c.error().message.c_str());
        return 1;
      }
    }
    if (s.feedback || s.traps) {
      rc |= bench::runIngest("postgres", pg->url("bench"), s,
                             [&](const testing::AtriumNode&) -> std::unique_ptr<bench::SecretReader> {
                               return std::make_unique<bench::PgSecretReader>(*pg, "bench");
                             });
    }
  }
  if (s.polling) {
    rc |= sqlite ? bench::runPolling("sqlite", "", s) : bench::runPolling("postgres", pg->url("bench_poll"), s);
  }
  return rc;
}
