#include "net/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <limits>

namespace atrium::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, name)) return v;
  }
  return std::nullopt;
}

struct HttpConnection::State {
  std::string host;  // without brackets
  std::uint16_t port = 0;
  std::chrono::milliseconds timeout;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::size_t connects = 0;

  std::string hostHeader() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }

  Error failure(const beast::error_code& ec, std::string_view what) const {
    std::string msg = std::string(what) + " " + hostHeader() + ": " + ec.message();
    if (ec == beast::error::timeout) return Error{ErrorCode::kTimeout, std::move(msg), {}};
    return Error::unavailable(std::move(msg));
  }

  Status connect() {
    stream.reset();
    buffer.clear();
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return failure(ec, "cannot resolve");
    stream.emplace(ioc);
    stream->expires_after(timeout);
    beast::error_code connect_ec;
    stream->async_connect(
        endpoints, [&connect_ec](beast::error_code e, const tcp::endpoint&) { connect_ec = e; });
    ioc.restart();
    ioc.run();
    if (connect_ec) {
      stream.reset();
      return failure(connect_ec, "cannot connect to");
    }
    ++connects;
    return okStatus();
  }

  // One exchange on the open stream. `retryable` is set when the request cannot have reached the
  // server's handler (the write failed, or the connection closed before any answer byte).
  Result<HttpResponse> exchange(http::request<http::string_body>& req, bool& retryable) {
    retryable = false;
    beast::error_code ec;
    stream->expires_after(timeout);
    http::async_write(*stream, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
    ioc.restart();
    ioc.run();
    if (ec) {
      retryable = true;
      return failure(ec, "cannot send to");
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (req.method() == http::verb::head) parser.skip(true);
    http::async_read(*stream, buffer, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
    ioc.restart();
    ioc.run();
    if (ec) {
      retryable = !parser.got_some() &&
                  (ec == http::error::end_of_stream || ec == asio::error::connection_reset);
      return failure(ec, "cannot read the answer from");
    }
    auto res = parser.release();
    HttpResponse out;
    out.status = res.result_int();
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    out.keep_alive = res.keep_alive();
    if (!out.keep_alive) {
      beast::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.reset();
    }
    return out;
  }

  Result<HttpResponse> request(std::string_view method, std::string_view target,
                               std::string_view body, const Headers& headers, bool keep_alive) {
    http::request<http::string_body> req;
    http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) {
      req.method_string(method);
    } else {
      req.method(verb);
    }
    req.target(target);
    req.version(11);
    req.set(http::field::host, hostHeader());
    req.set(http::field::user_agent, "atrium");
    bool has_content_type = false;
    for (const auto& [k, v] : headers) {
      req.insert(k, v);
      if (beast::iequals(k, "content-type")) has_content_type = true;
    }
    if (!body.empty() && !has_content_type) req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
    req.keep_alive(keep_alive);
    req.prepare_payload();

    bool reused = stream.has_value();
    if (!reused) ATRIUM_TRY(connect());
    bool retryable = false;
    auto result = exchange(req, retryable);
    if (!result.ok() && reused && retryable) {
      // The server had closed the idle keep-alive connection: retry once on a new one.
      ATRIUM_TRY(connect());
      result = exchange(req, retryable);
    }
    if (!result.ok()) stream.reset();
    return result;
  }
};

namespace {

std::string stripBrackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

Result<HttpResponse> HttpClient::request(std::string_view method, const std::string& host,
                                         std::uint16_t port, std::string_view target,
                                         std::string_view body, const Headers& headers,
                                         std::chrono::milliseconds timeout) {
  HttpConnection::State state;
  state.host = stripBrackets(host);
  state.port = port;
  state.timeout = timeout;
  return state.request(method, target, body, headers, /*keep_alive=*/false);
}

HttpConnection::HttpConnection(std::string host, std::uint16_t port,
                               std::chrono::milliseconds timeout)
    : state_(std::make_unique<State>()) {
  state_->host = stripBrackets(host);
  state_->port = port;
  state_->timeout = timeout;
}

HttpConnection::~HttpConnection() = default;

Result<HttpResponse> HttpConnection::request(std::string_view method, std::string_view target,
                                             std::string_view body, const Headers& headers) {
  return state_->request(method, target, body, headers, /*keep_alive=*/true);
}

std::size_t HttpConnection::connects() const { return state_->connects; }

void HttpConnection::close() {
  if (state_->stream) {
    beast::error_code ignored;
    state_->stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    state_->stream.reset();
  }
}

}  // namespace atrium::net
