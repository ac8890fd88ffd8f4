// A small synchronous HTTP/1.1 client on Boost.Beast, for the CLI, the tests and the device
// drivers. HttpClient opens one connection per request, over plain TCP or TLS (OpenSSL);
// HttpConnection keeps one connection open across requests (benchmarks, keep-alive tests) and
// reconnects when the server has closed it. Helpers for Basic authentication and session cookies.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace atrium::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  unsigned status = 0;
  Headers headers;  // in the order received
  std::string body;
  bool keep_alive = false;  // the server left the connection open
  // Over TLS: SHA-256 of the certificate the server presented (DER, lowercase hex).
  std::string peer_certificate_sha256;

  // The first header with this name (case-insensitive), if any.
  std::optional<std::string> header(std::string_view name) const;
  // Every header with this name (case-insensitive), in order (Set-Cookie comes several times).
  std::vector<std::string> headerValues(std::string_view name) const;
};

inline constexpr std::chrono::milliseconds kDefaultHttpTimeout{10000};
// What the client reads of one answer at most. A peer that announces or sends more (a huge
// Content-Length, an endless chunked body, an endless header) gets a kPayloadTooLarge error
// instead of the client's memory.
inline constexpr std::uint64_t kDefaultMaxAnswerBytes = 16 * 1024 * 1024;  // body
inline constexpr std::uint32_t kDefaultMaxHeaderBytes = 64 * 1024;         // status line + fields

struct HttpClientOptions {
  std::chrono::milliseconds timeout = kDefaultHttpTimeout;
  std::uint64_t max_answer_bytes = kDefaultMaxAnswerBytes;
  std::uint32_t max_header_bytes = kDefaultMaxHeaderBytes;
  bool tls = false;  // HTTPS
  // Check the server's certificate chain against the system's trust store and its name against
  // the host. Off by default: managed systems mostly carry self-signed certificates.
  bool verify_tls = false;
  // With verify_tls: trust these PEM certificates instead of the system's trust store.
  std::string trusted_pem;
};

// "Basic <base64(user:password)>", the value of an Authorization header (RFC 7617).
std::string basicAuthorization(std::string_view user, std::string_view password);

// The cookies a response sets ("name=value" of each Set-Cookie, attributes dropped), joined as
// the value of a Cookie header ("a=1; b=2"); empty when it sets none.
std::string cookiesFrom(const HttpResponse& response);

// Parses one complete answer held in memory exactly as the client parses what it reads from a
// socket (the same parser settings, limits and errors); `peer` ("host:port") names the server in
// messages, `head` says the request was a HEAD (no body follows). Bytes after the answer are
// ignored; an answer cut short is an error. For the fuzzer and tests.
Result<HttpResponse> parseHttpAnswer(std::string_view wire, const HttpClientOptions& options,
                                     std::string_view peer = "the server", bool head = false);

class HttpClient {
 public:
  // Sends one request on a new connection and reads the answer. `method` is e.g. "GET";
  // `host` an IP literal (IPv6 with or without brackets) or a name. Fails with kUnavailable when
  // the server cannot be reached, kTimeout when the whole exchange takes longer than `timeout`.
  // A Content-Type of application/json is sent with a non-empty body unless `headers` has one.
  Result<HttpResponse> request(std::string_view method, const std::string& host, std::uint16_t port,
                               std::string_view target, std::string_view body = {},
                               const Headers& headers = {},
                               std::chrono::milliseconds timeout = kDefaultHttpTimeout);
  // The same with TLS options. TLS failures (handshake, certificate) are kUnavailable.
  Result<HttpResponse> request(std::string_view method, const std::string& host, std::uint16_t port,
                               std::string_view target, std::string_view body,
                               const Headers& headers, const HttpClientOptions& options);
};

class HttpConnection {
 public:
  HttpConnection(std::string host, std::uint16_t port,
                 std::chrono::milliseconds timeout = kDefaultHttpTimeout);
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;
  ~HttpConnection();

  // Sends a request on the open connection (connecting first if needed).
  Result<HttpResponse> request(std::string_view method, std::string_view target,
                               std::string_view body = {}, const Headers& headers = {});
  // How many TCP connections this object has opened so far.
  std::size_t connects() const;
  void close();

 private:
  friend class HttpClient;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace atrium::net
