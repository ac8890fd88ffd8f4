#include "app/node.h"

#include "people/bootstrap.h"
#include "store/people_store.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include <fmt/format.h>

#include "app/node_identity.h"
#include "app/server_node.h"
#include "cluster/admission.h"
#include "cluster/keyring.h"
#include "common/log.h"

namespace atrium::app {
namespace {

void printError(const std::string& message) { std::fprintf(stderr, "atrium: %s\n", message.c_str()); }

// "0755" for messages.
std::string octalMode(std::filesystem::perms p) {
  return fmt::format("{:04o}", static_cast<unsigned>(p & std::filesystem::perms::mask));
}

// Removes the group's and others' permissions from `path` if it has any; true when it did.
bool makePrivate(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto status = fs::symlink_status(path, ec);
  if (ec || fs::is_symlink(status) || !fs::exists(status)) return false;
  constexpr auto kShared = fs::perms::group_all | fs::perms::others_all;
  if ((status.permissions() & kShared) == fs::perms::none) return false;
  fs::permissions(path, kShared, fs::perm_options::remove, ec);
  return !ec;
}

// The data dir and the SQLite database hold the validation key and the systems' credentials:
// the dir is created 0700, and an existing one with looser modes is tightened (the dir 0700,
// every file in it, and the database with its -wal and -shm, 0600), with a log line. Files made
// later are private through the process umask (077, set in main).
Status ensureDataDir(const config::Config& cfg) {
  namespace fs = std::filesystem;
  const fs::path& dir = cfg.node.data_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Error::invalid(fmt::format("node.data_dir {} cannot be created: {}", dir.string(), ec.message()),
                          "node.data_dir");
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    return Error::invalid(fmt::format("node.data_dir {} is not writable", dir.string()), "node.data_dir");
  }
  const std::string dir_mode = octalMode(fs::status(dir, ec).permissions());
  const bool dir_tightened = makePrivate(dir);
  int files = 0;
  for (auto it =
           fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (makePrivate(it->path())) ++files;
  }
  const std::string& url = cfg.database.url;
  if (url.rfind("sqlite:", 0) == 0) {
    const fs::path db = url.rfind("sqlite://", 0) == 0 ? url.substr(9) : url.substr(7);
    for (const std::string suffix : {"", "-wal", "-shm", ".lock"}) {
      if (!db.string().starts_with(dir.string() + "/") && makePrivate(db.string() + suffix))
        ++files;
    }
  }
  if (dir_tightened || files > 0) {
    log::warn("data_dir.permissions_tightened",
              {{"path", dir.string()}, {"dir_mode_was", dir_mode}, {"files_tightened", files}});
  }
  return okStatus();
}

int exitCodeFor(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kInternal ? kExitFailure : kExitRefused;
}

// Makes the installation's first validation key when it has none, and says so.
Status ensureFirstKey(store::ClusterStore& cluster, const config::Config& cfg) {
  auto key = cluster::ensureValidationKey(cluster, cfg);
  if (!key) return key.error();
  if (*key) {
    std::printf("created the installation's validation key %s (fingerprint %s)\n",
                (*key)->id.c_str(), cluster::keyFingerprint((*key)->secret_hex).c_str());
  }
  return okStatus();
}

}  // namespace

store::DatabaseOptions databaseOptions(const config::Config& cfg) {
  store::DatabaseOptions o;
  o.pool_size = cfg.database.pool_size;
  o.connect_timeout = cfg.database.connect_timeout;
  o.application_name = "atrium:" + cfg.node.name;
  return o;
}

int runInit(const config::Config& cfg, const std::string& installation_name, const Clock& clock,
            const std::optional<AdminAccount>& admin) {
  if (auto s = ensureDataDir(cfg); !s) {
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
  // The installation's first validation key, and what every node must share with it.
  store::ClusterStore cluster(**db);
  if (auto key = ensureFirstKey(cluster, cfg); !key) {
    printError(key.error().message);
    return exitCodeFor(key.error());
  }
  if (auto admitted = cluster::admitNode(**db, cluster, cfg); !admitted) {
    printError(admitted.error().message);
    return exitCodeFor(admitted.error());
  }
  std::printf("node %s belongs to installation %s; data dir %s\n", cfg.node.name.c_str(),
              inst->id.c_str(), cfg.node.data_dir.string().c_str());
  if (admin) {
    store::PeopleStore people(**db, clock);
    auto made = people::ensureAdministrator(people, admin->name, admin->password, "cli:init");
    if (!made) {
      printError(made.error().message);
      return exitCodeFor(made.error());
    }
    std::printf(*made ? "created administrator %s\n" : "administrator %s exists already (its password is unchanged)\n",
                admin->name.c_str());
  }
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
  // An installation made before validation keys existed gets its first one.
  if (auto inst = store.installation(); inst) {
    store::ClusterStore cluster(**db);
    if (auto key = ensureFirstKey(cluster, cfg); !key) {
      printError(key.error().message);
      return exitCodeFor(key.error());
    }
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
  sigset_t blocked = stop_signals;
  sigaddset(&blocked, SIGHUP);  // taken below: reload the TLS pair
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (auto s = ensureDataDir(cfg); !s) {
    printError(s.error().message);
    return kExitRefused;
  }
  bool stop_requested = false;
  auto pause = [&](std::chrono::milliseconds d) {
    timespec ts{static_cast<time_t>(d.count() / 1000), static_cast<long>(d.count() % 1000) * 1000000};
    stop_requested = sigtimedwait(&stop_signals, nullptr, &ts) > 0;
    return stop_requested;
  };
  auto node = ServerNode::start(cfg, clock, pause);
  if (!node) {
    if (stop_requested) return kExitOk;
    printError(node.error().message);
    return exitCodeFor(node.error());
  }
  sigset_t waited = stop_signals;
  sigaddset(&waited, SIGHUP);
  int sig = 0;
  for (;;) {
    sigwait(&waited, &sig);
    if (sig != SIGHUP) break;
    log::info("node.reload", {{"signal", "SIGHUP"}});
    // A refused pair is logged by the server and the old one stays: keep serving.
    (void)(*node)->reloadTls();
  }
  log::info("node.stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  // Both signals drain: the node gives its buckets up and wakes the others before it stops, so
  // its systems are taken over at once instead of after the failover timeout.
  (*node)->drain();
  return kExitOk;
}

}  // namespace atrium::app
