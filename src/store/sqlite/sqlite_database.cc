#include "store/sqlite/sqlite_database.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "common/file_lock.h"
#include "store/driver_util.h"

namespace atrium::store {
namespace {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqlitePtr = std::unique_ptr<sqlite3, SqliteCloser>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// Maps a failed SQLite call to the driver's error policy.
Error sqliteError(sqlite3* db, int rc) {
  std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: {
      // "UNIQUE constraint failed: systems.name" or "...: folders.parent_id, folders.name" or,
      // for an expression index, "...: index 'folders_name_key'".
      std::string field;
      auto colon = msg.find(": ");
      if (colon != std::string::npos) {
        std::string_view rest = std::string_view(msg).substr(colon + 2);
        if (rest.starts_with("index '")) {
          rest.remove_prefix(7);
          if (!rest.empty() && rest.back() == '\'') rest.remove_suffix(1);
          field = fieldFromConstraintName(rest);
        } else {
          auto last = rest.rfind(", ");
          if (last != std::string_view::npos) rest.remove_prefix(last + 2);
          auto dot = rest.find('.');
          field = std::string(dot == std::string_view::npos ? rest : rest.substr(dot + 1));
        }
      }
      return Error::conflict(msg, field);
    }
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return Error::conflict(
          "the change refers to a row that does not exist or is still referenced (" + msg + ")");
    case SQLITE_READONLY:
    case SQLITE_READONLY_DBMOVED:
    case SQLITE_READONLY_DIRECTORY:
    case SQLITE_READONLY_RECOVERY:
    case SQLITE_READONLY_ROLLBACK:
    case SQLITE_READONLY_CANTINIT:
    case SQLITE_READONLY_CANTLOCK:
      return Error{ErrorCode::kReadOnly, "the SQLite database is read-only: " + msg, {}};
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error::unavailable("the SQLite database is busy: " + msg);
    default:
      return Error::internal("SQLite: " + msg);
  }
}

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(SqlitePtr db) : db_(std::move(db)) {}

  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<Rows> query(std::string_view sql, std::span<const Value> params) override {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &raw, &tail);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return noteFailure(rc);
    if (!stmt) return Error::internal("SQLite: empty statement");
    const char* end = sql.data() + sql.size();
    for (; tail != nullptr && tail < end; ++tail) {
      if (!std::isspace(static_cast<unsigned char>(*tail)) && *tail != ';') {
        return Error::internal("SQLite: query() runs one statement; use execScript for several");
      }
    }
    if (static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt.get())) != params.size()) {
      return Error::internal(fmt::format("SQLite: the statement takes {} parameters, {} given",
                                         sqlite3_bind_parameter_count(stmt.get()), params.size()));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::string name = fmt::format("${}", i + 1);
      int idx = sqlite3_bind_parameter_index(stmt.get(), name.c_str());
      if (idx == 0) return Error::internal("SQLite: the statement has no parameter " + name);
      rc = bindValue(stmt.get(), idx, params[i]);
      if (rc != SQLITE_OK) return noteFailure(rc);
    }
    Rows rows;
    const int ncols = sqlite3_column_count(stmt.get());
    for (int c = 0; c < ncols; ++c) rows.columns.emplace_back(sqlite3_column_name(stmt.get(), c));
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      auto& row = rows.cells.emplace_back();
      row.reserve(static_cast<std::size_t>(ncols));
      for (int c = 0; c < ncols; ++c) {
        if (sqlite3_column_type(stmt.get(), c) == SQLITE_NULL) {
          row.emplace_back(std::nullopt);
        } else {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), c));
          row.emplace_back(
              std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt.get(), c))));
        }
      }
    }
    if (rc != SQLITE_DONE) return noteFailure(rc);
    rows.affected = sqlite3_stmt_readonly(stmt.get()) ? 0 : sqlite3_changes64(db_.get());
    return rows;
  }

  Status execScript(std::string_view sql) override {
    std::string script(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(db_.get(), script.c_str(), nullptr, nullptr, &err);
    if (err != nullptr) sqlite3_free(err);
    if (rc != SQLITE_OK) return noteFailure(rc);
    return okStatus();
  }

  // IMMEDIATE takes the write lock at once, so a read-then-write transaction cannot deadlock.
  Status begin() override { return simple("BEGIN IMMEDIATE"); }
  Status commit() override { return simple("COMMIT"); }
  Status rollback() override {
    if (sqlite3_get_autocommit(db_.get())) return okStatus();  // SQLite rolled back already
    return simple("ROLLBACK");
  }
  bool broken() const override { return broken_; }

 private:
  static int bindValue(sqlite3_stmt* stmt, int idx, const Value& v) {
    return std::visit(
        [&](const auto& x) -> int {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) {
            return sqlite3_bind_null(stmt, idx);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            return sqlite3_bind_int64(stmt, idx, x);
          } else if constexpr (std::is_same_v<T, double>) {
            return sqlite3_bind_double(stmt, idx, x);
          } else if constexpr (std::is_same_v<T, std::string>) {
            return sqlite3_bind_text64(stmt, idx, x.data(), x.size(), SQLITE_TRANSIENT,
                                       SQLITE_UTF8);
          } else {
            return sqlite3_bind_int(stmt, idx, x ? 1 : 0);
          }
        },
        v);
  }

  Status simple(const char* sql) {
    int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return noteFailure(rc);
    return okStatus();
  }

  Error noteFailure(int rc) {
    int primary = rc & 0xff;
    if (primary == SQLITE_IOERR || primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB ||
        primary == SQLITE_CANTOPEN || primary == SQLITE_NOMEM) {
      broken_ = true;
    }
    return sqliteError(db_.get(), rc);
  }

  SqlitePtr db_;
  bool broken_ = false;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, std::string lock_path, std::unique_ptr<FileLock> lock,
                 DatabaseOptions options)
      : Database(Dialect::kSqlite, "sqlite:" + path, withPoolOfOne(std::move(options))),
        path_(std::move(path)),
        lock_path_(std::move(lock_path)),
        lock_(std::move(lock)),
        busy_timeout_(this->options().acquire_timeout) {}

  // Close the connection before the lock is released, so no other process opens the file while
  // this one still has it open.
  ~SqliteDatabase() override { closeIdle(); }

  std::string lockPath() const override { return lock_path_; }

 protected:
  Result<std::unique_ptr<Connection>> connect() override {
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    SqlitePtr db(raw);
    if (rc != SQLITE_OK) {
      return Error::unavailable(fmt::format("cannot open the SQLite database {}: {}", path_,
                                            db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(db.get(), 1);
    sqlite3_busy_timeout(db.get(), static_cast<int>(busy_timeout_.count()));
    auto conn = std::make_unique<SqliteConnection>(std::move(db));
    // synchronous=FULL: a commit is on disk when it returns, so an answered request is durable.
    for (const char* pragma :
         {"PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=FULL"}) {
      auto r = conn->query(pragma, {});
      if (!r.ok()) {
        return Error::unavailable(
            fmt::format("cannot set up the SQLite database {}: {}", path_, r.error().message));
      }
    }
    return std::unique_ptr<Connection>(std::move(conn));
  }

 private:
  static DatabaseOptions withPoolOfOne(DatabaseOptions options) {
    options.pool_size = 1;
    return options;
  }

  std::string path_;
  std::string lock_path_;
  std::unique_ptr<FileLock> lock_;
  std::chrono::milliseconds busy_timeout_;
};

}  // namespace

Result<std::unique_ptr<Database>> openSqliteDatabase(const std::string& url,
                                                     DatabaseOptions options) {
  std::string_view rest(url);
  if (rest.starts_with("sqlite://")) {
    rest.remove_prefix(9);
    if (!rest.starts_with("/")) {
      return Error::invalid(
          "a sqlite:// URL needs an absolute path (sqlite:///var/lib/atrium/atrium.db); "
          "use sqlite:PATH for a relative one");
    }
  } else if (rest.starts_with("sqlite:")) {
    rest.remove_prefix(7);
  }
  if (rest.empty()) return Error::invalid("the SQLite URL names no file (expected sqlite:PATH)");
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path path = fs::absolute(fs::path(rest), ec);
  if (ec) return Error::invalid(fmt::format("bad SQLite path {}: {}", rest, ec.message()));
  path = path.lexically_normal();
  fs::path dir = path.parent_path();
  if (!fs::is_directory(dir, ec)) {
    return Error::invalid(
        fmt::format("the directory {} of the SQLite database {} does not exist; create it first",
                    dir.string(), path.string()));
  }
  if (fs::is_directory(path, ec)) {
    return Error::invalid(fmt::format("the SQLite database path {} is a directory", path.string()));
  }
  std::string lock_path = path.string() + ".lock";
  auto lock = FileLock::acquire(lock_path);
  if (!lock && lock.error().code == ErrorCode::kConflict && options.beside_running_server) {
    lock = std::unique_ptr<FileLock>();  // the server holds it; this process only visits
  }
  if (!lock) {
    if (lock.error().code != ErrorCode::kConflict) return lock.error();
    return Error::conflict(
        fmt::format("the SQLite database {} is in use by another Atrium process (lock {} held); SQLite serves "
                    "one server only — running several servers needs PostgreSQL",
                    path.string(), lock_path));
  }
  return std::unique_ptr<Database>(
      new SqliteDatabase(path.string(), std::move(lock_path), std::move(*lock), std::move(options)));
}

}  // namespace atrium::store
