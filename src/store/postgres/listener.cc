#include "store/postgres/listener.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "common/log.h"
#include "store/driver_util.h"
#include "store/postgres/pg_handles.h"

namespace atrium::store {
namespace {

void quietNotice(void*, const char*) {}

}  // namespace

PgListener::PgListener(PgListenerOptions options, OnNotify on_notify,
                       std::function<void()> on_connected)
    : options_(std::move(options)),
      on_notify_(std::move(on_notify)),
      on_connected_(std::move(on_connected)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

PgListener::~PgListener() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void PgListener::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void PgListener::stop() {
  std::lock_guard lock(mu_);
  if (!thread_.joinable()) return;
  stopping_ = true;
  if (wake_fd_ >= 0) {
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
  thread_.join();
  if (wake_fd_ >= 0) {
    std::uint64_t drained = 0;
    (void)!::read(wake_fd_, &drained, sizeof drained);
  }
}

void PgListener::run() {
  std::chrono::milliseconds backoff = options_.reconnect_min;
  // Waits on the wake fd (and optionally a socket); true when asked to stop.
  auto waitFor = [this](int socket, std::chrono::milliseconds timeout, bool& readable) {
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {socket, POLLIN, 0}};
    readable = false;
    int n = ::poll(fds, socket >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
    if (stopping_.load()) return true;
    if (n > 0 && socket >= 0 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) != 0)
      readable = true;
    return false;
  };
  bool was_lost = false;
  while (!stopping_.load()) {
    // Connect: keepalives first so the URL may override them; our application_name last.
    const std::string timeout_s =
        std::to_string(std::max<std::int64_t>(1, options_.connect_timeout.count() / 1000));
    const char* keys[] = {
        "keepalives",      "keepalives_idle", "keepalives_interval", "keepalives_count",
        "connect_timeout", "dbname",          "application_name",    nullptr};
    const char* values[] = {"1",
                            "10",
                            "5",
                            "3",
                            timeout_s.c_str(),
                            options_.conninfo.c_str(),
                            options_.application_name.c_str(),
                            nullptr};
    PgConnPtr conn(PQconnectdbParams(keys, values, 1));
    std::string failure;
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
      failure = conn ? trimMessage(PQerrorMessage(conn.get())) : "cannot allocate a connection";
    } else {
      PQsetNoticeProcessor(conn.get(), quietNotice, nullptr);
      char* quoted =
          PQescapeIdentifier(conn.get(), options_.channel.c_str(), options_.channel.size());
      std::string sql = std::string("LISTEN ") + (quoted != nullptr ? quoted : "atrium");
      if (quoted != nullptr) PQfreemem(quoted);
      PgResultPtr res(PQexec(conn.get(), sql.c_str()));
      if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
        failure = trimMessage(PQerrorMessage(conn.get()));
      } else if (PQsetnonblocking(conn.get(), 1) != 0) {
        failure = "cannot make the connection non-blocking";
      }
    }
    if (!failure.empty()) {
      if (!was_lost)
        log::warn("cluster.listener_unavailable",
                  {{"reason", failure}, {"retry_ms", backoff.count()}});
      was_lost = true;
      bool readable = false;
      if (waitFor(-1, backoff, readable)) return;
      backoff = std::min(backoff * 2, options_.reconnect_max);
      continue;
    }
    backoff = options_.reconnect_min;
    connected_ = true;
    log::info("cluster.listening", {{"channel", options_.channel}, {"reconnected", was_lost}});
    was_lost = false;
    if (on_connected_) on_connected_();

    const int socket = PQsocket(conn.get());
    while (!stopping_.load()) {
      bool readable = false;
      if (waitFor(socket, options_.poll_timeout, readable)) break;
      if (!readable) {
        if (PQstatus(conn.get()) != CONNECTION_OK) break;
        continue;
      }
      if (PQconsumeInput(conn.get()) == 0) {
        log::warn("cluster.listener_lost", {{"reason", trimMessage(PQerrorMessage(conn.get()))}});
        break;
      }
      while (PgNotifyPtr n{PQnotifies(conn.get())}) {
        if (on_notify_) on_notify_(n->extra != nullptr ? std::string(n->extra) : std::string());
      }
    }
    connected_ = false;
    was_lost = !stopping_.load();
  }
}

}  // namespace atrium::store
