#include "net/http_client.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
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
#include <boost/beast/ssl/ssl_stream.hpp>
#include <limits>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

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

std::vector<std::string> HttpResponse::headerValues(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, name)) out.push_back(v);
  }
  return out;
}

std::string basicAuthorization(std::string_view user, std::string_view password) {
  std::string plain;
  plain.reserve(user.size() + 1 + password.size());
  plain.append(user).append(":").append(password);
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                          reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size()));
  encoded.resize(static_cast<std::size_t>(n));
  return "Basic " + encoded;
}

std::string cookiesFrom(const HttpResponse& response) {
  std::string out;
  for (const std::string& value : response.headerValues("set-cookie")) {
    std::string_view pair(value);
    pair = pair.substr(0, pair.find(';'));
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    if (pair.empty() || pair.find('=') == std::string_view::npos) continue;
    if (!out.empty()) out += "; ";
    out.append(pair);
  }
  return out;
}

namespace {

using AnswerParser = http::response_parser<http::string_body>;

// What every answer the client reads is parsed with: the same on a socket and in parseHttpAnswer.
void limitParser(AnswerParser& parser, std::uint64_t max_answer_bytes,
                 std::uint32_t max_header_bytes, bool head) {
  parser.body_limit(max_answer_bytes);
  parser.header_limit(max_header_bytes);
  if (head) parser.skip(true);
}

// The error for an answer over a limit, if that is what `ec` says.
std::optional<Error> limitError(const beast::error_code& ec, std::string_view peer,
                                std::uint64_t max_answer_bytes, std::uint32_t max_header_bytes) {
  if (ec == http::error::body_limit) {
    return Error{
        ErrorCode::kPayloadTooLarge,
        fmt::format("the answer from {} exceeds the limit of {} bytes", peer, max_answer_bytes),
        {}};
  }
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return Error{ErrorCode::kPayloadTooLarge,
                 fmt::format("the header of the answer from {} exceeds the limit of {} bytes", peer,
                             max_header_bytes),
                 {}};
  }
  return std::nullopt;
}

HttpResponse responseOf(AnswerParser& parser) {
  auto res = parser.release();
  HttpResponse out;
  out.status = res.result_int();
  for (const auto& field : res) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = std::move(res.body());
  out.keep_alive = res.keep_alive();
  return out;
}

}  // namespace

Result<HttpResponse> parseHttpAnswer(std::string_view wire, const HttpClientOptions& options,
                                     std::string_view peer, bool head) {
  AnswerParser parser;
  limitParser(parser, options.max_answer_bytes, options.max_header_bytes, head);
  parser.eager(true);
  beast::error_code ec;
  std::size_t offset = 0;
  while (!parser.is_done()) {
    const std::size_t n = parser.put(asio::buffer(wire.data() + offset, wire.size() - offset), ec);
    offset += n;
    if (ec == http::error::need_more && n > 0 && offset < wire.size()) {
      ec = {};
      continue;
    }
    if (ec == http::error::need_more || (!ec && n == 0)) {
      // Everything was offered: the answer ends where the bytes end.
      ec = {};
      if (parser.got_some()) {
        parser.put_eof(ec);
      } else {
        ec = http::error::end_of_stream;  // nothing at all: no answer
      }
      break;
    }
    if (ec) break;
  }
  if (!ec && !parser.is_done()) ec = http::error::partial_message;
  if (ec) {
    if (auto e = limitError(ec, peer, options.max_answer_bytes, options.max_header_bytes)) {
      return *e;
    }
    return Error::unavailable(
        fmt::format("cannot read the answer from {}: {}", peer, ec.message()));
  }
  return responseOf(parser);
}

struct HttpConnection::State {
  std::string host;  // without brackets
  std::uint16_t port = 0;
  std::chrono::milliseconds timeout;
  bool tls = false;
  bool verify_tls = false;
  std::uint64_t max_answer_bytes = kDefaultMaxAnswerBytes;
  std::uint32_t max_header_bytes = kDefaultMaxHeaderBytes;
  std::string trusted_pem;
  std::string peer_fingerprint;  // of the open TLS connection
  asio::io_context ioc;
  std::optional<asio::ssl::context> ssl_context;  // created on the first TLS connect
  std::optional<beast::tcp_stream> stream;  // plain connections
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream;  // TLS connections
  beast::flat_buffer buffer;
  std::size_t connects = 0;

  bool isOpen() const { return stream.has_value() || tls_stream.has_value(); }

  beast::tcp_stream& tcp() { return tls_stream ? beast::get_lowest_layer(*tls_stream) : *stream; }

  void drop() {
    if (isOpen()) {
      beast::error_code ignored;
      tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    }
    stream.reset();
    tls_stream.reset();
  }

  std::string hostHeader() const {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }

  Error failure(const beast::error_code& ec, std::string_view what) const {
    std::string msg = std::string(what) + " " + hostHeader() + ": " + ec.message();
    if (ec == beast::error::timeout) return Error{ErrorCode::kTimeout, std::move(msg), {}};
    return Error::unavailable(std::move(msg));
  }

  Status prepareTls() {
    if (ssl_context) return okStatus();
    ssl_context.emplace(asio::ssl::context::tls_client);
    beast::error_code ec;
    if (verify_tls) {
      if (trusted_pem.empty()) {
        ssl_context->set_default_verify_paths(ec);
      } else {
        ssl_context->add_certificate_authority(asio::buffer(trusted_pem), ec);
      }
      if (ec) {
        ssl_context.reset();
        return Error::unavailable("cannot load the system's trusted certificates: " + ec.message());
      }
      ssl_context->set_verify_mode(asio::ssl::verify_peer);
    } else {
      ssl_context->set_verify_mode(asio::ssl::verify_none);
    }
    return okStatus();
  }

  Status connect() {
    drop();
    // The read buffer holds only what the parser has not taken yet (a header, a chunk header):
    // capped so that an endless line cannot grow it either.
    buffer = beast::flat_buffer(static_cast<std::size_t>(max_header_bytes) + 64 * 1024);
    if (tls) ATRIUM_TRY(prepareTls());
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return failure(ec, "cannot resolve");
    if (tls) {
      tls_stream.emplace(ioc, *ssl_context);
    } else {
      stream.emplace(ioc);
    }
    tcp().expires_after(timeout);
    beast::error_code connect_ec;
    tcp().async_connect(
        endpoints, [&connect_ec](beast::error_code e, const tcp::endpoint&) { connect_ec = e; });
    ioc.restart();
    ioc.run();
    if (connect_ec) {
      drop();
      return failure(connect_ec, "cannot connect to");
    }
    if (tls) ATRIUM_TRY(handshake());
    ++connects;
    return okStatus();
  }

  Status handshake() {
    beast::error_code addr_ec;
    asio::ip::make_address(host, addr_ec);
    bool is_name = static_cast<bool>(addr_ec);
    // Server Name Indication only for names (RFC 6066 forbids IP literals).
    if (is_name && !SSL_set_tlsext_host_name(tls_stream->native_handle(), host.c_str())) {
      drop();
      return Error::unavailable("cannot set the TLS server name for " + hostHeader());
    }
    if (verify_tls) tls_stream->set_verify_callback(asio::ssl::host_name_verification(host));
    beast::error_code ec;
    tls_stream->async_handshake(asio::ssl::stream_base::client,
                                [&ec](beast::error_code e) { ec = e; });
    ioc.restart();
    ioc.run();
    if (ec) {
      drop();
      return failure(ec, "TLS handshake failed with");
    }
    peer_fingerprint.clear();
    if (X509* peer = SSL_get1_peer_certificate(tls_stream->native_handle()); peer != nullptr) {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int n = 0;
      if (X509_digest(peer, EVP_sha256(), md, &n) == 1) {
        static constexpr char kDigits[] = "0123456789abcdef";
        for (unsigned int i = 0; i < n; ++i) {
          peer_fingerprint.push_back(kDigits[md[i] >> 4]);
          peer_fingerprint.push_back(kDigits[md[i] & 0xf]);
        }
      }
      X509_free(peer);
    }
    return okStatus();
  }

  // One exchange on the open stream. `retryable` is set when the request cannot have reached the
  // server's handler (the write failed, or the connection closed before any answer byte).
  Result<HttpResponse> exchange(http::request<http::string_body>& req, bool& retryable) {
    if (tls_stream) return exchangeOn(*tls_stream, req, retryable);
    return exchangeOn(*stream, req, retryable);
  }

  template <class Stream>
  Result<HttpResponse> exchangeOn(Stream& s, http::request<http::string_body>& req,
                                  bool& retryable) {
    retryable = false;
    beast::error_code ec;
    tcp().expires_after(timeout);
    http::async_write(s, req, [&ec](beast::error_code e, std::size_t) { ec = e; });
    ioc.restart();
    ioc.run();
    if (ec) {
      retryable = true;
      return failure(ec, "cannot send to");
    }
    AnswerParser parser;
    limitParser(parser, max_answer_bytes, max_header_bytes, req.method() == http::verb::head);
    http::async_read(s, buffer, parser, [&ec](beast::error_code e, std::size_t) { ec = e; });
    ioc.restart();
    ioc.run();
    if (ec) {
      if (auto e = limitError(ec, hostHeader(), max_answer_bytes, max_header_bytes)) {
        drop();  // the rest of the answer is not read: the connection cannot be reused
        return *e;
      }
      retryable = !parser.got_some() &&
                  (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                   ec == asio::ssl::error::stream_truncated);
      return failure(ec, "cannot read the answer from");
    }
    HttpResponse out = responseOf(parser);
    if (tls_stream) out.peer_certificate_sha256 = peer_fingerprint;
    if (!out.keep_alive) drop();
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

    bool reused = isOpen();
    if (!reused) ATRIUM_TRY(connect());
    bool retryable = false;
    auto result = exchange(req, retryable);
    if (!result.ok() && reused && retryable) {
      // The server had closed the idle keep-alive connection: retry once on a new one.
      ATRIUM_TRY(connect());
      result = exchange(req, retryable);
    }
    if (!result.ok()) drop();
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

Result<HttpResponse> HttpClient::request(std::string_view method, const std::string& host,
                                         std::uint16_t port, std::string_view target,
                                         std::string_view body, const Headers& headers,
                                         const HttpClientOptions& options) {
  HttpConnection::State state;
  state.host = stripBrackets(host);
  state.port = port;
  state.timeout = options.timeout;
  state.tls = options.tls;
  state.verify_tls = options.verify_tls;
  state.max_answer_bytes = options.max_answer_bytes;
  state.max_header_bytes = options.max_header_bytes;
  state.trusted_pem = options.trusted_pem;
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

void HttpConnection::close() { state_->drop(); }

}  // namespace atrium::net
