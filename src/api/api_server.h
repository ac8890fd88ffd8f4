// The REST API: an HttpServer whose handler routes each request, answers health, readiness and
// metrics on the network thread from cached state, and runs every store call on a dedicated
// database thread pool. A background checker keeps the database's readiness fresh.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/client_address.h"
#include "api/endpoints.h"
#include "api/metrics.h"
#include "api/router.h"
#include "api/token_signer.h"
#include "cluster/diagnostics.h"
#include "common/clock.h"
#include "common/result.h"
#include "net/http_server.h"
#include "ingest/event_sink.h"
#include "ingest/feedback_ingest.h"
#include "store/database.h"
#include "store/device_store.h"
#include "store/cluster_store.h"
#include "store/store.h"

namespace boost::asio {
class thread_pool;
}

namespace atrium::api {

struct ApiOptions {
  std::string host = "127.0.0.1";  // IPv4 or IPv6 literal (brackets allowed) or host name
  std::uint16_t port = 8080;       // 0: any free port; start() returns the one bound
  std::size_t max_body_bytes = 1024 * 1024;      // API requests
  std::size_t max_feedback_bytes = 1024 * 1024;  // POST /feedback/{secret}
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds read_timeout{30000};
  std::size_t network_threads = 2;
  std::size_t db_threads = 4;
  std::size_t max_connections = 0;  // open connections at most; 0: no cap
  // How often the database's writability is checked; faster while it is down.
  std::chrono::milliseconds ready_check_interval{1000};
  std::chrono::milliseconds ready_recheck_interval{250};
  std::string version = "unknown";  // atrium_build_info{version}
  // Load balancers whose X-Forwarded-For is believed (api.trusted_proxies): a request from one
  // of them is taken to come from the last address in that header (feedback's source address,
  // the default actor). Empty: the TCP peer, always.
  std::vector<std::string> trusted_proxies;
  // Host names the API answers to (api.allowed_hosts, with the node's own names added by the
  // node); a request whose Host is another name is refused. IP literals are always answered.
  std::vector<std::string> allowed_hosts;
  // /metrics without signing in (api.metrics_public); false: administrators only.
  bool metrics_public = true;
  // HTTPS on host:port with this pair (api.tls_cert, api.tls_key); none: plain HTTP.
  std::optional<net::TlsFiles> tls;
  // A second, plain-HTTP listener for feedback and probes only (api.device_listen).
  std::optional<std::pair<std::string, std::uint16_t>> device_listen;
};

class Authenticator;
class ClusterEndpoints;
class PeopleEndpoints;
class TaskEndpoints;

// Why a node whose database is fine should still not take traffic (a hot standby, a draining
// node): /readyz answers 503 {"error":{"code":code,"message":message}}.
struct NotReady {
  std::string code;
  std::string message;
};

class ApiServer final : public net::HttpHandler {
 public:
  ApiServer(ApiOptions options, store::Store& store, store::Database& db, const Clock& clock);
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;
  ~ApiServer() override;

  // Serves POST /feedback/{secret} through `feedback` and adds the sink's counters to /metrics.
  // Call before start(); without it /feedback answers 404.
  void attachIngest(ingest::FeedbackIngest& feedback, ingest::EventSink& sink);
  // Serves /api/v1/cluster/nodes (and promote/demote) from the node registry. Call before start().
  void attachCluster(store::ClusterStore& cluster, std::chrono::milliseconds failover_timeout);
  // Signs tokens at POST /api/v1/sessions and verifies `Authorization: Bearer` on every request
  // (401 when invalid; the token's subject becomes the audit actor). Call before start().
  void attachSessions(TokenSigner& signer);
  // Signs people in and out, serves users, groups and tokens, and authenticates every request to
  // a route that is not public. Call before start(); without it those routes answer 503.
  void attachPeople(std::unique_ptr<PeopleEndpoints> people, std::unique_ptr<Authenticator> authenticator);
  // Serves GET /api/v1/cluster/diagnostics. Call before start().
  void attachDiagnostics(cluster::Diagnostics& diagnostics);
  // Serves /api/v1/tasks (list, create, show with runs, cancel). Call before start(); without it
  // the task routes answer 404.
  void attachTasks(std::unique_ptr<TaskEndpoints> tasks);
  // Text appended to /metrics (the node's other components' metrics; called on a network thread).
  void setMetricsHook(std::function<std::string()> hook);
  // A readiness condition besides the database's (called on a network thread: keep it cheap).
  void setReadinessHook(std::function<std::optional<NotReady>()> hook);

  // Checks the database once, binds, listens and starts all threads. Returns the bound port.
  Result<std::uint16_t> start();
  // Stops accepting, finishes the requests in progress, stops all threads. Idempotent.
  void stop();
  // SIGHUP: reads the TLS pair again (see net::HttpServer::reloadTls). Without TLS: nothing.
  Status reloadTls();
  // The device listener's bound port; 0 without one.
  std::uint16_t devicePort() const;

  // True for an IP literal or one of the allowed host names (any thread).
  bool allowsHost(std::string_view host) const { return hostAllowed(host); }

  // net::HttpHandler: runs on a network thread.
  void handle(net::Request request, const net::RequestInfo& info, net::Respond respond) override;

 private:
  void readinessLoop();
  void checkReadiness();
  net::Response readyz() const;
  net::Response metrics() const;
  // The peer, or the client a trusted load balancer names in X-Forwarded-For.
  std::string clientAddress(const net::Request& request, const net::RequestInfo& info) const;
  bool hostAllowed(std::string_view host) const;

  void handleFeedback(net::Request request, const net::RequestInfo& info, std::string secret,
                      std::string route,
                      std::function<void(const std::string&, net::Response)> answer);

  ApiOptions options_;
  store::Database& db_;
  const Clock& clock_;
  store::DeviceStore devices_;
  Endpoints endpoints_;
  ingest::FeedbackIngest* feedback_ = nullptr;
  ingest::EventSink* sink_ = nullptr;
  std::unique_ptr<ClusterEndpoints> cluster_;
  std::unique_ptr<TaskEndpoints> tasks_;
  std::unique_ptr<PeopleEndpoints> people_;
  std::unique_ptr<Authenticator> authenticator_;
  std::set<std::string> allowed_hosts_;
  TokenSigner* signer_ = nullptr;
  cluster::Diagnostics* diagnostics_ = nullptr;
  std::function<std::optional<NotReady>()> readiness_hook_;
  std::function<std::string()> metrics_hook_;
  Router router_;
  TrustedProxies trusted_proxies_;
  Metrics metrics_;
  std::unique_ptr<boost::asio::thread_pool> db_pool_;
  std::unique_ptr<net::HttpServer> http_;
  std::unique_ptr<net::HttpHandler> device_handler_;
  std::unique_ptr<net::HttpServer> device_http_;

  mutable std::mutex ready_mu_;
  std::condition_variable ready_cv_;
  bool stop_ready_ = false;
  bool was_ready_ = false;
  Error last_db_error_{ErrorCode::kUnavailable, "not checked yet", {}};
  std::thread ready_thread_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace atrium::api
