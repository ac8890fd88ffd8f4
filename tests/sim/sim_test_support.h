// Shared by the simulator tests: a fleet on a random loopback block, a collecting HTTP server,
// waiting on conditions with a deadline.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "net/http_server.h"
#include "sim/fleet.h"

namespace atrium::sim::testing {

// A base address and ports no other test binary is likely to use at the same time.
inline FleetOptions randomOptions(int xapi, int mcu, int polycom, int snmp, int second_octet = 21) {
  static std::mt19937 rng(std::random_device{}());
  FleetOptions o;
  o.cisco_xapi = xapi;
  o.cisco_mcu = mcu;
  o.polycom = polycom;
  o.snmp = snmp;
  o.base_address = "127." + std::to_string(second_octet) + "." + std::to_string(rng() % 250 + 1) + "." +
                   std::to_string(rng() % 200 + 1);
  o.http_port = static_cast<std::uint16_t>(20000 + rng() % 20000);
  o.snmp_port = static_cast<std::uint16_t>(o.http_port + 1);
  return o;
}

inline bool waitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// Answers every request with `status` and keeps what it got.
class Collector final : public net::HttpHandler {
 public:
  explicit Collector(unsigned status = 200) : status_(status) {}

  void handle(net::Request request, const net::RequestInfo& info, net::Respond respond) override {
    {
      std::lock_guard lock(mu_);
      bodies_.push_back(request.body());
      targets_.push_back(std::string(request.target()));
      sources_.push_back(info.remote_address);
    }
    net::Response response{static_cast<boost::beast::http::status>(status_), request.version()};
    response.keep_alive(false);
    response.prepare_payload();
    respond(std::move(response));
  }

  std::vector<std::string> bodies() const {
    std::lock_guard lock(mu_);
    return bodies_;
  }
  std::vector<std::string> sources() const {
    std::lock_guard lock(mu_);
    return sources_;
  }
  std::vector<std::string> targets() const {
    std::lock_guard lock(mu_);
    return targets_;
  }
  std::size_t count() const {
    std::lock_guard lock(mu_);
    return bodies_.size();
  }

 private:
  unsigned status_;
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
  std::vector<std::string> targets_;
  std::vector<std::string> sources_;
};

struct CollectingServer {
  explicit CollectingServer(unsigned status = 200) : collector(status), server(options(), collector) {
    auto port = server.start();
    EXPECT_TRUE(port.ok());
  }
  static net::HttpServerOptions options() {
    net::HttpServerOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.threads = 1;
    return o;
  }
  std::string url(const std::string& path = "/feedback/secret") const {
    return "http://127.0.0.1:" + std::to_string(server.port()) + path;
  }
  Collector collector;
  net::HttpServer server;
};

}  // namespace atrium::sim::testing
