#include "app/server_node.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "api/api_server.h"
#include "api/authenticator.h"
#include "api/people_endpoints.h"
#include "api/task_endpoints.h"
#include "app/node.h"
#include "app/node_identity.h"
#include "api/token_signer.h"
#include "cluster/admission.h"
#include "cluster/diagnostics.h"
#include "cluster/keyring.h"
#include "people/ldap_directory.h"
#include "people/people_cache.h"
#include "people/sign_in.h"
#include "store/people_store.h"
#include "cluster/node_runtime.h"
#include "common/file_lock.h"
#include "common/log.h"
#include "devices/driver.h"
#include "devices/event_key.h"
#include "ingest/event_sink.h"
#include "ingest/feedback_ingest.h"
#include "ingest/spool.h"
#include "ingest/trap_ingest.h"
#include "ingest/trap_receiver.h"
#include "net/http_server.h"
#include "services/event_reactor.h"
#include "services/ownership.h"
#include "services/poller.h"
#include "services/scheduler.h"
#include "services/tasks/task_kinds.h"
#include "store/cluster_store.h"
#include "store/system_credentials.h"

#ifndef ATRIUM_VERSION
#define ATRIUM_VERSION "0.0.0"
#endif

namespace atrium::app {

namespace {

// Events about a system another node owns are stored here and wake the owner (NOTIFY
// "events:<system_id>"), whose reactor reads them from the events table.
class OwnerNotifier final : public ingest::EventObserver {
 public:
  explicit OwnerNotifier(cluster::NodeRuntime& runtime) : runtime_(runtime) {}
  void onEventsStored(const std::vector<store::StoredEvent>& events) override {
    std::set<std::string> others;
    for (const auto& e : events) {
      if (e.system_id && !runtime_.owns(*e.system_id)) others.insert(*e.system_id);
    }
    for (const auto& id : others) runtime_.notifyAll("events:" + id);
  }

 private:
  cluster::NodeRuntime& runtime_;
};

}  // namespace

// Everything a node runs, in start order (members are destroyed in reverse).
struct ServerNode::Parts {
  const config::Config cfg;
  const Clock& clock;
  std::unique_ptr<FileLock> data_dir_lock;  // held until the node is destroyed
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::DeviceStore> device_store;
  std::unique_ptr<ingest::Spool> spool;
  std::unique_ptr<ingest::EventSink> event_sink;
  std::unique_ptr<ingest::FeedbackIngest> feedback_ingest;
  std::unique_ptr<ingest::TrapIngest> trap_ingest;
  std::unique_ptr<ingest::TrapReceiver> trap_receiver;
  std::unique_ptr<devices::DriverRegistry> drivers;
  std::unique_ptr<store::ClusterStore> cluster_store;
  std::unique_ptr<cluster::Keyring> keyring;  // the installation's validation keys (outlives the runtime)
  std::unique_ptr<cluster::NodeRuntime> runtime;  // what this node owns (all of it on SQLite)
  std::unique_ptr<OwnerNotifier> owner_notifier;
  std::unique_ptr<api::TokenSigner> signer;
  std::unique_ptr<store::PeopleStore> people_store;
  std::unique_ptr<people::PeopleCache> people_cache;  // revocations and users, fresh each second
  std::unique_ptr<people::Directory> directory;       // null: the database's own users only
  std::unique_ptr<people::SignIn> sign_in;
  std::unique_ptr<cluster::Diagnostics> diagnostics;
  services::PollerOptions poller_options;
  std::unique_ptr<services::Poller> poller;
  std::unique_ptr<services::EventReactor> reactor;
  services::TaskKinds task_kinds;  // what the scheduler runs and the API accepts
  std::unique_ptr<services::ClusterTaskQueue> task_queue;
  std::unique_ptr<services::Scheduler> scheduler;
  std::unique_ptr<api::ApiServer> api;
  std::unique_ptr<cluster::DiagnosticsChecker> checker;  // the rule checks and their tickets
  std::uint16_t api_port = 0;
  std::uint16_t trap_port = 0;
  bool stopped = false;

  Parts(config::Config c, const Clock& k) : cfg(std::move(c)), clock(k) {}
};

namespace {

// The host names this node answers to besides IP literals: api.allowed_hosts, localhost, the
// machine's name, and the names in api.listen and cluster.advertise_host.
std::vector<std::string> allowedHosts(const config::Config& cfg) {
  std::vector<std::string> hosts = cfg.api.allowed_hosts;
  hosts.push_back("localhost");
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0') hosts.emplace_back(name);
  hosts.push_back(cfg.api.listen.host);
  if (!cfg.cluster.advertise_host.empty()) hosts.push_back(cfg.cluster.advertise_host);
  return hosts;
}

// Descriptors kept out of the HTTP connection cap for the database, the spool, files, logs,
// listeners and threads (plus two per database connection: SQLite's -wal and -shm).
constexpr std::size_t kReservedDescriptors = 64;

// "host:port", with an IPv6 host in brackets.
std::string hostPort(const std::string& host, std::uint16_t port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

// What tells nodes' file caches apart (same-file-paths rule): sha256 over the sorted relative
// names and sizes of the files under the cache dir; a missing dir counts as empty.
std::string cacheChecksum(const std::filesystem::path& dir) {
  std::vector<std::string> lines;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    auto size = it->file_size(fec);
    if (fec) continue;
    lines.push_back(fmt::format("{} {}", std::filesystem::relative(it->path(), dir, fec).string(), size));
  }
  std::sort(lines.begin(), lines.end());
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  return devices::sha256Hex(text);
}

// A single node whose installation has no server addresses yet tells systems its own API
// address, when that is a specific one; the administrator sets the real ones in the API.
void defaultServerAddresses(store::DeviceStore& devices, const config::Config& cfg, std::uint16_t api_port) {
  auto current = devices.serverAddresses();
  if (!current) return;
  const auto& a = *current;
  if (!a.lan_ipv4.empty() || !a.lan_ipv6.empty() || !a.lan_fqdn.empty() || !a.public_ipv4.empty() ||
      !a.public_fqdn.empty()) {
    return;
  }
  const std::string& host = cfg.api.listen.host;
  if (host == "0.0.0.0" || host == "::") {
    log::warn("node.server_addresses_unset",
              {{"hint", "set the addresses systems use to reach Atrium: PUT /api/v1/settings/server-addresses"}});
    return;
  }
  store::ServerAddresses next;
  if (host.find(':') != std::string::npos) {
    next.lan_ipv6 = host;
  } else if (host.find_first_not_of("0123456789.") == std::string::npos) {
    next.lan_ipv4 = host;
  } else {
    next.lan_fqdn = host;
  }
  next.http_port = api_port;
  if (devices.setServerAddresses(next, "node:" + cfg.node.name)) {
    log::info("node.server_addresses_defaulted", {{"address", host}, {"port", api_port}});
  }
}

Status resealStoredPasswords(store::Database& db) {
  auto pooled = db.acquire();
  if (!pooled.ok()) return pooled.error();
  store::Transaction tx(**pooled);
  ATRIUM_TRY(tx.begin());
  auto resealed = store::resealSystemPasswords(**pooled);
  if (!resealed.ok()) return resealed.error();
  ATRIUM_TRY(tx.commit());
  if (*resealed > 0) log::info("systems.passwords_encrypted", {{"count", *resealed}});
  return okStatus();
}

}  // namespace

ServerNode::ServerNode(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ServerNode::~ServerNode() { stop(); }

Result<std::unique_ptr<ServerNode>> ServerNode::start(const config::Config& cfg, const Clock& clock,
                                                      const Pause& pause) {
  auto p = std::make_unique<Parts>(cfg, clock);
  auto opened = store::Database::open(cfg.database.url, databaseOptions(cfg));
  if (!opened) return opened.error();
  p->db = std::move(*opened);
  p->store = std::make_unique<store::Store>(*p->db, clock);
  log::info("node.starting", {{"node", cfg.node.name}, {"database", p->db->displayUrl()},
                              {"config", cfg.source.string()}});

  // Wait for the database at start-up (a server often boots before its database), but refuse
  // at once what waiting cannot fix: a replica, an unknown schema, another installation.
  std::chrono::milliseconds backoff(250);
  while (true) {
    Status s = p->db->checkWritable();
    if (s) s = p->store->checkSchema();
    if (s) break;
    if (s.error().code != ErrorCode::kUnavailable) {
      log::error("node.refused", {{"reason", s.error().message}});
      return s.error();
    }
    log::warn("db.waiting", {{"reason", s.error().message}, {"retry_ms", backoff.count()}});
    if (pause(backoff)) return Error::unavailable("stopped while waiting for the database");
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  auto inst = checkMembership(*p->store, cfg, clock);
  if (!inst) {
    log::error("node.refused", {{"reason", inst.error().message}});
    return inst.error();
  }
  // One process per data dir: the node id, the spool and the file cache in it are this node's.
  // Two processes sharing it would heartbeat as one node and hold each other's leases.
  auto dir_lock = FileLock::acquire(cfg.node.data_dir / "node.lock");
  if (!dir_lock) {
    const std::string why =
        dir_lock.error().code == ErrorCode::kConflict
            ? fmt::format("the data directory {} is in use by another Atrium process (lock {} held); every node "
                          "needs its own node.data_dir",
                          cfg.node.data_dir.string(), (cfg.node.data_dir / "node.lock").string())
            : dir_lock.error().message;
    log::error("node.refused", {{"reason", why}});
    return Error{dir_lock.error().code, why, "node.data_dir"};
  }
  p->data_dir_lock = std::move(*dir_lock);
  auto node_id = nodeIdFor(cfg.node.data_dir);
  if (!node_id) return node_id.error();
  p->drivers = devices::builtinDrivers();

  // ---- the cluster: registry row, bucket leases, standby (one node on SQLite owns everything)
  p->cluster_store = std::make_unique<store::ClusterStore>(*p->db);
  // What every node of the installation must share: identity source, validation key, and a
  // database that can serve the configured role.
  if (auto admitted = cluster::admitNode(*p->db, *p->cluster_store, cfg); !admitted) {
    log::error("node.refused", {{"reason", admitted.error().message}});
    return admitted.error();
  }
  // Migration step: system passwords stored in clear (before they were encrypted), or under a key
  // older than the current one (a rotation that raced a write), are sealed under the current key.
  if (auto resealed = resealStoredPasswords(*p->db); !resealed) {
    log::error("node.refused", {{"reason", resealed.error().message}});
    return resealed.error();
  }
  p->keyring = std::make_unique<cluster::Keyring>(*p->cluster_store, clock);
  if (auto loaded = p->keyring->reload(); !loaded) return loaded.error();
  p->keyring->start();
  p->signer = std::make_unique<api::TokenSigner>(*p->keyring);
  {
    cluster::NodeRuntimeOptions ro;
    ro.identity.id = *node_id;
    ro.identity.name = cfg.node.name;
    ro.identity.version = ATRIUM_VERSION;
    ro.identity.role = cfg.cluster.role == config::Config::Cluster::Role::kStandby ? "standby" : "active";
    ro.identity.file_path = cfg.files.cache_dir.string();
    ro.identity.cache_checksum = cacheChecksum(cfg.files.cache_dir);
    ro.identity.identity_fingerprint = cluster::IdentitySource::of(cfg).fingerprint();
    // The key this node holds: its key file's, else the installation's current key (which
    // follows a rotation: the keyring reloads every few seconds).
    const std::string key_file_fingerprint = cluster::keyFileFingerprint(cfg);
    ro.identity.key_fingerprint = key_file_fingerprint;
    if (key_file_fingerprint.empty()) {
      auto* keyring = p->keyring.get();
      ro.key_fingerprint = [keyring] { return keyring->currentFingerprint(); };
    }
    ro.identity.driver_families = p->drivers->families();
    ro.heartbeat = cfg.cluster.heartbeat;
    ro.failover_timeout = cfg.cluster.failover_timeout;
    if (p->db->dialect() == store::Dialect::kPostgres) ro.database_url = cfg.database.url;
    p->runtime = std::make_unique<cluster::NodeRuntime>(std::move(ro), *p->db, *p->cluster_store, clock);
  }

  // ---- ingest: what systems send (HTTP feedback, SNMP traps), durable through the spool ------
  auto spool = ingest::Spool::open(cfg.node.data_dir / "spool");
  if (!spool) {
    return Error::invalid(fmt::format("cannot open the event spool in {}: {}", (cfg.node.data_dir / "spool").string(),
                                      spool.error().message));
  }
  p->spool = std::move(*spool);
  if (p->spool->pendingCount() > 0) log::info("ingest.spool_pending", {{"batches", p->spool->pendingCount()}});
  p->device_store = std::make_unique<store::DeviceStore>(*p->db, clock);
  p->event_sink = std::make_unique<ingest::EventSink>(*p->device_store, *p->spool);
  p->owner_notifier = std::make_unique<OwnerNotifier>(*p->runtime);
  // A retried post is stored once whichever node takes it (the store's retry window); every
  // known secret is held so the spool takes their posts while the database is away.
  ingest::FeedbackLimits feedback_limits;
  feedback_limits.max_events_per_post = cfg.ingest.max_events_per_post;
  feedback_limits.max_events_per_system_per_second = cfg.ingest.max_events_per_system_per_second;
  p->feedback_ingest = std::make_unique<ingest::FeedbackIngest>(
      *p->device_store, *p->event_sink, clock, cfg.node.name, feedback_limits);
  p->feedback_ingest->start();
  p->trap_ingest = std::make_unique<ingest::TrapIngest>(*p->device_store, *p->event_sink, clock, cfg.node.name);

  // ---- polling, and reactions to boot and registration events ---------------------------------
  p->poller_options.interval = cfg.polling.interval;
  p->poller_options.workers = cfg.polling.workers;
  p->poller_options.timeout = cfg.polling.timeout;
  p->poller_options.http_port = cfg.polling.http_port;
  p->poller_options.snmp_port = cfg.polling.snmp_port;
  p->poller_options.max_answer_bytes = cfg.devices.max_answer_bytes;
  p->poller = std::make_unique<services::Poller>(p->poller_options, *p->device_store, *p->drivers, *p->runtime, clock);
  p->reactor = std::make_unique<services::EventReactor>(*p->device_store, *p->drivers, *p->runtime, *p->poller,
                                                        p->poller_options);
  p->event_sink->addObserver(p->reactor.get());
  if (p->db->dialect() == store::Dialect::kPostgres) {
    // Several nodes may share the database: events another node stored reach this one's reactor.
    p->event_sink->addObserver(p->owner_notifier.get());
    p->reactor->followOtherNodes(cfg.node.name, cfg.cluster.heartbeat);
  }
  {
    auto* poller = p->poller.get();
    auto* reactor = p->reactor.get();
    p->runtime->onOwnershipChanged([poller] { poller->ownershipChanged(); });
    p->runtime->onNotification([reactor](const std::string& payload) {
      if (payload.empty() || payload.rfind("events:", 0) == 0) reactor->tailSoon();
    });
  }
  p->reactor->start();
  p->event_sink->start();

  if (cfg.snmp.enabled) {
    ingest::TrapReceiverOptions trap_options;
    trap_options.host = cfg.snmp.listen.host;
    trap_options.port = cfg.snmp.listen.port;
    trap_options.communities = cfg.snmp.communities;
    auto* trap_ingest = p->trap_ingest.get();
    p->trap_receiver = std::make_unique<ingest::TrapReceiver>(
        trap_options,
        [trap_ingest](const ingest::SnmpTrap& trap) { return trap_ingest->accept(trap); }, &clock);
    auto trap_port = p->trap_receiver->start();
    if (!trap_port) {
      return Error::invalid(fmt::format("cannot receive SNMP traps on {}: {}; set snmp.listen to another address "
                                        "(a port above 1023 needs no privileges) or to \"off\"",
                                        cfg.snmp.listen.text(), trap_port.error().message));
    }
    p->trap_port = *trap_port;
  }

  api::ApiOptions options;
  options.host = cfg.api.listen.host;
  options.port = cfg.api.listen.port;
  options.max_body_bytes = cfg.api.max_body_bytes;
  options.read_timeout = cfg.api.read_timeout;
  options.network_threads = cfg.api.network_threads;
  options.db_threads = cfg.api.db_threads;
  options.trusted_proxies = cfg.api.trusted_proxies;
  const std::size_t derived_cap = net::connectionCapFor(
      net::openFileLimit(), kReservedDescriptors + 2 * cfg.database.pool_size);
  options.max_connections = cfg.api.max_connections > 0 ? cfg.api.max_connections : derived_cap;
  if (derived_cap > 0 && cfg.api.max_connections > derived_cap) {
    log::warn("http.max_connections_above_descriptor_limit",
              {{"max_connections", cfg.api.max_connections},
               {"descriptor_limit", net::openFileLimit()},
               {"hint",
                "raise the descriptor limit (ulimit -n, systemd LimitNOFILE=) or lower "
                "api.max_connections; past the limit accept fails and backs off"}});
  }
  options.max_feedback_bytes = cfg.ingest.max_feedback_bytes;
  options.metrics_public = cfg.api.metrics_public;
  options.allowed_hosts = allowedHosts(cfg);
  if (!cfg.api.tls_cert.empty())
    options.tls = net::TlsFiles{cfg.api.tls_cert.string(), cfg.api.tls_key.string()};
  if (cfg.api.device_listen)
    options.device_listen.emplace(cfg.api.device_listen->host, cfg.api.device_listen->port);
  p->api = std::make_unique<api::ApiServer>(options, *p->store, *p->db, clock);
  p->api->attachIngest(*p->feedback_ingest, *p->event_sink);
  {
    auto* receiver = p->trap_receiver.get();
    auto* trap_ingest = p->trap_ingest.get();
    p->api->setMetricsHook([receiver, trap_ingest] {
      return api::renderTrapMetrics(receiver ? receiver->stats() : ingest::TrapReceiverStats{},
                                    trap_ingest->stats());
    });
  }
  p->api->attachCluster(*p->cluster_store, cfg.cluster.failover_timeout);
  {
    cluster::DiagnosticsOptions d;
    d.installation_id = inst->id;
    d.failover_timeout = cfg.cluster.failover_timeout;
    d.db_latency_limit = cfg.cluster.db_latency_limit;
    d.clock_skew_limit = cfg.cluster.clock_skew_limit;
    d.families = p->drivers->families();
    p->diagnostics = std::make_unique<cluster::Diagnostics>(std::move(d), *p->db, *p->store, *p->device_store,
                                                            *p->cluster_store, clock);
  }
  // ---- scheduled tasks: claimed from the shared queue while this node is active --------------
  p->task_kinds.add(services::tasks::waitTask());
  p->task_kinds.add(
      services::tasks::feedbackReregisterTask(*p->device_store, *p->drivers, p->poller_options));
  {
    services::tasks::BackupOptions backup;
    backup.database_url = cfg.database.url;
    backup.directory = cfg.node.data_dir / "backups";
    p->task_kinds.add(services::tasks::databaseBackupTask(std::move(backup), clock));
  }
  p->task_queue = std::make_unique<services::ClusterTaskQueue>(*p->cluster_store);
  {
    services::SchedulerOptions so;
    so.node_id = *node_id;
    so.node_name = cfg.node.name;
    so.heartbeat = cfg.cluster.heartbeat;
    so.lease = cfg.cluster.failover_timeout;
    auto* runtime = p->runtime.get();
    p->scheduler = std::make_unique<services::Scheduler>(so, *p->task_queue, p->task_kinds, clock,
                                                         [runtime] { return runtime->active(); });
    auto* scheduler = p->scheduler.get();
    // A task created on any node, or a node leaving, wakes the schedulers at once.
    runtime->onNotification([scheduler](const std::string& payload) {
      if (payload.empty() || payload == "tasks" || payload == "nodes") scheduler->wake();
    });
    p->api->attachTasks(std::make_unique<api::TaskEndpoints>(
        *p->cluster_store, *p->store, p->task_kinds, [scheduler, runtime] {
          scheduler->wake();
          runtime->notifyAll("tasks");
        }));
  }
  p->api->attachSessions(*p->signer);
  // ---- people: who may sign in and what they may do -------------------------------------------
  p->people_store = std::make_unique<store::PeopleStore>(*p->db, clock);
  {
    auto* st = p->store.get();
    p->people_cache = std::make_unique<people::PeopleCache>(
        *p->people_store,
        [st]() -> Result<people::FolderTree> {
          auto folders = st->folders();
          if (!folders) return folders.error();
          people::FolderTree tree;
          for (const auto& f : *folders) tree[f.id] = f.parent_id;
          return tree;
        },
        clock);
  }
  p->people_cache->start();
  {
    auto directory = people::makeDirectory(cfg.identity);
    if (!directory) {
      return Error::invalid(fmt::format("the identity source cannot be used: {}", directory.error().message));
    }
    p->directory = std::move(*directory);
  }
  p->sign_in = std::make_unique<people::SignIn>(*p->people_store, p->directory.get(), clock);
  if (p->directory) {
    // A directory that cannot be reached is the administrators' problem to see: a server ticket,
    // cleared by the next sign-in that reaches it.
    auto* devices = p->device_store.get();
    const std::string where = p->directory->describe();
    p->sign_in->onDirectoryDown([devices, where](const std::string& why) {
      (void)devices->raiseTicket(std::nullopt, "directory-unreachable", "critical",
                                 fmt::format("the directory {} cannot be reached: {}; directory users cannot sign "
                                             "in, local administrators still can",
                                             where, why));
    });
    p->sign_in->onDirectoryUp([devices] { (void)devices->clearTicket(std::nullopt, "directory-unreachable"); });
  }
  {
    api::AuthOptions auth;
    auth.session_lifetime = cfg.api.session_lifetime;
    auto* api_server = p->api.get();
    auto authenticator = std::make_unique<api::Authenticator>(
        *p->signer, *p->people_cache, clock, auth,
        [api_server](std::string_view host) { return api_server->allowsHost(host); });
    p->api->attachPeople(std::make_unique<api::PeopleEndpoints>(*p->people_store, *p->store, *p->sign_in,
                                                                *p->people_cache, *p->signer, clock,
                                                                cfg.api.session_lifetime),
                         std::move(authenticator));
  }
  p->api->attachDiagnostics(*p->diagnostics);
  {
    auto* runtime = p->runtime.get();
    p->api->setReadinessHook([runtime]() -> std::optional<api::NotReady> {
      if (runtime->active()) return std::nullopt;
      if (runtime->state() == "draining") return api::NotReady{"draining", "this node is draining (shutting down)"};
      return api::NotReady{"standby", "this node is a hot standby: it serves no systems until it is promoted"};
    });
  }
  auto port = p->api->start();
  if (!port) {
    // A TLS file's error names its key already (api.tls_cert, api.tls_key, api.device_listen).
    if (port.error().field.rfind("api.", 0) == 0) {
      log::error("node.refused", {{"reason", port.error().message}});
      return port.error();
    }
    return Error::invalid(
        fmt::format("cannot listen on {}: {}", cfg.api.listen.text(), port.error().message));
  }
  p->api_port = *port;
  // Systems post to the device listener when there is one, else to the API's.
  const std::uint16_t device_port = p->api->devicePort() != 0 ? p->api->devicePort() : p->api_port;
  const bool devices_over_tls = p->api->devicePort() == 0 && options.tls.has_value();
  defaultServerAddresses(*p->device_store, cfg, device_port);
  {
    const std::string host = cfg.cluster.advertise_host.empty() ? cfg.api.listen.host : cfg.cluster.advertise_host;
    std::vector<std::string> device_addresses{(devices_over_tls ? "https://" : "http://") +
                                              hostPort(host, device_port)};
    if (p->trap_port != 0) device_addresses.push_back("snmp://" + hostPort(host, p->trap_port));
    p->runtime->setAddresses(std::move(device_addresses), hostPort(cfg.api.listen.host, p->api_port));
  }
  if (auto s = p->runtime->start(); !s) {
    log::error("node.refused", {{"reason", s.error().message}});
    return s.error();
  }
  p->checker = std::make_unique<cluster::DiagnosticsChecker>(*p->diagnostics, *p->cluster_store, *p->device_store,
                                                             *node_id, cfg.cluster.check_interval);
  p->checker->start();
  p->scheduler->start();
  if (cfg.polling.enabled) {
    p->poller->start();
  } else {
    log::info("poller.disabled", {{"node", cfg.node.name}});
  }
  log::info("node.ready", {{"node", cfg.node.name}, {"node_id", *node_id}, {"role", p->runtime->role()},
                           {"installation_id", inst->id},
                           {"api", fmt::format("{}:{}", cfg.api.listen.host, p->api_port)},
                           {"snmp_port", p->trap_port}, {"database", p->db->displayUrl()}});
  return std::unique_ptr<ServerNode>(new ServerNode(std::move(p)));
}

std::uint16_t ServerNode::apiPort() const { return parts_->api_port; }
std::uint16_t ServerNode::trapPort() const { return parts_->trap_port; }
Status ServerNode::reloadTls() { return parts_->api->reloadTls(); }
store::Store& ServerNode::store() { return *parts_->store; }
store::DeviceStore& ServerNode::deviceStore() { return *parts_->device_store; }
void ServerNode::pollSoon(const std::string& system_id) { parts_->poller->pollSoon(system_id); }

void ServerNode::drain() {
  auto& p = *parts_;
  if (p.stopped) return;
  // Hand the running tasks over and give the buckets up first so the other nodes take over at
  // once, then stop.
  p.scheduler->stop();
  p.runtime->drain();
  stop();
}

void ServerNode::stop() {
  auto& p = *parts_;
  if (p.stopped) return;
  p.stopped = true;
  // Stop taking new work first, then finish what is in flight.
  if (p.checker) p.checker->stop();
  p.scheduler->stop();
  p.api->stop();
  if (p.trap_receiver) p.trap_receiver->stop();
  p.poller->stop();
  p.feedback_ingest->stop();
  p.people_cache->stop();
  p.reactor->stop();
  p.event_sink->stop();
  p.runtime->stop();
  log::info("node.stopped", {{"node", p.cfg.node.name}});
}

}  // namespace atrium::app
