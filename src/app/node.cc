#include "app/node.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "api/api_server.h"
#include "app/node_identity.h"
#include "common/log.h"
#include "ingest/event_sink.h"
#include "ingest/feedback_ingest.h"
#include "ingest/spool.h"
#include "ingest/trap_ingest.h"
#include "ingest/trap_receiver.h"
#include "store/device_store.h"

namespace atrium::app {
namespace {

void printError(const std::string& message) { std::fprintf(stderr, "atrium: %s\n", message.c_str()); }

Status ensureDataDir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Error::invalid(fmt::format("node.data_dir {} cannot be created: {}", dir.string(), ec.message()),
                          "node.data_dir");
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    return Error::invalid(fmt::format("node.data_dir {} is not writable", dir.string()), "node.data_dir");
  }
  return okStatus();
}

int exitCodeFor(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kInternal ? kExitFailure : kExitRefused;
}

// Checks this node may serve the installation the database holds, recording it on first use.
Result<store::Installation> checkMembership(store::Store& store, const config::Config& cfg,
                                            const Clock& clock) {
  auto inst = store.installation();
  if (!inst) {
    if (inst.error().code == ErrorCode::kNotFound) {
      return Error::invalid(fmt::format("the database {} holds no installation; run `atrium init --config {}` first",
                                        cfg.database.url.rfind("sqlite:", 0) == 0 ? cfg.database.url : "(configured)",
                                        cfg.source.string()));
    }
    return inst.error();
  }
  auto member = readMembership(cfg.node.data_dir);
  if (!member) return member.error();
  if (!member->has_value()) {
    ATRIUM_TRY(writeMembership(cfg.node.data_dir, {inst->id, inst->name, formatTimestamp(clock.now())}));
    log::info("node.joined", {{"installation_id", inst->id}, {"installation", inst->name}});
    return *inst;
  }
  const auto& m = **member;
  if (m.installation_id != inst->id) {
    return Error::conflict(fmt::format(
        "this node belongs to installation {} (\"{}\", recorded in {}), but the database holds installation "
        "{} (\"{}\"); one installation has one live database: point database.url at the right database, "
        "or use another node.data_dir",
        m.installation_id, m.installation_name, membershipPath(cfg.node.data_dir).string(), inst->id,
        inst->name));
  }
  return *inst;
}

}  // namespace

store::DatabaseOptions databaseOptions(const config::Config& cfg) {
  store::DatabaseOptions o;
  o.pool_size = cfg.database.pool_size;
  o.connect_timeout = cfg.database.connect_timeout;
  o.application_name = "atrium:" + cfg.node.name;
  return o;
}

int runInit(const config::Config& cfg, const std::string& installation_name, const Clock& clock) {
  if (auto s = ensureDataDir(cfg.node.data_dir); !s) {
    printError(s.error().message);
    return kExitRefused;
  }
  auto db = store::Database::open(cfg.database.url, databaseOptions(cfg));
  if (!db) {
    printError(db.error().message);
    return exitCodeFor(db.error());
  }
  store::Store store(**db, clock);
  auto version = store.migrate();
  if (!version) {
    printError(version.error().message);
    return exitCodeFor(version.error());
  }
  auto existing = store.installation();
  if (!existing && existing.error().code != ErrorCode::kNotFound) {
    printError(existing.error().message);
    return exitCodeFor(existing.error());
  }
  if (!existing) {
    auto created = store.createInstallation(installation_name, "cli:init");
    if (!created) {
      printError(created.error().message);
      return exitCodeFor(created.error());
    }
    std::printf("created installation %s (\"%s\") at schema version %d\n", created->id.c_str(),
                created->name.c_str(), *version);
  } else {
    std::printf("the database already holds installation %s (\"%s\"), schema version %d\n",
                existing->id.c_str(), existing->name.c_str(), *version);
  }
  auto inst = checkMembership(store, cfg, clock);
  if (!inst) {
    printError(inst.error().message);
    return exitCodeFor(inst.error());
  }
  std::printf("node %s belongs to installation %s; data dir %s\n", cfg.node.name.c_str(),
              inst->id.c_str(), cfg.node.data_dir.string().c_str());
  return kExitOk;
}

int runMigrate(const config::Config& cfg, const Clock& clock) {
  auto db = store::Database::open(cfg.database.url, databaseOptions(cfg));
  if (!db) {
    printError(db.error().message);
    return exitCodeFor(db.error());
  }
  store::Store store(**db, clock);
  auto before = store.schemaVersion();
  if (!before) {
    printError(before.error().message);
    return exitCodeFor(before.error());
  }
  auto after = store.migrate();
  if (!after) {
    printError(after.error().message);
    return exitCodeFor(after.error());
  }
  if (*before == *after) {
    std::printf("schema is up to date at version %d\n", *after);
  } else {
    std::printf("migrated schema from version %d to %d\n", *before, *after);
  }
  return kExitOk;
}

int runServe(const config::Config& cfg, const Clock& clock) {
  // SIGINT/SIGTERM are taken synchronously by this thread; every thread started later inherits
  // the mask, so the signal is never delivered to a worker.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (auto s = ensureDataDir(cfg.node.data_dir); !s) {
    printError(s.error().message);
    return kExitRefused;
  }
  auto opened = store::Database::open(cfg.database.url, databaseOptions(cfg));
  if (!opened) {
    printError(opened.error().message);
    return exitCodeFor(opened.error());
  }
  auto& db = **opened;
  store::Store store(db, clock);
  log::info("node.starting", {{"node", cfg.node.name}, {"database", db.displayUrl()},
                              {"config", cfg.source.string()}});

  // Wait for the database at start-up (a server often boots before its database), but refuse
  // at once what waiting cannot fix: a replica, an unknown schema, another installation.
  std::chrono::milliseconds backoff(250);
  while (true) {
    Status s = db.checkWritable();
    if (s) s = store.checkSchema();
    if (s) break;
    if (s.error().code != ErrorCode::kUnavailable) {
      printError(s.error().message);
      log::error("node.refused", {{"reason", s.error().message}});
      return exitCodeFor(s.error());
    }
    log::warn("db.waiting", {{"reason", s.error().message}, {"retry_ms", backoff.count()}});
    timespec ts{static_cast<time_t>(backoff.count() / 1000), static_cast<long>(backoff.count() % 1000) * 1000000};
    if (sigtimedwait(&stop_signals, nullptr, &ts) > 0) return kExitOk;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  auto inst = checkMembership(store, cfg, clock);
  if (!inst) {
    printError(inst.error().message);
    log::error("node.refused", {{"reason", inst.error().message}});
    return exitCodeFor(inst.error());
  }

  // ---- ingest: what systems send (HTTP feedback, SNMP traps), durable through the spool ------
  auto spool = ingest::Spool::open(cfg.node.data_dir / "spool");
  if (!spool) {
    printError(fmt::format("cannot open the event spool in {}: {}",
                           (cfg.node.data_dir / "spool").string(), spool.error().message));
    return kExitRefused;
  }
  if ((*spool)->pendingCount() > 0) {
    log::info("ingest.spool_pending", {{"batches", (*spool)->pendingCount()}});
  }
  store::DeviceStore device_store(db, clock);
  ingest::EventSink event_sink(device_store, **spool);
  ingest::FeedbackIngest feedback_ingest(device_store, event_sink, clock, cfg.node.name);
  ingest::TrapIngest trap_ingest(device_store, event_sink, clock, cfg.node.name);
  // Event observers (event_sink.addObserver) are registered before this line.
  event_sink.start();
  std::unique_ptr<ingest::TrapReceiver> trap_receiver;
  if (cfg.snmp.enabled) {
    ingest::TrapReceiverOptions trap_options;
    trap_options.host = cfg.snmp.listen.host;
    trap_options.port = cfg.snmp.listen.port;
    trap_options.communities = cfg.snmp.communities;
    trap_receiver = std::make_unique<ingest::TrapReceiver>(
        trap_options, [&trap_ingest](const ingest::SnmpTrap& trap) { return trap_ingest.accept(trap); });
    auto trap_port = trap_receiver->start();
    if (!trap_port) {
      printError(fmt::format("cannot receive SNMP traps on {}: {}; set snmp.listen to another address "
                             "(a port above 1023 needs no privileges) or to \"off\"",
                             cfg.snmp.listen.text(), trap_port.error().message));
      return kExitRefused;
    }
    log::info("snmp.listening", {{"address", cfg.snmp.listen.host}, {"port", *trap_port}});
  }
  // ---- end of ingest ---------------------------------------------------------------------------

  api::ApiOptions options;
  options.host = cfg.api.listen.host;
  options.port = cfg.api.listen.port;
  options.max_body_bytes = cfg.api.max_body_bytes;
  options.read_timeout = cfg.api.read_timeout;
  options.network_threads = cfg.api.network_threads;
  options.db_threads = cfg.api.db_threads;
  options.max_feedback_bytes = cfg.ingest.max_feedback_bytes;
  api::ApiServer server(options, store, db, clock);
  server.attachIngest(feedback_ingest, event_sink);
  auto port = server.start();
  if (!port) {
    printError(fmt::format("cannot listen on {}: {}", cfg.api.listen.text(), port.error().message));
    return kExitRefused;
  }
  log::info("node.ready", {{"node", cfg.node.name}, {"installation_id", inst->id},
                           {"api", fmt::format("{}:{}", cfg.api.listen.host, *port)},
                           {"database", db.displayUrl()}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::info("node.stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  server.stop();
  if (trap_receiver) trap_receiver->stop();
  event_sink.stop();
  log::info("node.stopped", {{"node", cfg.node.name}});
  return kExitOk;
}

}  // namespace atrium::app
