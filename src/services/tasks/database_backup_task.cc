#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "common/log.h"
#include "services/tasks/task_kinds.h"

extern char** environ;

namespace atrium::services::tasks {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kMaxKeep = 100;
// A backup copies the whole database: at most once an hour.
constexpr std::int64_t kMinBackupIntervalSeconds = 3600;

// "2026-01-02T15-04-05.123Z": sorts by time, and is a valid file name everywhere.
std::string backupStamp(const Clock& clock) {
  std::string s = formatTimestamp(clock.now());
  std::replace(s.begin(), s.end(), ':', '-');
  return s;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool isSqlite(const std::string& url) { return url.rfind("sqlite:", 0) == 0; }

std::string sqlitePath(const std::string& url) {
  std::string_view rest(url);
  if (rest.starts_with("sqlite://")) {
    rest.remove_prefix(9);
  } else {
    rest.remove_prefix(7);
  }
  return std::string(rest);
}

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

// VACUUM INTO on a connection of its own: in WAL mode a reader blocks no writer, so ingest and
// the API go on while the copy is made. The copy is a consistent snapshot. A progress handler
// stops it when the lease is lost.
Result<std::string> backupSqlite(const TaskContext& ctx, const std::string& url,
                                 const fs::path& partial) {
  sqlite3* raw = nullptr;
  const std::string path = sqlitePath(url);
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<sqlite3, SqliteCloser> db(raw);
  if (rc != SQLITE_OK) {
    return Error::unavailable(
        fmt::format("cannot open {}: {}", path, raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db.get(), 5000);
  sqlite3_progress_handler(
      db.get(), 10000,
      [](void* arg) -> int { return static_cast<const TaskContext*>(arg)->stillHeld() ? 0 : 1; },
      const_cast<TaskContext*>(&ctx));
  sqlite3_stmt* raw_stmt = nullptr;
  rc = sqlite3_prepare_v2(db.get(), "VACUUM INTO ?1", -1, &raw_stmt, nullptr);
  if (rc != SQLITE_OK) return Error::internal(sqlite3_errmsg(db.get()));
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw_stmt, sqlite3_finalize);
  const std::string target = partial.string();
  sqlite3_bind_text(stmt.get(), 1, target.c_str(), static_cast<int>(target.size()),
                    SQLITE_TRANSIENT);
  rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_DONE) {
    if (rc == SQLITE_INTERRUPT) return Error::unavailable("interrupted");
    return Error::internal(fmt::format("VACUUM INTO failed: {}", sqlite3_errmsg(db.get())));
  }
  return std::string("VACUUM INTO");
}

// pg_dump with the node's connection string; the password travels in PGPASSWORD, never on the
// command line. Stopped (SIGTERM) when the lease is lost.
Result<std::string> backupPostgres(const TaskContext& ctx, const BackupOptions& options,
                                   const fs::path& partial) {
  const PgConnection conn = withoutPassword(options.database_url);
  const fs::path err_path = partial.string() + ".log";
  std::vector<std::string> args = {options.pg_dump, "--format=plain", "--no-owner",
                                   "--file=" + partial.string(), "--dbname=" + conn.conninfo};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "PGPASSWORD=", 11) != 0) env.emplace_back(*e);
  }
  if (conn.password) env.push_back("PGPASSWORD=" + *conn.password);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned =
      posix_spawnp(&pid, options.pg_dump.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    std::error_code ec;
    fs::remove(err_path, ec);
    return Error::unavailable(fmt::format("cannot run {}: {} (install the PostgreSQL client)",
                                          options.pg_dump, std::strerror(spawned)));
  }
  int status = 0;
  bool stopped = false;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return Error::internal("waitpid failed");
    if (!stopped && !ctx.sleepFor(std::chrono::milliseconds(100))) {
      ::kill(pid, SIGTERM);
      stopped = true;
    }
    if (stopped) ::usleep(20000);
  }
  std::string output;
  {
    std::ifstream in(err_path);
    std::stringstream ss;
    ss << in.rdbuf();
    output = ss.str();
  }
  std::error_code ec;
  fs::remove(err_path, ec);
  if (stopped) return Error::unavailable("interrupted");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    return Error::unavailable(
        fmt::format("pg_dump failed: {}", output.empty() ? "no output" : output.substr(0, 500)));
  }
  return std::string("pg_dump");
}

Status checkBackup(const json& payload) {
  for (const auto& [key, value] : payload.items()) {
    if (key != "keep") {
      return Error::invalid("a database-backup task's payload takes \"keep\", not \"" + key + "\"",
                            "payload." + key);
    }
    if (!value.is_number_integer() || value.get<std::int64_t>() < 1 ||
        value.get<std::int64_t>() > kMaxKeep) {
      return Error::invalid(
          "\"keep\" is how many backups to keep: an integer from 1 to " + std::to_string(kMaxKeep),
          "payload.keep");
    }
  }
  return okStatus();
}

}  // namespace

PgConnection withoutPassword(std::string_view url) {
  PgConnection out;
  const auto scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    // postgresql://[user[:password]@]host[:port][,host...]/db[?k=v&...]
    const std::size_t auth_start = scheme + 3;
    std::size_t auth_end = url.find_first_of("/?", auth_start);
    if (auth_end == std::string_view::npos) auth_end = url.size();
    std::string_view authority = url.substr(auth_start, auth_end - auth_start);
    std::string result(url.substr(0, auth_start));
    const auto at = authority.rfind('@');
    if (at != std::string_view::npos) {
      std::string_view userinfo = authority.substr(0, at);
      const auto colon = userinfo.find(':');
      if (colon != std::string_view::npos) {
        std::string decoded;
        std::string_view enc = userinfo.substr(colon + 1);
        for (std::size_t i = 0; i < enc.size(); ++i) {
          const int hi = i + 2 < enc.size() ? hexDigit(enc[i + 1]) : -1;
          const int lo = i + 2 < enc.size() ? hexDigit(enc[i + 2]) : -1;
          if (enc[i] == '%' && hi >= 0 && lo >= 0) {
            decoded += static_cast<char>(hi * 16 + lo);
            i += 2;
          } else {
            decoded += enc[i];
          }
        }
        out.password = decoded;
        userinfo = userinfo.substr(0, colon);
      }
      result += std::string(userinfo) + "@" + std::string(authority.substr(at + 1));
    } else {
      result += std::string(authority);
    }
    std::string_view rest = url.substr(auth_end);
    const auto q = rest.find('?');
    result += std::string(rest.substr(0, q));
    if (q != std::string_view::npos) {
      std::string query;
      std::string_view params = rest.substr(q + 1);
      while (!params.empty()) {
        const auto amp = params.find('&');
        std::string_view kv = params.substr(0, amp);
        if (kv.starts_with("password=")) {
          out.password = std::string(kv.substr(9));
        } else if (!kv.empty()) {
          query += (query.empty() ? "" : "&") + std::string(kv);
        }
        if (amp == std::string_view::npos) break;
        params.remove_prefix(amp + 1);
      }
      if (!query.empty()) result += "?" + query;
    }
    out.conninfo = result;
    return out;
  }
  // key=value ... ; values may be single-quoted with backslash escapes.
  std::string result;
  std::size_t i = 0;
  while (i < url.size()) {
    while (i < url.size() && url[i] == ' ') ++i;
    if (i >= url.size()) break;
    const std::size_t start = i;
    while (i < url.size() && url[i] != '=' && url[i] != ' ') ++i;
    std::string key(url.substr(start, i - start));
    while (i < url.size() && url[i] == ' ') ++i;
    if (i < url.size() && url[i] == '=') ++i;
    while (i < url.size() && url[i] == ' ') ++i;
    std::string value;
    const std::size_t value_start = i;
    if (i < url.size() && url[i] == '\'') {
      ++i;
      while (i < url.size() && url[i] != '\'') {
        if (url[i] == '\\' && i + 1 < url.size()) ++i;
        value += url[i++];
      }
      if (i < url.size()) ++i;
    } else {
      while (i < url.size() && url[i] != ' ') value += url[i++];
    }
    if (key == "password") {
      out.password = value;
    } else {
      if (!result.empty()) result += ' ';
      result += key + "=" + std::string(url.substr(value_start, i - value_start));
    }
  }
  out.conninfo = result;
  return out;
}

int pruneBackups(const fs::path& directory, int keep) {
  std::error_code ec;
  std::vector<fs::path> backups;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file(ec) && (ext == ".sqlite" || ext == ".sql")) {
      backups.push_back(entry.path());
    }
  }
  std::sort(backups.begin(), backups.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() > b.filename(); });
  int removed = 0;
  for (std::size_t i = static_cast<std::size_t>(std::max(keep, 0)); i < backups.size(); ++i) {
    if (fs::remove(backups[i], ec)) ++removed;
  }
  return removed;
}

TaskKind databaseBackupTask(BackupOptions options, const Clock& clock) {
  TaskKind kind;
  kind.name = "database-backup";
  kind.description =
      "copies the database under <data_dir>/backups of the node that runs it (SQLite: VACUUM "
      "INTO; PostgreSQL: pg_dump), keeping the newest 7 (payload {\"keep\": N})";
  kind.check = checkBackup;
  kind.min_interval_s = kMinBackupIntervalSeconds;
  kind.run = [options = std::move(options), &clock](const TaskContext& ctx) -> Result<std::string> {
    std::error_code ec;
    fs::create_directories(options.directory, ec);
    if (ec) {
      return Error::unavailable(
          fmt::format("cannot create {}: {}", options.directory.string(), ec.message()));
    }
    const bool sqlite = isSqlite(options.database_url);
    const fs::path file = options.directory / (backupStamp(clock) + (sqlite ? ".sqlite" : ".sql"));
    const fs::path partial = file.string() + ".partial";
    fs::remove(partial, ec);
    auto made = sqlite ? backupSqlite(ctx, options.database_url, partial)
                       : backupPostgres(ctx, options, partial);
    if (!made.ok()) {
      fs::remove(partial, ec);
      return made.error();
    }
    // A copy of the database holds what the database holds (the validation key, the systems'
    // credentials): its owner's only, whatever the umask.
    fs::permissions(partial, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace, ec);
    fs::rename(partial, file, ec);
    if (ec) {
      return Error::unavailable(
          fmt::format("cannot rename the backup to {}: {}", file.string(), ec.message()));
    }
    const auto size = fs::file_size(file, ec);
    const int keep = ctx.payload().value("keep", options.keep);
    const int removed = pruneBackups(options.directory, keep);
    log::info("task.database_backup", {{"task_id", ctx.task().id},
                                       {"file", file.string()},
                                       {"bytes", ec ? 0 : size},
                                       {"removed", removed}});
    return fmt::format("{} wrote {} ({} bytes); {} older backups removed, keeping {}", *made,
                       file.string(), ec ? 0 : size, removed, keep);
  };
  return kind;
}

}  // namespace atrium::services::tasks
