// An asynchronous HTTP/1.1 server on Boost.Beast. Network threads only read, parse and hand each
// request to an HttpHandler; the handler answers through a completion callback that may be called
// from any thread (typically a database pool), and the server writes the answer on the
// connection's strand. Keep-alive, per-request body and header limits, a read timeout, graceful
// stop. Over plain TCP, or over TLS (HttpServerOptions::tls) with the same request handling; the
// certificate can be replaced while the server runs (reloadTls()).
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "net/tls_context.h"

namespace atrium::net {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// Delivers the answer to one request. Call it exactly once, from any thread.
using Respond = std::function<void(Response)>;

// What the server knows about a request besides the message itself.
struct RequestInfo {
  std::string remote_address;  // IP literal of the peer, IPv6 without brackets
  std::uint16_t remote_port = 0;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Called on a network thread: must not block. Answer now or later through `respond`.
  virtual void handle(Request request, const RequestInfo& info, Respond respond) = 0;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // IPv4 or IPv6 literal (brackets allowed), or a host name
  std::uint16_t port = 0;          // 0: any free port (see HttpServer::port())
  std::size_t threads = 2;
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  // How long a client may take to send a request (or stay idle between keep-alive requests).
  std::chrono::milliseconds read_timeout{30000};
  // How long writing one response may take.
  std::chrono::milliseconds write_timeout{30000};
  // How long stop() waits for requests in progress before closing their connections.
  std::chrono::milliseconds drain_timeout{5000};
  std::string server_name = "atrium";
  // Open connections at most (0: no cap). At the cap the server stops accepting until one
  // closes, and makes room by closing the longest-idle connection waiting for a request.
  std::size_t max_connections = 0;
  // After accept fails for lack of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) the
  // server waits before trying again: first this long, doubling up to accept_backoff_max.
  std::chrono::milliseconds accept_backoff_min{50};
  std::chrono::milliseconds accept_backoff_max{1000};
  // HTTPS with this certificate and key (TLS 1.2 at least); answers then carry
  // Strict-Transport-Security. None: plain HTTP.
  std::optional<TlsFiles> tls;
};

// The descriptors this process may open (RLIMIT_NOFILE's soft limit); 0 when unlimited or unknown.
std::uint64_t openFileLimit();
// The default connection cap: the descriptor limit less `reserve` (descriptors kept for the
// database pool, the spool, files and logs), never below 16; 0 (no cap) when `limit` is 0.
std::size_t connectionCapFor(std::uint64_t limit, std::size_t reserve);

class HttpSession;
template <class Stream>
class BasicHttpSession;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler& handler);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  // Binds, listens and starts the network threads. Returns the bound port.
  Result<std::uint16_t> start();
  // Stops accepting, closes idle connections, lets requests in progress finish (up to
  // drain_timeout), then stops the network threads. Idempotent.
  void stop();

  std::uint16_t port() const { return port_; }
  // "127.0.0.1:8080" or "[::1]:8080".
  std::string address() const;
  bool tls() const { return options_.tls.has_value(); }
  // Reads the TLS files again: new handshakes use the new pair, open connections keep theirs.
  // A pair that does not load is refused (logged) and the one in use stays.
  Status reloadTls();
  // SHA-256 of the certificate in use (hex); empty without TLS.
  std::string tlsFingerprint() const;

 private:
  friend class HttpSession;
  template <class Stream>
  friend class BasicHttpSession;
  void doAccept();
  void onAccept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);
  void waitForRoom();
  void makeRoom();
  bool evictLongestIdle();
  // One log line per second at most about refused accepts and evictions, with their counts.
  void reportPressure();
  void addSession(const std::shared_ptr<HttpSession>& session);
  void removeSession(HttpSession* session);
  bool stopping() const { return stopping_.load(); }

  HttpServerOptions options_;
  HttpHandler& handler_;
  mutable std::mutex tls_mu_;
  ServerTls tls_;  // guarded by tls_mu_; each connection holds the context it started with
  // Declared before the io_context: sessions still queued in it unregister on destruction.
  std::mutex mu_;
  std::condition_variable sessions_cv_;
  std::unordered_map<HttpSession*, std::weak_ptr<HttpSession>> sessions_;
  bool accept_paused_ = false;  // guarded by mu_: at the cap, doAccept() resumes on a close
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  // The rest is touched only on the acceptor's strand.
  boost::asio::steady_timer accept_timer_;
  std::chrono::milliseconds accept_backoff_{0};
  bool room_wait_pending_ = false;
  std::uint64_t accept_failures_ = 0;  // since the last report
  std::uint64_t evictions_ = 0;        // since the last report
  std::uint64_t cap_pauses_ = 0;       // since the last report
  std::string last_accept_error_;
  std::chrono::steady_clock::time_point last_report_{};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
      work_guard_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
};

// The JSON error shape every failure uses: {"error":{"code":...,"message":...,"field":...}}
// (field only when non-empty). Shared with the API so that the server's own answers (413, 400)
// look like the handlers' ones.
std::string jsonErrorBody(std::string_view code, std::string_view message,
                          std::string_view field = {});

}  // namespace atrium::net
