#include "support/pg_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/postgres/pg_handles.h"

namespace atrium::testing {
namespace {

namespace fs = std::filesystem;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail(const std::string& s, std::size_t n = 4000) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

// The account the server runs as: `postgres` when we are root, ourselves otherwise.
struct Owner {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<Owner> serverOwner() {
  Owner o;
  if (::geteuid() != 0) return o;
  struct passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) {
    return Error::internal("running as root, but there is no `postgres` user to run PostgreSQL as");
  }
  o.switch_user = true;
  o.uid = pw->pw_uid;
  o.gid = pw->pw_gid;
  return o;
}

Status chownToOwner(const std::string& path) {
  auto owner = serverOwner();
  if (!owner.ok()) return owner.error();
  if (owner->switch_user && ::chown(path.c_str(), owner->uid, owner->gid) != 0) {
    return Error::internal(fmt::format("chown {}: {}", path, std::strerror(errno)));
  }
  return okStatus();
}

std::string superuserConninfo(int port, const std::string& user, const std::string& db) {
  return fmt::format("host=127.0.0.1 port={} user={} dbname={} connect_timeout=5", port, user, db);
}

}  // namespace

Result<int> freeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::internal(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    return Error::internal(fmt::format("cannot find a free port: {}", std::strerror(err)));
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

PgCluster::PgCluster(PgClusterOptions options, std::string dir, int port)
    : options_(std::move(options)), dir_(std::move(dir)), port_(port) {}

PgCluster::~PgCluster() {
  if (running_) {
    Status s = kill();
    if (!s.ok()) fmt::print(stderr, "PgCluster: {}\n", s.error().message);
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

Result<std::string> PgCluster::makeDirectory() {
  std::string tmpl = (fs::temp_directory_path() / "atrium-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Error::internal(fmt::format("mkdtemp: {}", std::strerror(errno)));
  }
  ATRIUM_TRY(chownToOwner(tmpl));
  return tmpl;
}

Status PgCluster::run(const std::vector<std::string>& argv) {
  auto owner = serverOwner();
  if (!owner.ok()) return owner.error();
  // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string out_path = dir_ + "/commands.log";
  {
    std::ofstream out(out_path, std::ios::app);
    out << "$";
    for (const auto& a : argv) out << " " << a;
    out << "\n";
  }
  ATRIUM_TRY(chownToOwner(out_path));
  pid_t pid = ::fork();
  if (pid < 0) return Error::internal(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_APPEND);
    int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    if (owner->switch_user) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(owner->gid) != 0 || ::setuid(owner->uid) != 0) {
        ::_exit(126);
      }
    }
    if (::chdir(dir_.c_str()) != 0) ::_exit(126);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::internal(fmt::format("waitpid: {}", std::strerror(errno)));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error::internal(
        fmt::format("`{}` failed (status {}):\n{}", argv[0], status, tail(readFile(out_path))));
  }
  return okStatus();
}

Status PgCluster::appendConfig() {
  const std::string conf_path = dataDir() + "/postgresql.conf";
  std::ofstream conf(conf_path, std::ios::app);
  conf << "\n# atrium test harness\n"
       << "listen_addresses = '127.0.0.1'\n"
       << "port = " << port_ << "\n"
       << "unix_socket_directories = '" << dir_ << "'\n"
       << (options_.durable ? "" : "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
       << "max_connections = 200\n"
       << "wal_level = replica\n"
       << "max_wal_senders = 10\n"
       << "hot_standby = on\n"
       << "log_min_messages = warning\n";
  if (!conf) return Error::internal("cannot write " + conf_path);
  return okStatus();
}

Status PgCluster::launch() {
  ATRIUM_TRY(run({bin("pg_ctl"), "-D", dataDir(), "-l", dir_ + "/postgres.log", "-W", "start"}));
  running_ = true;
  const std::string conninfo = superuserConninfo(port_, options_.superuser, "postgres");
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + options_.start_timeout;
  auto next_liveness_check = start + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return okStatus();
    if (std::chrono::steady_clock::now() >= next_liveness_check) {
      // pg_ctl status fails once the postmaster has died (a bad setting, a port taken).
      if (!run({bin("pg_ctl"), "-D", dataDir(), "status"}).ok()) {
        running_ = false;
        return Error::unavailable("PostgreSQL exited during start-up:\n" + tail(logText()));
      }
      next_liveness_check = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Error::unavailable(fmt::format("PostgreSQL did not accept connections within {} ms:\n{}",
                                        options_.start_timeout.count(), tail(logText())));
}

Result<std::unique_ptr<PgCluster>> PgCluster::start(PgClusterOptions options) {
  if (!fs::exists(options.bin_dir + "/initdb")) {
    return Error::unavailable("PostgreSQL server binaries not found in " + options.bin_dir);
  }
  auto dir = makeDirectory();
  if (!dir.ok()) return dir.error();
  auto port = freeLoopbackPort();
  if (!port.ok()) return port.error();
  std::unique_ptr<PgCluster> cluster(new PgCluster(std::move(options), *dir, *port));
  const std::string pwfile = cluster->dir_ + "/pwfile";
  {
    std::ofstream pw(pwfile);
    pw << cluster->options_.password << "\n";
  }
  ATRIUM_TRY(chownToOwner(pwfile));
  ATRIUM_TRY(cluster->run({cluster->bin("initdb"), "-D", cluster->dataDir(), "-U",
                           cluster->options_.superuser, "--pwfile=" + pwfile, "--auth=trust",
                           "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"}));
  ATRIUM_TRY(cluster->appendConfig());
  ATRIUM_TRY(cluster->launch());
  ATRIUM_TRY(cluster->createDatabase("atrium"));
  return cluster;
}

std::string PgCluster::url(const std::string& db) const {
  return fmt::format("postgresql://{}@127.0.0.1:{}/{}", options_.superuser, port_, db);
}

std::string PgCluster::urlWithPassword(const std::string& db) const {
  return fmt::format("postgresql://{}:{}@127.0.0.1:{}/{}", options_.superuser, options_.password,
                     port_, db);
}

Result<std::string> PgCluster::sql(const std::string& statement, const std::string& db) {
  store::PgConnPtr conn(PQconnectdb(superuserConninfo(port_, options_.superuser, db).c_str()));
  if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
    return Error::unavailable(fmt::format("cannot connect to the test PostgreSQL on port {}: {}",
                                          port_, conn ? PQerrorMessage(conn.get()) : "no memory"));
  }
  store::PgResultPtr res(PQexec(conn.get(), statement.c_str()));
  auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Error::internal(fmt::format("`{}` failed: {}", statement, PQerrorMessage(conn.get())));
  }
  if (PQntuples(res.get()) > 0 && PQnfields(res.get()) > 0 && !PQgetisnull(res.get(), 0, 0)) {
    return std::string(PQgetvalue(res.get(), 0, 0));
  }
  return std::string();
}

Status PgCluster::createDatabase(const std::string& name) {
  auto r = sql(fmt::format("CREATE DATABASE \"{}\"", name), "postgres");
  if (!r.ok()) return r.error();
  return okStatus();
}

Status PgCluster::dropDatabase(const std::string& name) {
  auto r = sql(fmt::format("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", name), "postgres");
  if (!r.ok()) return r.error();
  return okStatus();
}

Status PgCluster::stop() {
  ATRIUM_TRY(run({bin("pg_ctl"), "-D", dataDir(), "-m", "fast", "-w", "-t", "60", "stop"}));
  running_ = false;
  return okStatus();
}

Status PgCluster::kill() {
  ATRIUM_TRY(run({bin("pg_ctl"), "-D", dataDir(), "-m", "immediate", "-w", "-t", "60", "stop"}));
  running_ = false;
  return okStatus();
}

Status PgCluster::startAgain() {
  if (running_) return Error::conflict("the test PostgreSQL is running already");
  return launch();
}

Result<std::unique_ptr<PgCluster>> PgCluster::startReplica() {
  auto dir = makeDirectory();
  if (!dir.ok()) return dir.error();
  auto port = freeLoopbackPort();
  if (!port.ok()) return port.error();
  std::unique_ptr<PgCluster> replica(new PgCluster(options_, *dir, *port));
  ATRIUM_TRY(replica->run({bin("pg_basebackup"), "-h", "127.0.0.1", "-p", std::to_string(port_),
                           "-U", options_.superuser, "-D", replica->dataDir(), "-R", "-X", "stream",
                           "-c", "fast", "--no-sync"}));
  ATRIUM_TRY(replica->appendConfig());
  ATRIUM_TRY(replica->launch());
  return replica;
}

Status PgCluster::promote() {
  ATRIUM_TRY(run({bin("pg_ctl"), "promote", "-w", "-t", "60", "-D", dataDir()}));
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto in_recovery = sql("SELECT pg_is_in_recovery()");
    if (in_recovery.ok() && *in_recovery == "f") return okStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error::unavailable("the promoted replica still reports pg_is_in_recovery()");
}

std::string PgCluster::logText() const {
  return "--- postgres.log ---\n" + readFile(dir_ + "/postgres.log") +
         "--- harness commands ---\n" + readFile(dir_ + "/commands.log");
}

}  // namespace atrium::testing
