#include "store/database.h"

#include <fmt/format.h>

#include "common/log.h"
#include "store/postgres/pg_database.h"
#include "store/sqlite/sqlite_database.h"

namespace atrium::store {

PooledConnection::PooledConnection(Database* db, std::unique_ptr<Connection> conn)
    : db_(db), conn_(std::move(conn)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : db_(other.db_), conn_(std::move(other.conn_)) {
  other.db_ = nullptr;
}

PooledConnection::~PooledConnection() {
  if (db_ != nullptr && conn_ != nullptr) db_->release(std::move(conn_));
}

Result<std::unique_ptr<Database>> Database::open(const std::string& url, DatabaseOptions options) {
  if (url.starts_with("sqlite:")) return openSqliteDatabase(url, std::move(options));
  if (url.starts_with("postgresql://") || url.starts_with("postgres://") ||
      (url.find('=') != std::string::npos && url.find("://") == std::string::npos)) {
    return openPostgresDatabase(url, std::move(options));
  }
  return Error::invalid(
      fmt::format(
          "unrecognised database URL \"{}\": expected sqlite:PATH, sqlite:///ABSOLUTE/PATH, "
          "postgresql://USER@HOST[:PORT]/DB (or postgres://...), or a PostgreSQL key=value "
          "connection string such as \"host=db1,db2 dbname=atrium "
          "target_session_attrs=read-write\"",
          url.find("://") == std::string::npos ? url : redactPostgresUrl(url)),
      "url");
}

Database::Database(Dialect dialect, std::string display_url, DatabaseOptions options)
    : dialect_(dialect), display_url_(std::move(display_url)), options_(std::move(options)) {
  if (options_.pool_size == 0) options_.pool_size = 1;
}

Database::~Database() = default;

void Database::closeIdle() {
  std::deque<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard lk(mu_);
    closing.swap(idle_);
    open_ -= closing.size();
  }
}

Result<PooledConnection> Database::acquire() {
  std::unique_lock lk(mu_);
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  for (;;) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.front());
      idle_.pop_front();
      ++in_use_;
      return PooledConnection(this, std::move(conn));
    }
    if (open_ < options_.pool_size) {
      const auto now = std::chrono::steady_clock::now();
      if (now < next_connect_attempt_) {
        return Error::unavailable(fmt::format("database unavailable: {}; retrying", last_error_));
      }
      // Reserve the slot, then connect without holding the lock.
      ++open_;
      ++in_use_;
      lk.unlock();
      auto conn = connect();
      lk.lock();
      if (!conn.ok()) {
        --open_;
        --in_use_;
        ++connect_failures_;
        backoff_ = backoff_.count() == 0 ? options_.reconnect_min
                                         : std::min(backoff_ * 2, options_.reconnect_max);
        next_connect_attempt_ = std::chrono::steady_clock::now() + backoff_;
        const bool first = last_error_.empty();
        last_error_ = conn.error().message;
        ready_ = false;
        cv_.notify_one();
        if (first) {
          log::warn("store.connect_failed", {{"database", display_url_}, {"error", last_error_}});
        }
        return Error::unavailable(fmt::format("database unavailable: {}; retrying", last_error_));
      }
      if (!last_error_.empty()) log::info("store.reconnected", {{"database", display_url_}});
      backoff_ = std::chrono::milliseconds{0};
      next_connect_attempt_ = {};
      last_error_.clear();
      return PooledConnection(this, std::move(conn).value());
    }
    if (cv_.wait_until(lk, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.pool_size) {
      ++acquire_timeouts_;
      return Error::unavailable(
          fmt::format("no free database connection within {} ms (all {} in use)",
                      options_.acquire_timeout.count(), options_.pool_size));
    }
  }
}

void Database::release(std::unique_ptr<Connection> conn) {
  std::deque<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard lk(mu_);
    --in_use_;
    if (conn->broken()) {
      // The server went away or the connection broke: the idle ones are most likely dead too.
      closing.swap(idle_);
      open_ -= closing.size() + 1;
      ready_ = false;
      closing.push_back(std::move(conn));
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  cv_.notify_one();
  // `closing` is destroyed here, outside the lock.
}

Status Database::checkWritable() {
  auto conn = acquire();
  if (!conn.ok()) {
    ready_ = false;
    return conn.error();
  }
  Connection& c = **conn;
  if (dialect_ == Dialect::kSqlite) {
    auto r = c.query("SELECT 1");
    ready_ = r.ok();
    if (!r.ok()) return r.error();
    return okStatus();
  }
  auto r = c.query("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')");
  if (!r.ok()) {
    ready_ = false;
    return r.error();
  }
  if (r->size() != 1) {
    ready_ = false;
    return Error::internal("the writability check returned no row");
  }
  if (r->boolean(0, 0)) {
    ready_ = false;
    return Error{ErrorCode::kReadOnly,
                 fmt::format("the PostgreSQL server at {} is a read-only replica (in recovery); "
                             "Atrium needs the primary",
                             display_url_),
                 {}};
  }
  if (r->text(0, 1) == "on") {
    ready_ = false;
    return Error{ErrorCode::kReadOnly,
                 fmt::format("the PostgreSQL server at {} accepts no writes "
                             "(default_transaction_read_only is on); Atrium needs the primary",
                             display_url_),
                 {}};
  }
  ready_ = true;
  return okStatus();
}

PoolStats Database::stats() const {
  std::lock_guard lk(mu_);
  PoolStats s;
  s.size = options_.pool_size;
  s.open = open_;
  s.in_use = in_use_;
  s.connect_failures = connect_failures_;
  s.acquire_timeouts = acquire_timeouts_;
  s.ready = ready_.load();
  return s;
}

}  // namespace atrium::store
