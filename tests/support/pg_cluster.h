// A real PostgreSQL 15 server for tests, in a fresh temporary directory on a free loopback port.
// As root it runs the server binaries as the `postgres` system user (PostgreSQL refuses root);
// otherwise as the current user. Waits are deadlines on a condition (the server answering), never
// fixed sleeps.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace atrium::testing {

struct PgClusterOptions {
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  std::string superuser = "atrium";  // trust auth, but it has this password too
  std::string password = "atrium-test-secret";
  std::chrono::milliseconds start_timeout{60000};
  // Tests trade durability for speed (fsync off); benchmarks want PostgreSQL as it is deployed.
  bool durable = false;
};

class PgCluster {
 public:
  // initdb, configure, start, and create the database "atrium".
  static Result<std::unique_ptr<PgCluster>> start(PgClusterOptions options = {});
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;
  // Stops the server (immediately) and removes the directory.
  ~PgCluster();

  int port() const { return port_; }
  const std::string& directory() const { return dir_; }
  const std::string& password() const { return options_.password; }
  // postgresql://atrium@127.0.0.1:PORT/DB
  std::string url(const std::string& db = "atrium") const;
  // postgresql://atrium:PASSWORD@127.0.0.1:PORT/DB
  std::string urlWithPassword(const std::string& db = "atrium") const;

  Status createDatabase(const std::string& name);
  Status dropDatabase(const std::string& name);

  Status stop();        // fast shutdown: sessions are ended, data is kept
  Status kill();        // immediate shutdown (as if the machine lost power, for the server)
  Status startAgain();  // same data directory and port
  bool running() const { return running_; }

  // A streaming replica of this server (pg_basebackup -R) on another free port, started and
  // accepting read-only connections.
  Result<std::unique_ptr<PgCluster>> startReplica();
  // Promotes this replica to a primary (what Patroni does on failover) and waits until it
  // accepts writes.
  Status promote();

  // The server log and the output of the commands the harness ran.
  std::string logText() const;

  // Runs one statement as the superuser; returns the first column of the first row ("" if none).
  Result<std::string> sql(const std::string& statement, const std::string& db = "atrium");

 private:
  PgCluster(PgClusterOptions options, std::string dir, int port);
  static Result<std::string> makeDirectory();
  std::string dataDir() const { return dir_ + "/data"; }
  std::string bin(const std::string& name) const { return options_.bin_dir + "/" + name; }
  Status run(const std::vector<std::string>& argv);
  Status appendConfig();
  Status launch();

  PgClusterOptions options_;
  std::string dir_;
  int port_;
  bool running_ = false;
};

// A loopback TCP port that was free a moment ago.
Result<int> freeLoopbackPort();

}  // namespace atrium::testing
