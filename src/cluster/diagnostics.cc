#include "cluster/diagnostics.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <optional>
#include <set>

#include "cluster/admission.h"
#include "common/log.h"

namespace atrium::cluster {
namespace {

using nlohmann::json;

constexpr const char* kLeaseKey = "cluster-check";
constexpr const char* kTicketSeverity = "major";

struct RuleText {
  const char* id;
  const char* rule;
};

// ARCHITECTURE.md's table, in its order.
constexpr RuleText kRules[] = {
    {"one-live-db", "only one live database per installation"},
    {"embedded-single", "the embedded database cannot serve several servers"},
    {"same-file-paths", "local file paths are the same on every server"},
    {"same-domain", "all servers in the same domain, users from that domain"},
    {"db-latency", "under the latency limit between every server and the database"},
    {"time-sync", "all servers time-synchronised"},
    {"node-addressable", "each server reachable by the managed systems"},
    {"server-addresses", "server addresses configured for the systems to use"},
    {"http-and-snmp", "every server takes both HTTP and SNMP from systems"},
    {"multi-vendor", "every family in the inventory has a driver on every server"},
    {"same-validation-key", "all servers use the same validation key"},
};

CheckResult result(const char* id, std::string status, std::string message,
                   json details = json::object()) {
  CheckResult r;
  r.id = id;
  for (const auto& rule : kRules) {
    if (std::string_view(rule.id) == id) r.rule = rule.rule;
  }
  r.status = std::move(status);
  r.message = std::move(message);
  r.details = std::move(details);
  return r;
}

CheckResult unreadable(const char* id, const Error& e) {
  return result(id, "fail", "cannot be checked: " + e.message);
}

std::string joined(const std::vector<std::string>& parts, std::string_view sep = "; ") {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

struct HostPort {
  std::string host;
  std::string port;
};

// "http://host:port", "snmp://[v6]:port" -> scheme and host/port.
std::optional<std::pair<std::string, HostPort>> parseAddress(const std::string& address) {
  auto sep = address.find("://");
  if (sep == std::string::npos) return std::nullopt;
  std::string scheme = address.substr(0, sep);
  std::string rest = address.substr(sep + 3);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  HostPort hp;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return std::nullopt;
    hp.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') hp.port = rest.substr(close + 2);
  } else {
    auto colon = rest.rfind(':');
    hp.host = colon == std::string::npos ? rest : rest.substr(0, colon);
    if (colon != std::string::npos) hp.port = rest.substr(colon + 1);
  }
  if (hp.port.empty()) hp.port = scheme == "https" ? "443" : scheme == "snmp" ? "162" : "80";
  return std::make_pair(scheme, hp);
}

// A TCP connect with a deadline; "" when it connected, else why not.
std::string tcpConnect(const HostPort& hp, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(hp.host.c_str(), hp.port.c_str(), &hints, &found); rc != 0) {
    return fmt::format("cannot resolve {}: {}", hp.host, gai_strerror(rc));
  }
  std::string why = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
      if (rc == 0) {
        why = fmt::format("no answer within {} ms", timeout.count());
        rc = -1;
      } else if (rc > 0) {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        if (err != 0) why = std::strerror(err);
      } else {
        why = std::strerror(errno);
      }
    } else if (rc != 0) {
      why = std::strerror(errno);
    }
    ::close(fd);
    if (rc == 0) {
      freeaddrinfo(found);
      return {};
    }
  }
  freeaddrinfo(found);
  return why;
}

std::string ms(double v) { return fmt::format("{:.1f} ms", v); }

}  // namespace

const std::vector<std::string>& checkIds() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> out;
    for (const auto& r : kRules) out.emplace_back(r.id);
    return out;
  }();
  return ids;
}

json DiagnosticsReport::toJson() const {
  json checks_json = json::array();
  for (const auto& c : checks) {
    checks_json.push_back({{"id", c.id},
                           {"rule", c.rule},
                           {"status", c.status},
                           {"message", c.message},
                           {"details", c.details}});
  }
  return {
      {"ok", ok}, {"checked_at", formatTimestamp(checked_at)}, {"checks", std::move(checks_json)}};
}

Diagnostics::Diagnostics(DiagnosticsOptions options, store::Database& db, store::Store& store,
                         store::DeviceStore& devices, store::ClusterStore& cluster,
                         const Clock& clock)
    : options_(std::move(options)),
      db_(db),
      store_(store),
      devices_(devices),
      cluster_(cluster),
      clock_(clock) {}

DiagnosticsReport Diagnostics::evaluate() {
  DiagnosticsReport report;
  report.checked_at = clock_.now();
  auto& checks = report.checks;

  std::vector<store::NodeRecord> live;
  std::optional<Error> registry_error;
  if (auto nodes = cluster_.nodes(options_.failover_timeout.count()); nodes) {
    for (auto& n : *nodes) {
      if (n.alive) live.push_back(std::move(n));
    }
  } else {
    registry_error = nodes.error();
  }
  std::sort(live.begin(), live.end(),
            [](const auto& a, const auto& b) { return a.node.name < b.node.name; });
  auto per_node = [&](const char* id, auto&& fn) -> CheckResult {
    if (registry_error) return unreadable(id, *registry_error);
    return fn();
  };

  // ---- one-live-db
  checks.push_back([&] {
    auto inst = store_.installation();
    if (!inst) return unreadable("one-live-db", inst.error());
    json details = {{"installation_id", inst->id},
                    {"epoch", inst->epoch},
                    {"database", db_.displayUrl()},
                    {"dialect", std::string(store::dialectName(db_.dialect()))}};
    if (!options_.installation_id.empty() && inst->id != options_.installation_id) {
      return result(
          "one-live-db", "fail",
          fmt::format(
              "the database holds installation {}, but this node joined installation {}: two "
              "databases are in use",
              inst->id, options_.installation_id),
          details);
    }
    if (Status writable = db_.checkWritable(); !writable) {
      return result(
          "one-live-db", "fail",
          fmt::format(
              "the database {} does not accept writes ({}): a replica or a stopped primary is "
              "not the live database",
              db_.displayUrl(), writable.error().message),
          details);
    }
    return result(
        "one-live-db", "pass",
        fmt::format(
            "the database holds installation {} (epoch {}) and accepts writes; {} live node(s) "
            "use it",
            inst->id, inst->epoch, live.size()),
        details);
  }());

  // ---- embedded-single
  checks.push_back(per_node("embedded-single", [&] {
    if (db_.dialect() != store::Dialect::kSqlite) {
      return result("embedded-single", "not-applicable",
                    "the database is PostgreSQL, which serves several servers");
    }
    std::vector<std::string> names;
    bool standby = false;
    for (const auto& n : live) {
      names.push_back(n.node.name);
      standby = standby || n.node.role == "standby";
    }
    json details = {{"live_nodes", names}};
    if (live.size() > 1 || standby) {
      return result(
          "embedded-single", "fail",
          fmt::format(
              "{} live node(s) ({}) on the embedded SQLite database{}, which serves one server "
              "only; several servers need PostgreSQL",
              live.size(), joined(names, ", "), standby ? ", one of them a standby" : ""),
          details);
    }
    return result("embedded-single", "pass", "one server on the embedded SQLite database", details);
  }));

  // ---- same-file-paths
  checks.push_back(per_node("same-file-paths", [&] {
    std::set<std::string> paths, sums;
    json details = json::array();
    std::vector<std::string> listing;
    for (const auto& n : live) {
      paths.insert(n.node.file_path);
      if (!n.node.cache_checksum.empty()) sums.insert(n.node.cache_checksum);
      details.push_back({{"node", n.node.name},
                         {"path", n.node.file_path},
                         {"cache_checksum", n.node.cache_checksum}});
      listing.push_back(fmt::format("{}: {} (checksum {})", n.node.name, n.node.file_path,
                                    n.node.cache_checksum.empty() ? "-" : n.node.cache_checksum));
    }
    if (paths.size() > 1) {
      return result("same-file-paths", "fail",
                    "the nodes cache uploaded files under different paths (" + joined(listing) +
                        "); set files.cache_dir to the same path on every node",
                    {{"nodes", details}});
    }
    if (sums.size() > 1) {
      return result("same-file-paths", "fail",
                    "the nodes' file caches differ (" + joined(listing) +
                        "); a node re-fetches its cache from the "
                        "database when it restarts",
                    {{"nodes", details}});
    }
    return result("same-file-paths", "pass",
                  paths.empty()
                      ? std::string("no live node")
                      : fmt::format("every live node caches files under {}", *paths.begin()),
                  {{"nodes", details}});
  }));

  // ---- same-domain
  checks.push_back(per_node("same-domain", [&] {
    auto recorded = installationIdentitySource(db_);
    if (!recorded) return unreadable("same-domain", recorded.error());
    if (!recorded->has_value()) {
      return result("same-domain", "warn",
                    "the installation has recorded no identity source yet (a node records it "
                    "at its first start)");
    }
    const auto& source = **recorded;
    const std::string expected = source.fingerprint();
    std::vector<std::string> differ;
    json details = {
        {"source", source.source}, {"base_dn", source.base_dn}, {"fingerprint", expected}};
    json nodes = json::array();
    for (const auto& n : live) {
      nodes.push_back(
          {{"node", n.node.name}, {"identity_fingerprint", n.node.identity_fingerprint}});
      if (n.node.identity_fingerprint != expected) {
        differ.push_back(fmt::format("{} (fingerprint {})", n.node.name,
                                     n.node.identity_fingerprint.empty()
                                         ? "none"
                                         : n.node.identity_fingerprint.substr(0, 16)));
      }
    }
    details["nodes"] = nodes;
    if (!differ.empty()) {
      return result(
          "same-domain", "fail",
          fmt::format(
              "node(s) {} use another identity source than the installation's, {} (fingerprint "
              "{}); set identity.source and identity.base_dn alike on every node",
              joined(differ, ", "), source.describe(), expected.substr(0, 16)),
          details);
    }
    return result("same-domain", "pass",
                  "every live node takes its users from " + source.describe(), details);
  }));

  // ---- db-latency
  checks.push_back(per_node("db-latency", [&] {
    const double limit = static_cast<double>(options_.db_latency_limit.count());
    std::vector<std::string> over;
    json nodes = json::array();
    double worst = 0;
    std::string worst_node;
    for (const auto& n : live) {
      nodes.push_back({{"node", n.node.name},
                       {"rtt_ms", n.node.rtt_ms},
                       {"rtt_p50_ms", n.node.rtt_p50_ms},
                       {"rtt_p99_ms", n.node.rtt_p99_ms}});
      if (n.node.rtt_p99_ms > limit) {
        over.push_back(fmt::format("{} p99 {} (p50 {})", n.node.name, ms(n.node.rtt_p99_ms),
                                   ms(n.node.rtt_p50_ms)));
      }
      if (n.node.rtt_p99_ms >= worst) {
        worst = n.node.rtt_p99_ms;
        worst_node = n.node.name;
      }
    }
    json details = {{"limit_ms", options_.db_latency_limit.count()}, {"nodes", nodes}};
    if (!over.empty()) {
      return result(
          "db-latency", "fail",
          fmt::format(
              "database round trip over the {} ms limit (cluster.db_latency_limit_ms): {}; put "
              "the nodes near the database",
              options_.db_latency_limit.count(), joined(over)),
          details);
    }
    return result(
        "db-latency", "pass",
        live.empty()
            ? std::string("no live node")
            : fmt::format("every live node's p99 database round trip is within {} ms (highest: {} "
                          "on {})",
                          options_.db_latency_limit.count(), ms(worst), worst_node),
        details);
  }));

  // ---- time-sync
  checks.push_back(per_node("time-sync", [&] {
    const std::int64_t limit = options_.clock_skew_limit.count();
    std::vector<std::string> off;
    json nodes = json::array();
    std::int64_t lo = 0, hi = 0;
    for (std::size_t i = 0; i < live.size(); ++i) {
      const auto& n = live[i].node;
      nodes.push_back({{"node", n.name}, {"clock_offset_ms", n.clock_offset_ms}});
      if (std::llabs(n.clock_offset_ms) > limit) {
        off.push_back(fmt::format("{} is {} ms {} the database", n.name,
                                  std::llabs(n.clock_offset_ms),
                                  n.clock_offset_ms > 0 ? "ahead of" : "behind"));
      }
      lo = i == 0 ? n.clock_offset_ms : std::min(lo, n.clock_offset_ms);
      hi = i == 0 ? n.clock_offset_ms : std::max(hi, n.clock_offset_ms);
    }
    json details = {{"limit_ms", limit}, {"spread_ms", hi - lo}, {"nodes", nodes}};
    if (!off.empty() || hi - lo > limit) {
      if (off.empty()) off.push_back(fmt::format("the nodes' clocks are {} ms apart", hi - lo));
      return result(
          "time-sync", "fail",
          fmt::format(
              "clock skew over the {} ms limit (cluster.clock_skew_limit_ms): {}; synchronise the "
              "servers' clocks (NTP)",
              limit, joined(off)),
          details);
    }
    return result(
        "time-sync", "pass",
        fmt::format("every live node's clock is within {} ms of the database's (spread {} ms)",
                    limit, hi - lo),
        details);
  }));

  // ---- node-addressable
  checks.push_back(per_node("node-addressable", [&] {
    std::vector<std::string> problems;
    std::map<std::string, std::vector<std::string>> owners;
    json nodes = json::array();
    for (const auto& n : live) {
      json reach = json::array();
      if (n.node.device_addresses.empty())
        problems.push_back(n.node.name + " registers no address for systems");
      for (const auto& a : n.node.device_addresses) {
        owners[a].push_back(n.node.name);
        auto parsed = parseAddress(a);
        if (!parsed || (parsed->first != "http" && parsed->first != "https")) continue;
        std::string why = tcpConnect(parsed->second, options_.connect_timeout);
        reach.push_back({{"address", a}, {"reachable", why.empty()}, {"error", why}});
        if (!why.empty())
          problems.push_back(fmt::format("{} is unreachable at {}: {}", n.node.name, a, why));
      }
      nodes.push_back(
          {{"node", n.node.name}, {"device_addresses", n.node.device_addresses}, {"http", reach}});
    }
    for (const auto& [address, names] : owners) {
      if (names.size() > 1) {
        problems.push_back(fmt::format("{} is registered by {} nodes ({})", address, names.size(),
                                       joined(names, ", ")));
      }
    }
    json details = {{"nodes", nodes}};
    if (!problems.empty()) {
      return result(
          "node-addressable", "fail",
          joined(problems) +
              "; set cluster.advertise_host to an address the systems reach, distinct per "
              "node",
          details);
    }
    return result(
        "node-addressable", "pass",
        fmt::format("{} live node(s), each with its own reachable addresses", live.size()),
        details);
  }));

  // ---- server-addresses
  checks.push_back([&] {
    auto a = devices_.serverAddresses();
    if (!a) return unreadable("server-addresses", a.error());
    json details = {{"lan_ipv4", a->lan_ipv4},       {"lan_ipv6", a->lan_ipv6},
                    {"lan_fqdn", a->lan_fqdn},       {"public_ipv4", a->public_ipv4},
                    {"public_fqdn", a->public_fqdn}, {"http_port", a->http_port}};
    std::vector<std::string> set;
    for (const auto* v :
         {&a->lan_ipv4, &a->lan_ipv6, &a->lan_fqdn, &a->public_ipv4, &a->public_fqdn}) {
      if (!v->empty()) set.push_back(*v);
    }
    if (set.empty()) {
      return result("server-addresses", "fail",
                    "no server addresses are configured, so systems cannot be told where to send "
                    "feedback; set them "
                    "with PUT /api/v1/settings/server-addresses",
                    details);
    }
    return result("server-addresses", "pass",
                  fmt::format("systems are told {} (port {})", joined(set, ", "), a->http_port),
                  details);
  }());

  // ---- http-and-snmp
  checks.push_back(per_node("http-and-snmp", [&] {
    std::vector<std::string> missing;
    for (const auto& n : live) {
      bool http = false, snmp = false;
      for (const auto& a : n.node.device_addresses) {
        http = http || a.rfind("http://", 0) == 0 || a.rfind("https://", 0) == 0;
        snmp = snmp || a.rfind("snmp://", 0) == 0;
      }
      if (!http) missing.push_back(n.node.name + " takes no HTTP feedback");
      if (!snmp) missing.push_back(n.node.name + " takes no SNMP traps (snmp.listen is off)");
    }
    if (!missing.empty()) {
      return result(
          "http-and-snmp", "fail",
          joined(missing) + "; every node listens for both, and the load balancer forwards both");
    }
    return result("http-and-snmp", "pass", "every live node takes HTTP feedback and SNMP traps");
  }));

  // ---- multi-vendor
  checks.push_back(per_node("multi-vendor", [&] {
    std::set<std::string> families(options_.families.begin(), options_.families.end());
    for (const auto& n : live)
      families.insert(n.node.driver_families.begin(), n.node.driver_families.end());
    std::vector<std::string> present;
    json counts = json::object();
    for (const auto& f : families) {
      store::SystemFilter filter;
      filter.family = f;
      filter.limit = 1;
      auto page = store_.listSystems(filter);
      if (!page) return unreadable("multi-vendor", page.error());
      counts[f] = page->total;
      if (page->total > 0) present.push_back(f);
    }
    std::vector<std::string> missing;
    for (const auto& n : live) {
      std::vector<std::string> lacks;
      for (const auto& f : present) {
        if (std::find(n.node.driver_families.begin(), n.node.driver_families.end(), f) ==
            n.node.driver_families.end()) {
          lacks.push_back(f);
        }
      }
      if (!lacks.empty())
        missing.push_back(fmt::format("{} has no driver for {}", n.node.name, joined(lacks, ", ")));
    }
    json details = {{"systems_by_family", counts}};
    if (!missing.empty()) {
      return result("multi-vendor", "fail",
                    joined(missing) + "; run the same Atrium version on every node", details);
    }
    return result("multi-vendor", "pass",
                  present.empty() ? std::string("the inventory is empty")
                                  : "every live node has a driver for " + joined(present, ", "),
                  details);
  }));

  // ---- same-validation-key
  checks.push_back(per_node("same-validation-key", [&] {
    auto keys = cluster_.validationKeys();
    if (!keys) return unreadable("same-validation-key", keys.error());
    if (keys->empty() || keys->front().retired_at) {
      return result("same-validation-key", "fail",
                    "the installation has no validation key; run `atrium keys rotate` to make one");
    }
    const auto& current = keys->front();
    const std::string fp = keyFingerprint(current.secret_hex);
    std::vector<std::string> differ;
    json nodes = json::array();
    for (const auto& n : live) {
      nodes.push_back({{"node", n.node.name}, {"key_fingerprint", n.node.key_fingerprint}});
      if (n.node.key_fingerprint == fp) continue;
      std::string retired;
      for (const auto& k : *keys) {
        if (k.retired_at && keyFingerprint(k.secret_hex) == n.node.key_fingerprint) retired = k.id;
      }
      differ.push_back(fmt::format(
          "{} holds {}{}", n.node.name,
          n.node.key_fingerprint.empty() ? std::string("no key") : n.node.key_fingerprint,
          retired.empty() ? "" : " (the retired key " + retired + ")"));
    }
    json details = {{"current_key", current.id}, {"current_fingerprint", fp}, {"nodes", nodes}};
    if (!differ.empty()) {
      return result(
          "same-validation-key", "fail",
          fmt::format(
              "the installation's current key is {} (fingerprint {}), but {}; tokens one node "
              "signs another refuses: give every node the current key (security."
              "validation_key_file) or clear the setting",
              current.id, fp, joined(differ)),
          details);
    }
    return result(
        "same-validation-key", "pass",
        fmt::format("every live node uses the current key {} (fingerprint {})", current.id, fp),
        details);
  }));

  for (const auto& c : checks) report.ok = report.ok && c.status != "fail";
  return report;
}

// ---- the periodic checker --------------------------------------------------------------------

DiagnosticsChecker::DiagnosticsChecker(Diagnostics& diagnostics, store::ClusterStore& cluster,
                                       store::DeviceStore& devices, std::string node_id,
                                       std::chrono::milliseconds interval)
    : diagnostics_(diagnostics),
      cluster_(cluster),
      devices_(devices),
      node_id_(std::move(node_id)),
      interval_(interval) {}

DiagnosticsChecker::~DiagnosticsChecker() { stop(); }

void DiagnosticsChecker::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void DiagnosticsChecker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (fence_) {
    (void)cluster_.releaseLease(*fence_);
    fence_.reset();
  }
}

void DiagnosticsChecker::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    round();
    lock.lock();
    cv_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

void DiagnosticsChecker::round() {
  // One node evaluates for the installation: the holder of the lease (taken over by another
  // node when it dies).
  auto lease = cluster_.acquireLease(kLeaseKey, node_id_, (interval_ * 3).count());
  if (!lease) {
    log::warn("cluster.check_skipped", {{"reason", lease.error().message}});
    return;
  }
  if (!lease->has_value()) {
    fence_.reset();
    return;
  }
  fence_ = store::Fence{kLeaseKey, node_id_, (*lease)->token};
  apply(diagnostics_.evaluate());
}

void DiagnosticsChecker::apply(const DiagnosticsReport& report) {
  for (const auto& c : report.checks) {
    const std::string kind = "cluster-check:" + c.id;
    auto& last = last_status_[c.id];
    if (c.status == "fail") {
      auto raised = devices_.raiseTicket(std::nullopt, kind, kTicketSeverity, c.message);
      if (!raised)
        log::warn("cluster.check_ticket_failed",
                  {{"check", c.id}, {"reason", raised.error().message}});
      if (last != "fail")
        log::warn("cluster.check_failed", {{"check", c.id}, {"message", c.message}});
    } else {
      auto cleared = devices_.clearTicket(std::nullopt, kind);
      if (!cleared)
        log::warn("cluster.check_ticket_failed",
                  {{"check", c.id}, {"reason", cleared.error().message}});
      if (last == "fail")
        log::info("cluster.check_passed", {{"check", c.id}, {"message", c.message}});
    }
    last = c.status;
  }
}

}  // namespace atrium::cluster
