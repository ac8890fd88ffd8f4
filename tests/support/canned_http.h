// An HttpServer on 127.0.0.1, port 0, answering from a function: the driver unit tests' stand-in
// for a device. Requests are recorded. A function that returns std::nullopt leaves the request
// unanswered (a device that hangs) until the server is destroyed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "net/http_server.h"

namespace atrium::testing {

class CannedHttpServer : public net::HttpHandler {
 public:
  using Answer = std::function<std::optional<net::Response>(const net::Request&)>;

  explicit CannedHttpServer(Answer answer) : answer_(std::move(answer)) {
    net::HttpServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 1;
    options.drain_timeout = std::chrono::milliseconds(50);
    server_ = std::make_unique<net::HttpServer>(options, *this);
    auto port = server_->start();
    EXPECT_TRUE(port.ok()) << (port.ok() ? "" : port.error().message);
    port_ = port.ok() ? *port : 0;
  }

  ~CannedHttpServer() override {
    server_->stop();
    {
      std::lock_guard lock(mu_);
      held_.clear();  // released while the server object still exists
    }
    server_.reset();
  }

  void handle(net::Request request, const net::RequestInfo&, net::Respond respond) override {
    std::optional<net::Response> response;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    response = answer_(request);
    if (!response) {
      std::lock_guard lock(mu_);
      held_.push_back(std::move(respond));
      return;
    }
    response->version(request.version());
    response->prepare_payload();
    respond(std::move(*response));
  }

  std::uint16_t port() const { return port_; }

  std::vector<net::Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  static net::Response reply(unsigned status, std::string body,
                             std::string content_type = "text/xml") {
    net::Response res;
    res.result(status);
    res.set(boost::beast::http::field::content_type, content_type);
    res.body() = std::move(body);
    return res;
  }

 private:
  Answer answer_;
  mutable std::mutex mu_;
  std::vector<net::Request> requests_;
  std::vector<net::Respond> held_;
  std::unique_ptr<net::HttpServer> server_;
  std::uint16_t port_ = 0;
};

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
inline std::uint16_t closedPort() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(
      ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::uint16_t port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

}  // namespace atrium::testing
