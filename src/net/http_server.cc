#include "net/http_server.h"

#include <poll.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>
#include <utility>

#include "common/log.h"

namespace atrium::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// After an error answer that closes the connection, how long and how much of the rest of the
// request we read and discard, so that the client sees the answer instead of a reset.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 8 * 1024 * 1024;

// How long an eviction waits before looking again when no connection was idle.
constexpr auto kEvictRetry = std::chrono::milliseconds(100);
// Refused accepts and evictions are reported at most this often.
constexpr auto kPressureReportInterval = std::chrono::seconds(1);

std::string bracketed(const asio::ip::address& a) {
  return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
}

// Accept failed for lack of descriptors or memory: retrying at once would fail again at once.
bool resourceExhausted(const beast::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

std::int64_t monotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::uint64_t openFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<std::uint64_t>(limit.rlim_cur);
}

std::size_t connectionCapFor(std::uint64_t limit, std::size_t reserve) {
  constexpr std::uint64_t kFloor = 16;
  if (limit == 0) return 0;
  const std::uint64_t cap = limit > reserve + kFloor ? limit - reserve : kFloor;
  return static_cast<std::size_t>(
      std::min<std::uint64_t>(cap, std::numeric_limits<std::size_t>::max()));
}

std::string jsonErrorBody(std::string_view code, std::string_view message, std::string_view field) {
  nlohmann::json err = {{"code", code}, {"message", message}};
  if (!field.empty()) err["field"] = field;
  nlohmann::json body = {{"error", std::move(err)}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// One connection, as the server sees it (to close it on stop, to evict it at the cap).
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  explicit HttpSession(HttpServer& server) : server_(server) {}
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;
  virtual ~HttpSession() { server_.removeSession(this); }

  virtual void start() = 0;
  // On stop: close now unless a request is being answered (that one closes after its answer).
  virtual void closeIfIdle(bool force) = 0;
  // Since when (monotonic ns) the connection waits for a request; -1 while it reads or answers
  // one. Read from any thread to choose what to evict.
  std::int64_t idleSince() const { return idle_since_.load(); }
  // Closes the connection if it still waits for a request since `idle_since` (the server needs
  // the room for a new one).
  virtual void evictIfIdle(std::int64_t idle_since) = 0;

 protected:
  HttpServer& server_;
  std::atomic<std::int64_t> idle_since_{-1};
};

// The request handling, once for both streams: beast::tcp_stream (HTTP) and
// beast::ssl_stream<beast::tcp_stream> (HTTPS). Every member is touched only on the connection's
// strand.
template <class Stream>
class BasicHttpSession final : public HttpSession {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  BasicHttpSession(HttpServer& server, tcp::socket socket,
                   std::shared_ptr<asio::ssl::context> tls_context)
      : HttpSession(server),
        tls_context_(std::move(tls_context)),
        stream_(makeStream(std::move(socket))) {
    beast::error_code ec;
    auto ep = tcpStream().socket().remote_endpoint(ec);
    if (!ec) {
      info_.remote_address = ep.address().to_string();
      info_.remote_port = ep.port();
    }
  }

  void start() override {
    asio::dispatch(stream_.get_executor(), [self = shared()] {
      if constexpr (kTls) {
        self->handshake();
      } else {
        self->doRead();
      }
    });
  }

  void closeIfIdle(bool force) override {
    asio::post(stream_.get_executor(), [self = shared(), force] {
      if (!self->busy_ || force) self->closeNow();
    });
  }

  void evictIfIdle(std::int64_t idle_since) override {
    asio::post(stream_.get_executor(), [self = shared(), idle_since] {
      if (self->idle_since_.load() == idle_since) self->closeNow();
    });
  }

 private:
  std::shared_ptr<BasicHttpSession> shared() {
    return std::static_pointer_cast<BasicHttpSession>(shared_from_this());
  }

  Stream makeStream(tcp::socket socket) {
    if constexpr (kTls) {
      return Stream(beast::tcp_stream(std::move(socket)), *tls_context_);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& tcpStream() { return beast::get_lowest_layer(stream_); }

  void handshake() {
    idle_since_ = monotonicNs();
    tcpStream().expires_after(server_.options_.read_timeout);
    stream_.async_handshake(
        asio::ssl::stream_base::server, [self = shared()](beast::error_code ec) {
          if (ec) {
            // Plain HTTP on the HTTPS port, an untrusting client, a scanner: nothing to answer.
            log::debug("http.tls_handshake_failed",
                       {{"remote", self->info_.remote_address}, {"detail", ec.message()}});
            self->closeNow();
            return;
          }
          self->doRead();
        });
  }

  void doRead() {
    if (server_.stopping()) {
      closeNow();
      return;
    }
    idle_since_ = monotonicNs();
    parser_.emplace();
    parser_->body_limit(server_.options_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(server_.options_.max_header_bytes));
    tcpStream().expires_after(server_.options_.read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&BasicHttpSession::onRead, shared()));
  }

  void onRead(beast::error_code ec, std::size_t /*bytes*/) {
    idle_since_ = -1;
    head_ = false;
    if (ec) {
      if (ec == http::error::body_limit) {
        sendErrorAndClose(http::status::payload_too_large, "payload_too_large",
                          "request body exceeds the limit of " +
                              std::to_string(server_.options_.max_body_bytes) + " bytes");
      } else if (ec == http::error::header_limit) {
        sendErrorAndClose(http::status::request_header_fields_too_large, "headers_too_large",
                          "request headers exceed the limit of " +
                              std::to_string(server_.options_.max_header_bytes) + " bytes");
      } else if (ec.category() == http::make_error_code(http::error::body_limit).category() &&
                 ec != http::error::end_of_stream && ec != http::error::partial_message) {
        sendErrorAndClose(http::status::bad_request, "invalid_argument",
                          "malformed HTTP request: " + ec.message());
      } else {
        // end_of_stream, timeout, reset, aborted by stop: nothing to answer.
        if (ec == beast::error::timeout) {
          log::debug("http.read_timeout", {{"remote", info_.remote_address}});
        }
        closeNow();
      }
      return;
    }
    Request req = parser_->release();
    parser_.reset();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    head_ = req.method() == http::verb::head;
    busy_ = true;
    tcpStream().expires_never();
    auto self = shared();
    Respond respond = [self](Response res) {
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(res)]() mutable { self->write(std::move(r)); });
    };
    try {
      server_.handler_.handle(std::move(req), info_, std::move(respond));
    } catch (const std::exception& e) {
      log::error("http.error", {{"detail", std::string("handler threw: ") + e.what()}});
      Response res{http::status::internal_server_error, version_};
      res.set(http::field::content_type, "application/json");
      res.body() = jsonErrorBody("internal", "internal error");
      write(std::move(res));
    }
  }

  void write(Response res) {
    if (closed_) return;
    busy_ = true;
    bool keep = keep_alive_ && !server_.stopping() && res.keep_alive();
    res.version(version_);
    res.keep_alive(keep);
    res.set(http::field::server, server_.options_.server_name);
    if constexpr (kTls) res.set(http::field::strict_transport_security, "max-age=31536000");
    res.prepare_payload();
    if (head_) {
      // HEAD: the GET answer's status and headers (Content-Length included), without the body.
      const auto length = res.body().size();
      res.body().clear();
      if (res.result_int() >= 200 && res.result_int() != 204 && res.result_int() != 304) {
        res.content_length(length);
      }
    }
    res_ = std::make_shared<Response>(std::move(res));
    tcpStream().expires_after(server_.options_.write_timeout);
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&BasicHttpSession::onWrite, shared(), keep));
  }

  void onWrite(bool keep, beast::error_code ec, std::size_t /*bytes*/) {
    res_.reset();
    busy_ = false;
    if (ec) {
      closeNow();
      return;
    }
    if (!keep) {
      lingerClose();
      return;
    }
    doRead();
  }

  void sendErrorAndClose(http::status status, std::string_view code, const std::string& message) {
    keep_alive_ = false;
    Response res{status, version_};
    res.set(http::field::content_type, "application/json");
    res.body() = jsonErrorBody(code, message);
    write(std::move(res));
  }

  // Half-closes, then reads and discards what the client still sends (up to a limit and a
  // deadline) so that it reads our answer instead of a connection reset.
  void lingerClose() {
    if constexpr (kTls) {
      // TLS: say close_notify (bounded by the linger time), then close.
      tcpStream().expires_after(kLingerTime);
      stream_.async_shutdown([self = shared()](beast::error_code) { self->closeNow(); });
      return;
    }
    beast::error_code ec;
    tcpStream().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      closeNow();
      return;
    }
    tcpStream().expires_after(kLingerTime);
    drainSome();
  }

  void drainSome() {
    tcpStream().async_read_some(asio::buffer(drain_buf_),
                                [self = shared()](beast::error_code ec, std::size_t n) {
                                  self->drained_ += n;
                                  if (ec || self->drained_ > kLingerBytes) {
                                    self->closeNow();
                                    return;
                                  }
                                  self->drainSome();
                                });
  }

  void closeNow() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    tcpStream().socket().shutdown(tcp::socket::shutdown_both, ec);
    tcpStream().close();
  }

  std::shared_ptr<asio::ssl::context> tls_context_;  // before stream_, which uses it
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> res_;
  RequestInfo info_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;
  bool busy_ = false;
  bool closed_ = false;
  std::array<char, 16 * 1024> drain_buf_{};
  std::size_t drained_ = 0;
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler& handler)
    : options_(std::move(options)),
      handler_(handler),
      acceptor_(asio::make_strand(ioc_)),
      accept_timer_(acceptor_.get_executor()) {}

HttpServer::~HttpServer() { stop(); }

std::string HttpServer::address() const {
  beast::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  if (ec) return options_.host + ":" + std::to_string(port_);
  return bracketed(ep.address()) + ":" + std::to_string(ep.port());
}

Result<std::uint16_t> HttpServer::start() {
  if (started_.exchange(true)) return Error::internal("HTTP server started twice");
  if (options_.tls) {
    auto loaded = loadServerTls(*options_.tls);
    if (!loaded) {
      started_ = false;
      return loaded.error();
    }
    tls_ = std::move(*loaded);
  }
  std::string host = options_.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  beast::error_code ec;
  tcp::endpoint endpoint;
  auto addr = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(addr, options_.port);
  } else {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(host, std::to_string(options_.port), ec);
    if (ec || results.empty()) {
      started_ = false;
      return Error::invalid("cannot resolve listen host \"" + host + "\": " + ec.message(), "host");
    }
    endpoint = results.begin()->endpoint();
  }
  std::string where = bracketed(endpoint.address()) + ":" + std::to_string(options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor_.close(ignored);
    started_ = false;
    return Error::unavailable("cannot listen on " + where + ": " + ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  log::info("http.listening", {{"address", address()},
                               {"scheme", options_.tls ? "https" : "http"},
                               {"certificate_sha256", tlsFingerprint()},
                               {"max_connections", options_.max_connections}});

  doAccept();
  work_guard_.emplace(ioc_.get_executor());
  std::size_t n = options_.threads == 0 ? 1 : options_.threads;
  for (std::size_t i = 0; i < n; ++i) {
    threads_.emplace_back([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          log::error("http.error", {{"detail", std::string("network thread: ") + e.what()}});
        }
      }
    });
  }
  return port_;
}

Status HttpServer::reloadTls() {
  if (!options_.tls)
    return Error::invalid("this listener serves plain HTTP: there is no certificate to reload");
  auto loaded = loadServerTls(*options_.tls);
  if (!loaded) {
    log::error("http.tls_reload_refused",
               {{"address", address()},
                {"reason", loaded.error().message},
                {"certificate_sha256", tlsFingerprint()},
                {"hint", "the certificate in use stays; fix the files and send SIGHUP again"}});
    return loaded.error();
  }
  std::string previous;
  {
    std::lock_guard lock(tls_mu_);
    previous = tls_.fingerprint;
    tls_ = std::move(*loaded);
  }
  log::info("http.tls_reloaded", {{"address", address()},
                                  {"certificate_sha256", tlsFingerprint()},
                                  {"previous_sha256", previous}});
  return okStatus();
}

std::string HttpServer::tlsFingerprint() const {
  std::lock_guard lock(tls_mu_);
  return tls_.fingerprint;
}

void HttpServer::doAccept() {
  if (stopping() || !acceptor_.is_open()) return;
  bool paused = false;
  if (options_.max_connections > 0) {
    std::lock_guard lock(mu_);
    if (sessions_.size() >= options_.max_connections) {
      // removeSession() calls doAccept() again once a connection closes.
      if (!accept_paused_) ++cap_pauses_;
      accept_paused_ = true;
      paused = true;
    }
  }
  if (paused) {
    waitForRoom();
    return;
  }
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    onAccept(ec, std::move(socket));
  });
}

void HttpServer::onAccept(beast::error_code ec, tcp::socket socket) {
  if (ec) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    ++accept_failures_;
    last_accept_error_ = ec.message();
    if (resourceExhausted(ec)) {
      // Out of descriptors or memory: free what an idle connection holds, and try again later
      // instead of at once (which would spin and fail again).
      accept_backoff_ = accept_backoff_.count() == 0
                            ? options_.accept_backoff_min
                            : std::min(accept_backoff_ * 2, options_.accept_backoff_max);
      evictLongestIdle();
      reportPressure();
      accept_timer_.expires_after(accept_backoff_);
      accept_timer_.async_wait([this](beast::error_code timer_ec) {
        if (!timer_ec) doAccept();
      });
      return;
    }
    reportPressure();
  } else {
    if (accept_backoff_.count() > 0) {
      accept_backoff_ = std::chrono::milliseconds(0);
      reportPressure();
    }
    if (!stopping()) {
      std::shared_ptr<HttpSession> session;
      if (options_.tls) {
        std::shared_ptr<asio::ssl::context> context;
        {
          std::lock_guard lock(tls_mu_);
          context = tls_.context;
        }
        session = std::make_shared<BasicHttpSession<beast::ssl_stream<beast::tcp_stream>>>(
            *this, std::move(socket), std::move(context));
      } else {
        session = std::make_shared<BasicHttpSession<beast::tcp_stream>>(*this, std::move(socket),
                                                                        nullptr);
      }
      addSession(session);
      session->start();
    }
  }
  doAccept();
}

void HttpServer::waitForRoom() {
  reportPressure();
  // A connection already waits in the backlog: make room for it now. Otherwise wait for one to
  // arrive (the reactor only signals new arrivals, not those already queued).
  pollfd listening{acceptor_.native_handle(), POLLIN, 0};
  if (::poll(&listening, 1, 0) > 0 && (listening.revents & POLLIN) != 0) {
    makeRoom();
    return;
  }
  if (room_wait_pending_) return;
  room_wait_pending_ = true;
  acceptor_.async_wait(tcp::acceptor::wait_read, [this](beast::error_code ec) {
    room_wait_pending_ = false;
    if (ec || stopping() || !acceptor_.is_open()) return;
    {
      std::lock_guard lock(mu_);
      if (!accept_paused_) return;
    }
    makeRoom();
  });
}

void HttpServer::makeRoom() {
  if (evictLongestIdle()) return;  // its close resumes accepting (removeSession)
  // Every connection is busy: look again shortly (a close resumes accepting before that).
  accept_timer_.expires_after(kEvictRetry);
  accept_timer_.async_wait([this](beast::error_code timer_ec) {
    if (timer_ec || stopping()) return;
    bool paused = false;
    {
      std::lock_guard lock(mu_);
      paused = accept_paused_;
    }
    if (paused) waitForRoom();
  });
}

bool HttpServer::evictLongestIdle() {
  // Only weak references under the lock: a session's last owner may not release it there (its
  // destructor takes the lock, in removeSession).
  std::weak_ptr<HttpSession> candidate;
  std::int64_t oldest_since = -1;
  {
    std::lock_guard lock(mu_);
    for (auto& [ptr, weak] : sessions_) {
      const std::int64_t since = ptr->idleSince();
      if (since < 0 || (oldest_since >= 0 && since >= oldest_since)) continue;
      candidate = weak;
      oldest_since = since;
    }
  }
  auto oldest = candidate.lock();
  if (!oldest) return false;
  oldest->evictIfIdle(oldest_since);
  ++evictions_;
  return true;
}

void HttpServer::reportPressure() {
  if (accept_failures_ == 0 && evictions_ == 0 && cap_pauses_ == 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_report_ < kPressureReportInterval) return;
  last_report_ = now;
  std::size_t open = 0;
  {
    std::lock_guard lock(mu_);
    open = sessions_.size();
  }
  log::warn("http.accept_pressure", {{"accept_failures", accept_failures_},
                                     {"last_error", last_accept_error_},
                                     {"evicted_idle", evictions_},
                                     {"cap_reached", cap_pauses_},
                                     {"open_connections", open},
                                     {"max_connections", options_.max_connections},
                                     {"backoff_ms", accept_backoff_.count()}});
  accept_failures_ = 0;
  evictions_ = 0;
  cap_pauses_ = 0;
}

void HttpServer::addSession(const std::shared_ptr<HttpSession>& session) {
  std::lock_guard lock(mu_);
  sessions_[session.get()] = session;
}

void HttpServer::removeSession(HttpSession* session) {
  std::lock_guard lock(mu_);
  sessions_.erase(session);
  sessions_cv_.notify_all();
  if (accept_paused_ && sessions_.size() < options_.max_connections && !stopping()) {
    accept_paused_ = false;
    asio::post(acceptor_.get_executor(), [this] { doAccept(); });
  }
}

void HttpServer::stop() {
  if (!started_.load() || stopping_.exchange(true)) return;
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    accept_timer_.cancel();
    acceptor_.close(ec);
  });
  auto closeAll = [this](bool force) {
    std::vector<std::shared_ptr<HttpSession>> live;
    {
      std::lock_guard lock(mu_);
      for (auto& [ptr, weak] : sessions_) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) s->closeIfIdle(force);
  };
  closeAll(false);
  {
    std::unique_lock lock(mu_);
    sessions_cv_.wait_for(lock, options_.drain_timeout, [this] { return sessions_.empty(); });
  }
  closeAll(true);
  work_guard_.reset();
  ioc_.stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  log::info("http.stopped", {{"port", port_}});
}

}  // namespace atrium::net
