#include "support/latency_proxy.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace atrium::testing {
namespace {

constexpr int kPollMs = 100;

void noDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

bool writeAll(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<LatencyProxy>> LatencyProxy::start(std::string target_host,
                                                          std::uint16_t target_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::internal(fmt::format("socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    return Error::internal(fmt::format("latency proxy cannot listen: {}", std::strerror(err)));
  }
  std::unique_ptr<LatencyProxy> proxy(
      new LatencyProxy(fd, ntohs(addr.sin_port), std::move(target_host), target_port));
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->acceptLoop(); });
  return proxy;
}

LatencyProxy::LatencyProxy(int listen_fd, std::uint16_t port, std::string host,
                           std::uint16_t target_port)
    : listen_fd_(listen_fd),
      port_(port),
      target_host_(std::move(host)),
      target_port_(target_port) {}

LatencyProxy::~LatencyProxy() { stop(); }

void LatencyProxy::stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> pumps;
  {
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    pumps.swap(pumps_);
  }
  for (auto& t : pumps) t.join();
  std::lock_guard lock(mu_);
  for (int fd : fds_) ::close(fd);
  fds_.clear();
}

void LatencyProxy::acceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(target_port_);
    ::inet_pton(AF_INET, target_host_.c_str(), &addr.sin_addr);
    if (upstream < 0 ||
        ::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      if (upstream >= 0) ::close(upstream);
      ::close(client);
      continue;
    }
    noDelay(client);
    noDelay(upstream);
    std::lock_guard lock(mu_);
    fds_.push_back(client);
    fds_.push_back(upstream);
    pumps_.emplace_back([this, client, upstream] { pump(client, upstream); });
    pumps_.emplace_back([this, client, upstream] { pump(upstream, client); });
  }
}

void LatencyProxy::pump(int from, int to) {
  char buf[16384];
  while (!stopping_) {
    pollfd p{from, POLLIN, 0};
    int rc = ::poll(&p, 1, kPollMs);
    if (rc == 0) continue;
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) break;
    ssize_t n = ::recv(from, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (auto d = delay_ms_.load(); d > 0) std::this_thread::sleep_for(std::chrono::milliseconds(d));
    if (!writeAll(to, buf, static_cast<std::size_t>(n))) break;
  }
  // One side ended: end the other direction too.
  ::shutdown(to, SHUT_WR);
  ::shutdown(from, SHUT_RD);
}

}  // namespace atrium::testing
