// The task kinds this build runs (see docs/operations.md, "Scheduled tasks"):
//   feedback-reregister  registers Atrium's HTTP feedback again on every managed system whose
//                        driver supports it; idempotent by nature.
//   database-backup      a copy of the database under <data_dir>/backups on the node that ran
//                        it (SQLite: VACUUM INTO; PostgreSQL: pg_dump), keeping the newest N.
//   wait                 holds its lease for {"seconds": N}: a drill for failover (and what the
//                        tests use).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "devices/driver.h"
#include "services/poller.h"
#include "services/scheduler.h"
#include "store/device_store.h"

namespace atrium::services::tasks {

inline constexpr int kDefaultBackupsKept = 7;

TaskKind waitTask();

TaskKind feedbackReregisterTask(store::DeviceStore& devices, const devices::DriverRegistry& drivers,
                                const PollerOptions& poller_options);

struct BackupOptions {
  std::string database_url;         // the node's database.url
  std::filesystem::path directory;  // <data_dir>/backups
  int keep = kDefaultBackupsKept;   // payload {"keep": N} overrides
  std::string pg_dump = "pg_dump";  // looked up in PATH
};
TaskKind databaseBackupTask(BackupOptions options, const Clock& clock);

// A PostgreSQL connection string without its password, and the password: the password goes to
// pg_dump through PGPASSWORD so it never shows on a command line. Handles URLs
// (postgresql://user:secret@host/db?password=...) and key=value strings (password=secret).
struct PgConnection {
  std::string conninfo;
  std::optional<std::string> password;
};
PgConnection withoutPassword(std::string_view url);

// Removes all but the newest `keep` backups (*.sqlite, *.sql) in `directory`; names sort by
// time. Returns how many were removed.
int pruneBackups(const std::filesystem::path& directory, int keep);

}  // namespace atrium::services::tasks
