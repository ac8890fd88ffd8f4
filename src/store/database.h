// A database chosen by URL: "sqlite:PATH" or a PostgreSQL URL / key=value string (multi-host
// allowed). Owns a pool of connections, reconnects with backoff, and tracks whether the database
// is reachable and writable (what /readyz reports).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "store/sql.h"

namespace atrium::store {

struct DatabaseOptions {
  std::size_t pool_size = 4;                          // PostgreSQL; SQLite always uses 1
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds acquire_timeout{5000};    // wait for a free connection
  std::chrono::milliseconds reconnect_min{250};       // backoff after a failed connect
  std::chrono::milliseconds reconnect_max{5000};
  std::string application_name = "atrium";
  // SQLite: open the file even while a running server holds its lock, for one short
  // administrative change (atrium keys rotate). SQLite's own locking (WAL, the busy timeout)
  // keeps the two apart; a second server is still refused, since servers never set this.
  bool beside_running_server = false;
};

struct PoolStats {
  std::size_t size = 0;    // configured maximum
  std::size_t open = 0;    // connections currently open
  std::size_t in_use = 0;  // handed out
  std::uint64_t connect_failures = 0;
  std::uint64_t acquire_timeouts = 0;
  bool ready = false;      // reachable and writable at the last check
};

class Database;

// A connection on loan from the pool; returned (or discarded when broken) on destruction.
class PooledConnection {
 public:
  PooledConnection(Database* db, std::unique_ptr<Connection> conn);
  PooledConnection(PooledConnection&&) noexcept;
  PooledConnection& operator=(PooledConnection&&) = delete;
  ~PooledConnection();
  Connection& operator*() { return *conn_; }
  Connection* operator->() { return conn_.get(); }

 private:
  Database* db_;
  std::unique_ptr<Connection> conn_;
};

class Database {
 public:
  // Parses the URL and picks the backend; does not connect yet. Error names what is wrong.
  static Result<std::unique_ptr<Database>> open(const std::string& url, DatabaseOptions options = {});
  virtual ~Database();

  Dialect dialect() const { return dialect_; }
  // The URL with any password replaced by "***", for logs and messages.
  const std::string& displayUrl() const { return display_url_; }

  // Borrows a connection, connecting if needed. Fails fast with kUnavailable while the database
  // is known to be down and the backoff has not elapsed.
  Result<PooledConnection> acquire();

  // Checks the database is reachable and writable (not a replica, not read-only); updates
  // ready(). Runs a query: call it off the network threads.
  Status checkWritable();
  bool ready() const { return ready_.load(); }
  PoolStats stats() const;

  // For SQLite: the exclusive lock file this process holds; empty for PostgreSQL.
  virtual std::string lockPath() const { return {}; }

 protected:
  Database(Dialect dialect, std::string display_url, DatabaseOptions options);
  virtual Result<std::unique_ptr<Connection>> connect() = 0;
  const DatabaseOptions& options() const { return options_; }
  // Closes the idle connections; a backend's destructor calls it before releasing its resources.
  void closeIdle();

 private:
  friend class PooledConnection;
  void release(std::unique_ptr<Connection> conn);

  Dialect dialect_;
  std::string display_url_;
  DatabaseOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;
  std::size_t in_use_ = 0;
  std::uint64_t connect_failures_ = 0;
  std::uint64_t acquire_timeouts_ = 0;
  std::chrono::steady_clock::time_point next_connect_attempt_{};
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;  // why the last connect failed, for the fail-fast message
  std::atomic<bool> ready_{false};
};

}  // namespace atrium::store
