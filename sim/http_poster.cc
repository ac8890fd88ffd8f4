#include "sim/http_poster.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>

namespace atrium::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class PostOperation : public std::enable_shared_from_this<PostOperation> {
 public:
  PostOperation(asio::io_context& ioc, PostTarget target, std::string body,
                std::string content_type, std::chrono::milliseconds timeout, PostCallback done)
      : stream_(ioc), target_(std::move(target)), timeout_(timeout), done_(std::move(done)) {
    request_.method(http::verb::post);
    request_.target(target_.target);
    request_.version(11);
    request_.set(http::field::host, target_.host + ":" + std::to_string(target_.port));
    request_.set(http::field::user_agent, "atrium-sim");
    request_.set(http::field::content_type, content_type);
    request_.keep_alive(false);
    request_.body() = std::move(body);
    request_.prepare_payload();
  }

  void start(const std::string& source_address) {
    beast::error_code ec;
    const auto ip = asio::ip::make_address(target_.host, ec);
    if (ec) return finish(Error::invalid("feedback host must be an IP literal: " + target_.host));
    const tcp::endpoint endpoint(ip, target_.port);
    stream_.socket().open(endpoint.protocol(), ec);
    if (!ec && !source_address.empty()) {
      const auto source = asio::ip::make_address(source_address, ec);
      if (!ec && source.is_v4() == ip.is_v4()) stream_.socket().bind(tcp::endpoint(source, 0), ec);
    }
    if (ec) return finish(Error::unavailable("cannot open a socket: " + ec.message()));
    stream_.expires_after(timeout_);
    stream_.async_connect(endpoint, [self = shared_from_this()](beast::error_code connect_ec) {
      if (connect_ec) return self->finish(Error::unavailable("connect: " + connect_ec.message()));
      http::async_write(self->stream_, self->request_,
                        [self](beast::error_code write_ec, std::size_t) {
                          if (write_ec) {
                            return self->finish(Error::unavailable("write: " + write_ec.message()));
                          }
                          http::async_read(self->stream_, self->buffer_, self->response_,
                                           [self](beast::error_code read_ec, std::size_t) {
                                             if (read_ec) {
                                               return self->finish(Error::unavailable(
                                                   "read: " + read_ec.message()));
                                             }
                                             self->finish(self->response_.result_int());
                                           });
                        });
    });
  }

 private:
  void finish(Result<unsigned> result) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    if (done_) {
      auto done = std::move(done_);
      done_ = nullptr;
      done(std::move(result));
    }
  }

  beast::tcp_stream stream_;
  PostTarget target_;
  std::chrono::milliseconds timeout_;
  PostCallback done_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  beast::flat_buffer buffer_;
};

}  // namespace

Result<PostTarget> parseHttpUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    return Error::invalid("only http:// URLs can be posted to: " + url.substr(0, 64), "url");
  }
  std::string rest = url.substr(kScheme.size());
  PostTarget target;
  const auto slash = rest.find('/');
  if (slash != std::string::npos) {
    target.target = rest.substr(slash);
    rest.resize(slash);
  }
  std::string port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) return Error::invalid("bad IPv6 host in " + url, "url");
    target.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else {
    const auto colon = rest.find(':');
    target.host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (target.host.empty()) return Error::invalid("no host in " + url, "url");
  if (!port.empty()) {
    try {
      const int p = std::stoi(port);
      if (p <= 0 || p > 65535) return Error::invalid("bad port in " + url, "url");
      target.port = static_cast<std::uint16_t>(p);
    } catch (const std::exception&) {
      return Error::invalid("bad port in " + url, "url");
    }
  }
  return target;
}

void HttpPoster::post(asio::io_context& ioc, const std::string& source_address,
                      const std::string& url, std::string body, std::string content_type,
                      std::chrono::milliseconds timeout, PostCallback done) {
  auto target = parseHttpUrl(url);
  if (!target.ok()) {
    asio::post(ioc, [done = std::move(done), error = target.error()] { done(error); });
    return;
  }
  std::make_shared<PostOperation>(ioc, std::move(*target), std::move(body),
                                  std::move(content_type), timeout, std::move(done))
      ->start(source_address);
}

}  // namespace atrium::sim
