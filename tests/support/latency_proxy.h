// A TCP proxy on loopback that delays every chunk it forwards, in both directions, by a delay
// that can be changed while it runs: how tests give a node a slow database (the db-latency
// check) without network namespaces.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"

namespace atrium::testing {

class LatencyProxy {
 public:
  // Listens on 127.0.0.1 (a free port) and forwards each connection to target_host:target_port.
  static Result<std::unique_ptr<LatencyProxy>> start(std::string target_host,
                                                     std::uint16_t target_port);
  ~LatencyProxy();
  LatencyProxy(const LatencyProxy&) = delete;
  LatencyProxy& operator=(const LatencyProxy&) = delete;

  std::uint16_t port() const { return port_; }
  // The delay added to every chunk forwarded from now on (either direction).
  void setDelay(std::chrono::milliseconds delay) { delay_ms_ = delay.count(); }
  std::chrono::milliseconds delay() const { return std::chrono::milliseconds(delay_ms_.load()); }
  // Stops accepting and closes every forwarded connection.
  void stop();

 private:
  LatencyProxy(int listen_fd, std::uint16_t port, std::string host, std::uint16_t target_port);
  void acceptLoop();
  void pump(int from, int to);

  int listen_fd_;
  std::uint16_t port_;
  std::string target_host_;
  std::uint16_t target_port_;
  std::atomic<std::int64_t> delay_ms_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> pumps_;
};

}  // namespace atrium::testing
