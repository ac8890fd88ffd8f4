#include "support/cluster_harness.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <random>
#include <sstream>

#include "common/clock.h"
#include "common/log.h"
#include "devices/cisco_xapi/document_builder.h"

namespace atrium::testing {
namespace {

using nlohmann::json;

constexpr std::uint64_t kCallIdBase = 7'000'000;  // feedback markers: call ids from here

const net::Headers kJson{{"Content-Type", "application/json"}};
const net::Headers kXml{{"Content-Type", "text/xml"}};

// An address block of its own, so tests running side by side do not collide.
std::string simBaseAddress() {
  std::random_device rd;
  return fmt::format("127.{}.{}.1", 100 + rd() % 100, 1 + rd() % 250);
}

std::string errorText(const Result<net::HttpResponse>& r) {
  return r.ok() ? fmt::format("{} {}", r->status, r->body) : r.error().message;
}

std::string tail(const std::string& text, std::size_t lines) {
  std::size_t at = text.size();
  for (std::size_t n = 0; n <= lines && at > 0; ++n) {
    at = text.rfind('\n', at - 1);
    if (at == std::string::npos) return text;
  }
  return text.substr(at + 1);
}

std::string stringOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string nowTimestamp() { return formatTimestamp(std::chrono::system_clock::now()); }

// ---- ClusterView ---------------------------------------------------------------------------

const NodeInfo* ClusterView::byName(const std::string& name) const {
  for (const auto& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

const NodeInfo* ClusterView::byId(const std::string& id) const {
  for (const auto& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

std::string ClusterView::coverageProblem(const std::set<std::string>& holders) const {
  std::vector<std::vector<std::string>> owners(static_cast<std::size_t>(bucket_count));
  std::string problem;
  for (const auto& n : nodes) {
    for (int b : n.buckets) {
      if (b < 0 || b >= bucket_count) {
        problem += fmt::format("{} holds bucket {} (out of range); ", n.name, b);
        continue;
      }
      owners[static_cast<std::size_t>(b)].push_back(n.name);
    }
    if (!n.buckets.empty() && !holders.contains(n.name)) {
      problem += fmt::format("{} ({}) holds {} buckets; ", n.name, n.state, n.buckets.size());
    }
  }
  for (const auto& h : holders) {
    const NodeInfo* n = byName(h);
    if (n == nullptr) {
      problem += fmt::format("{} is not in the registry; ", h);
    } else if (n->buckets.empty() && static_cast<int>(holders.size()) <= bucket_count) {
      problem += fmt::format("{} ({}) holds no bucket; ", h, n->state);
    }
  }
  int unowned = 0;
  for (int b = 0; b < bucket_count; ++b) {
    const auto& o = owners[static_cast<std::size_t>(b)];
    if (o.empty()) ++unowned;
    if (o.size() > 1) problem += fmt::format("bucket {} held by {}; ", b, fmt::join(o, " and "));
  }
  if (unowned > 0) problem += fmt::format("{} buckets unowned; ", unowned);
  return problem;
}

std::string ClusterView::summary() const {
  std::string out;
  for (const auto& n : nodes) {
    out += fmt::format("  {} ({}) role={} state={} alive={} buckets={}\n", n.name, n.id, n.role,
                       n.state, n.alive, n.buckets.size());
  }
  return out;
}

// ---- Cluster -------------------------------------------------------------------------------

Result<std::unique_ptr<Cluster>> Cluster::start(const std::filesystem::path& dir,
                                                ClusterOptions options) {
  if (options.postgres == nullptr) return Error::invalid("ClusterOptions.postgres is required");
  // The in-process fleet logs every registration at info; the nodes' logs are what matters.
  log::init(log::Format::kText, log::Level::kWarn);
  std::unique_ptr<Cluster> c(new Cluster(dir, std::move(options)));
  const ClusterOptions& o = c->options_;

  std::uint16_t http_port = 0;
  std::uint16_t snmp_port = 0;
  if (o.cisco_xapi + o.cisco_mcu + o.polycom + o.snmp > 0) {
    sim::FleetOptions fo;
    fo.cisco_xapi = o.cisco_xapi;
    fo.cisco_mcu = o.cisco_mcu;
    fo.polycom = o.polycom;
    fo.snmp = o.snmp;
    fo.base_address = simBaseAddress();
    fo.http_port = http_port = freePort();
    fo.snmp_port = snmp_port = freeUdpPort();
    fo.feedback_retry_interval = std::chrono::milliseconds(500);
    auto fleet = sim::Fleet::start(fo);
    if (!fleet) return Error::internal("simulated fleet: " + fleet.error().message);
    c->fleet_ = std::move(*fleet);
  }

  if (o.database.empty()) {
    static std::atomic<int> counter{0};
    c->database_ = fmt::format("c{}_{}", ::getpid(), counter++);
    ATRIUM_TRY(o.postgres->createDatabase(c->database_));
  } else {
    c->database_ = o.database;
  }
  c->database_url_ = o.postgres->url(c->database_);

  for (int i = 0; i < o.nodes; ++i) {
    const std::string role = static_cast<std::size_t>(i) < o.roles.size()
                                 ? o.roles[static_cast<std::size_t>(i)]
                                 : "active";
    AtriumNode::Options no;
    no.database_url = c->database_url_;
    no.name = fmt::format("node-{}", i + 1);
    no.extra_config =
        fmt::format("\n[cluster]\nrole = \"{}\"\nheartbeat_ms = {}\nfailover_timeout_ms = {}\n{}",
                    role, o.heartbeat.count(), o.failover_timeout.count(), o.extra_config);
    no.polling_section =
        o.polling
            ? fmt::format(
                  "enabled = true\ninterval_s = {}\ntimeout_ms = {}\nworkers = {}\nhttp_port = {}\n"
                  "snmp_port = {}\n",
                  o.poll_interval_s, o.poll_timeout_ms, o.poll_workers, http_port, snmp_port)
            : "enabled = false\n";
    auto node = std::make_unique<AtriumNode>(dir / no.name, no);
    if (o.log_level != "debug") {
      auto text = readFile(node->configPath());
      auto at = text.find("level = \"debug\"");
      if (at != std::string::npos) text.replace(at, 15, fmt::format("level = \"{}\"", o.log_level));
      writeFile(node->configPath(), text);
    }
    c->nodes_.push_back(std::move(node));
  }

  auto init = c->node(0).init("Cluster test");
  if (init.exit_code != 0) return Error::internal("atrium init: " + init.output);
  for (int i = 0; i < c->size(); ++i) ATRIUM_TRY(c->startNode(i));
  ATRIUM_TRY(c->registerSystems());
  return c;
}

Cluster::~Cluster() {
  for (auto& n : nodes_) {
    if (n->process() != nullptr && n->process()->running()) n->process()->kill();
  }
  if (fleet_) fleet_->stop();
  if (options_.database.empty() && options_.postgres != nullptr && !database_.empty()) {
    (void)options_.postgres->dropDatabase(database_);
  }
}

Status Cluster::registerSystems() {
  if (!fleet_) return okStatus();
  AtriumNode& via = node(0);
  for (const auto& s : fleet_->systems()) {
    json body = {
        {"name", s.name}, {"family", s.family}, {"model", s.model}, {"addresses", {s.address}}};
    if (s.family != "snmp")
      body["credentials"] = {{"username", s.username}, {"password", s.password}};
    auto r = via.http("POST", "/api/v1/systems", body.dump(), kJson);
    if (!r.ok() || r->status != 201)
      return Error::internal("creating " + s.name + ": " + errorText(r));
    ManagedSim m;
    m.index = s.index;
    m.id = AtriumNode::json(*r)["id"].get<std::string>();
    m.sim = s;
    systems_.push_back(std::move(m));
  }
  // Every feedback secret in one statement: "id=secret,id=secret".
  auto secrets = options_.postgres->sql(
      "SELECT string_agg(id || '=' || feedback_secret, ',') FROM systems WHERE family = "
      "'cisco-xapi'",
      database_);
  if (!secrets) return secrets.error();
  std::map<std::string, std::string> by_id;
  std::istringstream in(*secrets);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto eq = item.find('=');
    if (eq != std::string::npos) by_id[item.substr(0, eq)] = item.substr(eq + 1);
  }
  for (auto& m : systems_) {
    if (m.sim.family == "cisco-xapi") {
      m.feedback_secret = by_id[m.id];
      if (m.feedback_secret.empty()) return Error::internal("no feedback secret for " + m.id);
    }
  }
  return okStatus();
}

std::string Cluster::nodeName(int i) const { return fmt::format("node-{}", i + 1); }

std::string Cluster::nodeId(int i) {
  auto known = node_ids_.find(i);
  if (known != node_ids_.end()) return known->second;
  auto v = view();
  if (!v) return "";
  const NodeInfo* n = v->byName(nodeName(i));
  if (n == nullptr || n->id.empty()) return "";
  node_ids_[i] = n->id;
  return n->id;
}

int Cluster::indexOf(const std::string& id_or_name) {
  for (int i = 0; i < size(); ++i) {
    if (nodeName(i) == id_or_name || nodeId(i) == id_or_name) return i;
  }
  return -1;
}

const ManagedSim* Cluster::systemById(const std::string& id) const {
  for (const auto& m : systems_) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

Status Cluster::startNode(int i) { return node(i).start(std::chrono::seconds(60)); }

void Cluster::kill(int i) {
  if (auto* p = node(i).process(); p != nullptr) p->kill();
}

void Cluster::signal(int i, int sig) {
  if (auto* p = node(i).process(); p != nullptr) p->signal(sig);
}

bool Cluster::running(int i) {
  auto* p = node(i).process();
  return p != nullptr && p->running();
}

AtriumNode* Cluster::anyRunning(int prefer, int except) {
  if (prefer >= 0 && prefer < size() && prefer != except && running(prefer)) return &node(prefer);
  for (int i = 0; i < size(); ++i) {
    if (i != except && running(i)) return &node(i);
  }
  return nullptr;
}

Result<ClusterView> Cluster::view(int via) {
  AtriumNode* n = via >= 0 ? &node(via) : anyRunning();
  if (n == nullptr) return Error::unavailable("no node is running");
  auto r = n->http("GET", "/api/v1/cluster/nodes");
  if (!r.ok() || r->status != 200)
    return Error::unavailable("GET /api/v1/cluster/nodes: " + errorText(r));
  json j = AtriumNode::json(*r);
  if (!j.is_object() || !j.contains("nodes"))
    return Error::internal("GET /api/v1/cluster/nodes: " + r->body);
  ClusterView v;
  v.bucket_count = j.value("bucket_count", 64);
  v.failover_timeout_ms = j.value("failover_timeout_ms", std::int64_t{0});
  for (const auto& item : j["nodes"]) {
    NodeInfo info;
    info.id = stringOr(item, "id");
    info.name = stringOr(item, "name");
    info.role = stringOr(item, "role");
    info.state = stringOr(item, "state");
    info.alive = item.value("alive", false);
    if (item.contains("buckets") && item["buckets"].is_array()) {
      for (const auto& b : item["buckets"]) info.buckets.push_back(b.get<int>());
    }
    info.raw = item;
    v.nodes.push_back(std::move(info));
  }
  return v;
}

Result<std::vector<SystemInfo>> Cluster::systemsNow(int via) {
  AtriumNode* n = via >= 0 ? &node(via) : anyRunning();
  if (n == nullptr) return Error::unavailable("no node is running");
  std::vector<SystemInfo> out;
  for (int offset = 0;; offset += 1000) {
    auto r = n->http("GET", fmt::format("/api/v1/systems?limit=1000&offset={}&sort=name", offset));
    if (!r.ok() || r->status != 200)
      return Error::unavailable("GET /api/v1/systems: " + errorText(r));
    json page = AtriumNode::json(*r);
    for (const auto& item : page["items"]) {
      SystemInfo s;
      s.id = stringOr(item, "id");
      s.name = stringOr(item, "name");
      s.family = stringOr(item, "family");
      s.status = stringOr(item, "status");
      s.bucket =
          item.contains("bucket") && item["bucket"].is_number() ? item["bucket"].get<int>() : -1;
      s.last_polled_at = stringOr(item, "last_polled_at");
      s.last_polled_by = stringOr(item, "last_polled_by");
      out.push_back(std::move(s));
    }
    if (page["items"].size() < 1000) break;
  }
  return out;
}

bool Cluster::waitCoverage(const std::set<std::string>& holders, std::chrono::milliseconds timeout,
                           ClusterView* last, int via) {
  return waitFor(
      [&] {
        auto v = view(via);
        if (!v) return false;
        if (last != nullptr) *last = *v;
        return v->coverageProblem(holders).empty();
      },
      timeout, std::chrono::milliseconds(50));
}

bool Cluster::waitSettled(const std::set<std::string>& holders,
                          std::chrono::milliseconds stable_for, std::chrono::milliseconds timeout,
                          ClusterView* last, int via) {
  std::map<std::string, std::vector<int>> seen;
  auto since = std::chrono::steady_clock::now();
  return waitFor(
      [&] {
        auto v = view(via);
        if (!v) return false;
        if (last != nullptr) *last = *v;
        const auto now = std::chrono::steady_clock::now();
        if (!v->coverageProblem(holders).empty()) {
          seen.clear();
          return false;
        }
        std::map<std::string, std::vector<int>> current;
        for (const auto& n : v->nodes) {
          auto b = n.buckets;
          std::sort(b.begin(), b.end());
          current[n.name] = std::move(b);
        }
        if (current != seen) {
          seen = std::move(current);
          since = now;
          return false;
        }
        return now - since >= stable_for;
      },
      timeout, std::chrono::milliseconds(50));
}

std::string Cluster::logs(std::size_t tail_lines) const {
  std::string out;
  for (int i = 0; i < size(); ++i) {
    out += fmt::format("\n--- {} log (last {} lines) ---\n{}", nodeName(i), tail_lines,
                       tail(node(i).log(), tail_lines));
  }
  return out;
}

std::size_t Cluster::countInLog(int i, const std::string& text) const {
  const std::string log = node(i).log();
  std::size_t n = 0;
  for (std::size_t at = log.find(text); at != std::string::npos;
       at = log.find(text, at + text.size()))
    ++n;
  return n;
}

// ---- EventLoad -----------------------------------------------------------------------------

EventLoad::EventLoad(Cluster& cluster, LoadOptions options) : cluster_(cluster), options_(options) {
  for (const auto& m : cluster_.systems()) {
    if (m.sim.family == "cisco-xapi") xapi_.push_back(&m);
    if (m.sim.family == "snmp") snmp_.push_back(&m);
  }
}

EventLoad::~EventLoad() { stop(); }

void EventLoad::start() {
  stop_ = false;
  if (!xapi_.empty()) {
    for (int t = 0; t < options_.feedback_threads; ++t)
      threads_.emplace_back([this, t] { postFeedback(t); });
  }
  if (!snmp_.empty()) {
    for (int t = 0; t < options_.trap_threads; ++t)
      threads_.emplace_back([this, t] { sendInforms(t); });
  }
}

void EventLoad::stop() {
  stop_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void EventLoad::record(const std::string& marker, int node) {
  std::lock_guard lock(mu_);
  acknowledged_[marker] = node;
}

void EventLoad::fail(const std::string& marker, int node, const std::string& why) {
  std::lock_guard lock(mu_);
  if (failures_.size() < 50)
    failures_.push_back(fmt::format("{} to node-{}: {}", marker, node + 1, why));
}

std::vector<std::string> EventLoad::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void EventLoad::postFeedback(int /*thread*/) {
  net::HttpClient client;
  while (!stop_) {
    const std::uint64_t n = next_++;
    const ManagedSim& sys = *xapi_[n % xapi_.size()];
    const int target = static_cast<int>(n % static_cast<std::uint64_t>(cluster_.size()));
    devices::SystemIdentity identity;
    identity.system_name = sys.sim.name;
    identity.serial_number = sys.sim.serial_number;
    identity.software_version = sys.sim.software_version;
    identity.mac_address = sys.sim.mac_address;
    identity.ipv4_address = sys.sim.address;
    devices::CallInfo call;
    call.call_id = std::to_string(kCallIdBase + n);
    call.direction = devices::CallDirection::kOutgoing;
    call.remote_number = fmt::format("sip:peer{}@example.com", n);
    call.protocol = "Sip";
    ++attempted_;
    auto r = client.request("POST", "127.0.0.1", cluster_.node(target).port(),
                            "/feedback/" + sys.feedback_secret,
                            devices::cisco_xapi::buildCallSuccessfulFeedback(identity, call), kXml,
                            options_.request_timeout);
    if (r.ok() && r->status / 100 == 2) {
      record(fmt::format("fb-{}", n), target);
      if (options_.disconnects) {
        const int next = (target + 1) % cluster_.size();
        auto d = client.request("POST", "127.0.0.1", cluster_.node(next).port(),
                                "/feedback/" + sys.feedback_secret,
                                devices::cisco_xapi::buildCallDisconnectFeedback(
                                    identity, call, "1", "LocalDisconnect", "Normal"),
                                kXml, options_.request_timeout);
        if (d.ok() && d->status / 100 == 2) {
          std::lock_guard lock(mu_);
          disconnected_.insert(call.call_id);
        }
      }
    } else {
      fail(fmt::format("fb-{}", n), target, errorText(r));
    }
    std::this_thread::sleep_for(options_.feedback_pause);
  }
}

void EventLoad::sendInforms(int /*thread*/) {
  const std::string timeout_s =
      std::to_string(std::max<long>(1, options_.request_timeout.count() / 1000));
  while (!stop_) {
    const std::uint64_t n = next_++;
    const ManagedSim& sys = *snmp_[n % snmp_.size()];
    const int target = static_cast<int>(n % static_cast<std::uint64_t>(cluster_.size()));
    const std::string marker = fmt::format("trap-{}", n);
    ++attempted_;
    auto r = runProgram({"/usr/bin/snmpinform", "-v", "2c", "-c", "public", "-t", timeout_s, "-r",
                         "0", "--clientaddr=" + sys.sim.address,
                         fmt::format("127.0.0.1:{}", cluster_.node(target).snmpPort()), "",
                         "1.3.6.1.6.3.1.1.5.3", kMarkerOid, "s", marker},
                        options_.request_timeout + std::chrono::seconds(5));
    if (r.exit_code == 0) {
      record(marker, target);
    } else {
      fail(marker, target, fmt::format("snmpinform exit {}: {}", r.exit_code, r.output));
    }
    std::this_thread::sleep_for(options_.trap_pause);
  }
}

std::size_t EventLoad::acknowledged() const {
  std::lock_guard lock(mu_);
  return acknowledged_.size();
}

std::size_t EventLoad::acknowledgedFeedback() const {
  std::lock_guard lock(mu_);
  return static_cast<std::size_t>(
      std::count_if(acknowledged_.begin(), acknowledged_.end(),
                    [](const auto& a) { return a.first.rfind("fb-", 0) == 0; }));
}

std::size_t EventLoad::acknowledgedTraps() const { return acknowledged() - acknowledgedFeedback(); }

std::map<int, std::size_t> EventLoad::acknowledgedPerNode() const {
  std::lock_guard lock(mu_);
  std::map<int, std::size_t> out;
  for (const auto& [marker, node] : acknowledged_) ++out[node];
  return out;
}

std::string EventLoad::Verdict::summary() const {
  auto first = [](const std::vector<std::string>& v) {
    std::vector<std::string> head(
        v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(v.size(), 10)));
    return fmt::format("{}", fmt::join(head, ", "));
  };
  return fmt::format(
      "acknowledged {}, stored {} (events with a marker), missing {} [{}], duplicated {} [{}]; "
      "{} calls disconnected, left open {} [{}]",
      acknowledged, stored, missing.size(), first(missing), duplicated.size(), first(duplicated),
      disconnected, left_open.size(), first(left_open));
}

Result<EventLoad::Verdict> EventLoad::verify(const AtriumNode& via) const {
  std::map<std::string, int> stored;
  for (const char* source : {"feedback", "trap"}) {
    std::int64_t since_id = 0;
    for (;;) {
      auto page = via.http(
          "GET", fmt::format("/api/v1/events?source={}&since_id={}&limit=1000", source, since_id));
      if (!page.ok() || page->status != 200)
        return Error::unavailable("GET /api/v1/events: " + errorText(page));
      json items = AtriumNode::json(*page)["items"];
      if (!items.is_array() || items.empty()) break;
      for (const auto& e : items) {
        since_id = e["id"].get<std::int64_t>();
        const json& p = e["payload"];
        if (!p.is_object()) continue;
        if (std::string(source) == "feedback") {
          if (stringOr(e, "kind") != "call-connected") continue;  // the marker is the connect
          if (!p.contains("call") || !p["call"].is_object()) continue;
          const std::string call_id = stringOr(p["call"], "call_id");
          if (call_id.empty() || call_id.find_first_not_of("0123456789") != std::string::npos)
            continue;
          const std::uint64_t id = std::stoull(call_id);
          if (id >= kCallIdBase) ++stored[fmt::format("fb-{}", id - kCallIdBase)];
        } else {
          for (const auto& vb : p.value("varbinds", json::array())) {
            if (stringOr(vb, "oid") == kMarkerOid) ++stored[stringOr(vb, "value")];
          }
        }
      }
    }
  }
  // Every call whose disconnect was acknowledged has one record, and it is closed.
  std::map<std::string, bool> call_open;  // call id -> open
  for (std::int64_t offset = 0;; offset += 1000) {
    auto page = via.http("GET", fmt::format("/api/v1/calls?limit=1000&offset={}", offset));
    if (!page.ok() || page->status != 200)
      return Error::unavailable("GET /api/v1/calls: " + errorText(page));
    json items = AtriumNode::json(*page)["items"];
    if (!items.is_array() || items.empty()) break;
    for (const auto& c : items) {
      const std::string id = stringOr(c, "call_id");
      const bool open = c.value("open", false);
      auto [it, fresh] = call_open.emplace(id, open);
      if (!fresh) it->second = it->second || open;
    }
  }
  Verdict v;
  std::lock_guard lock(mu_);
  v.disconnected = disconnected_.size();
  for (const std::string& id : disconnected_) {
    auto it = call_open.find(id);
    if (it == call_open.end()) {
      v.left_open.push_back(id + " (no record)");
    } else if (it->second) {
      v.left_open.push_back(id + " (open)");
    }
  }
  v.acknowledged = acknowledged_.size();
  for (const auto& [marker, node] : acknowledged_) {
    if (!stored.contains(marker))
      v.missing.push_back(fmt::format("{} (acknowledged by node-{})", marker, node + 1));
  }
  for (const auto& [marker, count] : stored) {
    v.stored += 1;
    if (count > 1) v.duplicated.push_back(fmt::format("{} x{}", marker, count));
  }
  return v;
}

LogsOnFailure::~LogsOnFailure() {
  if (::testing::Test::HasFailure()) std::cerr << cluster.logs(tail_lines);
}

}  // namespace atrium::testing
