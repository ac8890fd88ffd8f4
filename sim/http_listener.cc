#include "sim/http_listener.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>

namespace atrium::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxBody = 1u << 20;
constexpr std::chrono::seconds kReadTimeout{30};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<const HttpRequestHandler> handler)
      : stream_(std::move(socket)), handler_(std::move(handler)),
        timer_(stream_.socket().get_executor()) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    stream_.expires_after(kReadTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->onRead(ec);
                     });
  }

  void onRead(beast::error_code ec) {
    if (ec) {
      if (ec == http::error::body_limit) {
        net::Request request;
        reply_ = std::make_shared<net::Response>(
            makeResponse(request, 413, "request body too large\n", "text/plain"));
        reply_->keep_alive(false);
        write();
      }
      return;  // closed, timed out or garbage: the connection ends
    }
    net::Request request = parser_->release();
    HttpReply reply = (*handler_)(request);
    if (reply.drop) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.socket().close(ignored);
      return;
    }
    reply_ = std::make_shared<net::Response>(std::move(reply.response));
    reply_->prepare_payload();
    if (reply.delay.count() > 0) {
      timer_.expires_after(reply.delay);
      timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec) self->write();
      });
      return;
    }
    write();
  }

  void write() {
    stream_.expires_after(kReadTimeout);
    http::async_write(stream_, *reply_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (!self->reply_->keep_alive()) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          return;
                        }
                        self->reply_.reset();
                        self->read();
                      });
  }

  beast::tcp_stream stream_;
  std::shared_ptr<const HttpRequestHandler> handler_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<net::Response> reply_;
};

}  // namespace

net::Response makeResponse(const net::Request& request, unsigned status, std::string body,
                           std::string_view content_type) {
  net::Response response{static_cast<http::status>(status), request.version()};
  response.set(http::field::server, "atrium-sim");
  if (!content_type.empty()) response.set(http::field::content_type, content_type);
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

HttpListener::HttpListener(asio::io_context& ioc, HttpRequestHandler handler)
    : ioc_(ioc),
      handler_(std::make_shared<const HttpRequestHandler>(std::move(handler))),
      acceptor_(ioc) {}

HttpListener::~HttpListener() { close(); }

Status HttpListener::listen(const std::string& address, std::uint16_t port) {
  beast::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) return Error::invalid("not an IP address: " + address, "address");
  const tcp::endpoint endpoint(ip, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(64, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    return Error::unavailable("cannot listen on " + address + ":" + std::to_string(port) + ": " +
                              ec.message());
  }
  doAccept();
  return okStatus();
}

void HttpListener::close() {
  beast::error_code ignored;
  acceptor_.close(ignored);
}

void HttpListener::doAccept() {
  acceptor_.async_accept(ioc_, [this, handler = handler_](
                                                      beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(socket), handler)->start();
    if (acceptor_.is_open()) doAccept();
  });
}

}  // namespace atrium::sim
