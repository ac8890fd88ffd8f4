// One simulated system's HTTP port: an acceptor on the system's own address, sharing the fleet's
// io_context with thousands of others. Each request is answered synchronously by the handler;
// the reply may ask to be delayed (slow fault) or the connection dropped (unreachable fault).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "net/http_server.h"

namespace atrium::sim {

struct HttpReply {
  net::Response response;
  std::chrono::milliseconds delay{0};
  bool drop = false;  // close the connection without answering
};

using HttpRequestHandler = std::function<HttpReply(const net::Request&)>;

class HttpListener {
 public:
  HttpListener(boost::asio::io_context& ioc, HttpRequestHandler handler);
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;
  ~HttpListener();

  // Binds and starts accepting; call on the io_context's thread (or before it runs).
  Status listen(const std::string& address, std::uint16_t port);
  // Stops accepting: new connections are refused. Open connections finish their request.
  void close();
  bool listening() const { return acceptor_.is_open(); }

 private:
  void doAccept();

  boost::asio::io_context& ioc_;
  std::shared_ptr<const HttpRequestHandler> handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

// A response with a body and content type, keep-alive as the request asked.
net::Response makeResponse(const net::Request& request, unsigned status, std::string body,
                           std::string_view content_type);

}  // namespace atrium::sim
