#include "api/api_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <algorithm>
#include <exception>
#include <iterator>
#include <utility>

#include "api/authenticator.h"
#include "api/cluster_endpoints.h"
#include "api/people_endpoints.h"
#include "api/device_listener.h"
#include "api/errors.h"
#include "api/query.h"
#include "api/session_endpoints.h"
#include "api/task_endpoints.h"
#include "api/validation.h"
#include "common/log.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace atrium::api {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

constexpr std::string_view kUnmatchedRoute = "unmatched";

// Who may call a route. Device-facing routes check the system's own secret instead.
enum class Guard {
  kPublic,          // the probes, signing in
  kMetrics,         // public unless api.metrics_public = false (then administration)
  kDevice,          // /feedback/{secret}
  kSignedIn,        // any signed-in user
  kSystemsRead,
  kSystemsEdit,
  kAdministration,
};

struct RouteDef {
  std::string_view method;
  std::string_view pattern;
  Endpoint endpoint;
  bool has_body;
  Guard guard;
};

using G = Guard;

// Every route the API serves; the router's ids are indexes into this table.
constexpr RouteDef kRoutes[] = {
    {"GET", "/healthz", Endpoint::kHealthz, false, G::kPublic},
    {"GET", "/readyz", Endpoint::kReadyz, false, G::kPublic},
    {"GET", "/metrics", Endpoint::kMetrics, false, G::kMetrics},
    {"GET", "/api/v1/installation", Endpoint::kInstallation, false, G::kSignedIn},
    {"GET", "/api/v1/systems", Endpoint::kListSystems, false, G::kSystemsRead},
    {"POST", "/api/v1/systems", Endpoint::kCreateSystem, true, G::kSystemsEdit},
    {"GET", "/api/v1/systems/{id}", Endpoint::kGetSystem, false, G::kSystemsRead},
    {"PATCH", "/api/v1/systems/{id}", Endpoint::kPatchSystem, true, G::kSystemsEdit},
    {"DELETE", "/api/v1/systems/{id}", Endpoint::kDeleteSystem, false, G::kSystemsEdit},
    {"POST", "/api/v1/systems/{id}/move", Endpoint::kMoveSystem, true, G::kSystemsEdit},
    {"GET", "/api/v1/folders", Endpoint::kListFolders, false, G::kSystemsRead},
    {"POST", "/api/v1/folders", Endpoint::kCreateFolder, true, G::kSystemsEdit},
    {"GET", "/api/v1/folders/{id}", Endpoint::kGetFolder, false, G::kSystemsRead},
    {"PATCH", "/api/v1/folders/{id}", Endpoint::kPatchFolder, true, G::kSystemsEdit},
    {"DELETE", "/api/v1/folders/{id}", Endpoint::kDeleteFolder, false, G::kSystemsEdit},
    {"GET", "/api/v1/audit", Endpoint::kAudit, false, G::kAdministration},
    {"GET", "/api/v1/events", Endpoint::kListEvents, false, G::kSystemsRead},
    {"GET", "/api/v1/systems/{id}/events", Endpoint::kSystemEvents, false, G::kSystemsRead},
    {"GET", "/api/v1/calls", Endpoint::kListCalls, false, G::kSystemsRead},
    {"GET", "/api/v1/systems/{id}/calls", Endpoint::kSystemCalls, false, G::kSystemsRead},
    {"GET", "/api/v1/tickets", Endpoint::kListTickets, false, G::kSystemsRead},
    {"POST", "/api/v1/tickets/{id}/acknowledge", Endpoint::kAcknowledgeTicket, false, G::kSystemsEdit},
    {"GET", "/api/v1/settings/server-addresses", Endpoint::kGetServerAddresses, false, G::kSignedIn},
    {"PUT", "/api/v1/settings/server-addresses", Endpoint::kPutServerAddresses, true, G::kAdministration},
    {"GET", "/api/v1/settings/software-versions", Endpoint::kGetSoftwareVersions, false, G::kSignedIn},
    {"PUT", "/api/v1/settings/software-versions", Endpoint::kPutSoftwareVersions, true, G::kAdministration},
    {"GET", "/api/v1/cluster/nodes", Endpoint::kClusterNodes, false, G::kSignedIn},
    {"POST", "/api/v1/cluster/nodes/{id}/promote", Endpoint::kPromoteNode, false, G::kAdministration},
    {"POST", "/api/v1/cluster/nodes/{id}/demote", Endpoint::kDemoteNode, false, G::kAdministration},
    {"GET", "/api/v1/cluster/diagnostics", Endpoint::kClusterDiagnostics, false, G::kSignedIn},
    {"GET", "/api/v1/tasks", Endpoint::kListTasks, false, G::kAdministration},
    {"POST", "/api/v1/tasks", Endpoint::kCreateTask, true, G::kAdministration},
    {"GET", "/api/v1/tasks/{id}", Endpoint::kGetTask, false, G::kAdministration},
    {"DELETE", "/api/v1/tasks/{id}", Endpoint::kCancelTask, false, G::kAdministration},
    {"POST", "/api/v1/sessions", Endpoint::kCreateSession, true, G::kPublic},
    {"GET", "/api/v1/sessions/current", Endpoint::kCurrentSession, false, G::kSignedIn},
    {"DELETE", "/api/v1/sessions/current", Endpoint::kEndCurrentSession, false, G::kSignedIn},
    {"DELETE", "/api/v1/sessions/{id}", Endpoint::kRevokeSession, false, G::kAdministration},
    {"GET", "/api/v1/users", Endpoint::kListUsers, false, G::kAdministration},
    {"POST", "/api/v1/users", Endpoint::kCreateUser, true, G::kAdministration},
    {"GET", "/api/v1/users/{id}", Endpoint::kGetUser, false, G::kAdministration},
    {"PATCH", "/api/v1/users/{id}", Endpoint::kPatchUser, true, G::kAdministration},
    {"PUT", "/api/v1/users/{id}/password", Endpoint::kSetUserPassword, true, G::kAdministration},
    {"PUT", "/api/v1/me/password", Endpoint::kChangeOwnPassword, true, G::kSignedIn},
    {"GET", "/api/v1/groups", Endpoint::kListGroups, false, G::kAdministration},
    {"POST", "/api/v1/groups", Endpoint::kCreateGroup, true, G::kAdministration},
    {"GET", "/api/v1/groups/{id}", Endpoint::kGetGroup, false, G::kAdministration},
    {"PATCH", "/api/v1/groups/{id}", Endpoint::kPatchGroup, true, G::kAdministration},
    {"DELETE", "/api/v1/groups/{id}", Endpoint::kDeleteGroup, false, G::kAdministration},
    {"PUT", "/api/v1/groups/{id}/members/{user}", Endpoint::kAddGroupMember, false, G::kAdministration},
    {"DELETE", "/api/v1/groups/{id}/members/{user}", Endpoint::kRemoveGroupMember, false, G::kAdministration},
    {"GET", "/api/v1/tokens", Endpoint::kListTokens, false, G::kSignedIn},
    {"POST", "/api/v1/tokens", Endpoint::kCreateToken, true, G::kSignedIn},
    {"DELETE", "/api/v1/tokens/{id}", Endpoint::kRevokeToken, false, G::kSignedIn},
    // What systems post to (any content type; Cisco sends text/xml).
    {"POST", "/feedback/{secret}", Endpoint::kFeedback, false, G::kDevice},
};

// The permission a guard asks for, if any.
std::optional<people::Permission> permissionFor(Guard g) {
  switch (g) {
    case Guard::kSystemsRead: return people::Permission::kSystemsRead;
    case Guard::kSystemsEdit: return people::Permission::kSystemsEdit;
    case Guard::kAdministration:
    case Guard::kMetrics: return people::Permission::kAdministration;
    default: return std::nullopt;
  }
}

bool isIpLiteral(std::string_view host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(host), ec);
  return !ec;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// An error answer; a 401 also names the scheme (WWW-Authenticate).
net::Response unauthorizedResponse(const Error& error) {
  auto res = errorResponse(error);
  if (error.code == ErrorCode::kUnauthorized) res.set(http::field::www_authenticate, "Bearer error=\"invalid_token\"");
  return res;
}

// True for "application/json" with optional parameters ("; charset=utf-8"), any case.
bool isJsonContentType(std::string_view value) {
  auto semi = value.find(';');
  std::string_view type = value.substr(0, semi);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return boost::beast::iequals(type, "application/json");
}

}  // namespace

ApiServer::ApiServer(ApiOptions options, store::Store& store, store::Database& db,
                     const Clock& clock)
    : options_(std::move(options)),
      db_(db),
      clock_(clock),
      devices_(db, clock),
      endpoints_(store, devices_) {
  trusted_proxies_ = TrustedProxies(options_.trusted_proxies);
  for (const auto& h : options_.allowed_hosts) allowed_hosts_.insert(lower(hostOnly(h)));
  for (std::size_t i = 0; i < std::size(kRoutes); ++i) {
    router_.add(std::string(kRoutes[i].method), std::string(kRoutes[i].pattern),
                static_cast<int>(i));
  }
}

ApiServer::~ApiServer() { stop(); }

void ApiServer::attachIngest(ingest::FeedbackIngest& feedback, ingest::EventSink& sink) {
  feedback_ = &feedback;
  sink_ = &sink;
}

void ApiServer::attachCluster(store::ClusterStore& cluster, std::chrono::milliseconds failover_timeout) {
  cluster_ = std::make_unique<ClusterEndpoints>(cluster, failover_timeout);
}

void ApiServer::attachSessions(TokenSigner& signer) { signer_ = &signer; }

void ApiServer::attachPeople(std::unique_ptr<PeopleEndpoints> people, std::unique_ptr<Authenticator> authenticator) {
  people_ = std::move(people);
  authenticator_ = std::move(authenticator);
}

void ApiServer::attachDiagnostics(cluster::Diagnostics& diagnostics) { diagnostics_ = &diagnostics; }

void ApiServer::attachTasks(std::unique_ptr<TaskEndpoints> tasks) { tasks_ = std::move(tasks); }

void ApiServer::setReadinessHook(std::function<std::optional<NotReady>()> hook) { readiness_hook_ = std::move(hook); }

void ApiServer::setMetricsHook(std::function<std::string()> hook) {
  metrics_hook_ = std::move(hook);
}

Result<std::uint16_t> ApiServer::start() {
  if (started_) return Error::internal("API server started twice");
  started_ = true;
  checkReadiness();
  db_pool_ =
      std::make_unique<asio::thread_pool>(options_.db_threads == 0 ? 1 : options_.db_threads);
  net::HttpServerOptions http_options;
  http_options.host = options_.host;
  http_options.port = options_.port;
  http_options.threads = options_.network_threads;
  http_options.max_body_bytes = std::max(options_.max_body_bytes, options_.max_feedback_bytes);
  http_options.max_header_bytes = options_.max_header_bytes;
  http_options.read_timeout = options_.read_timeout;
  http_options.max_connections = options_.max_connections;
  http_options.tls = options_.tls;
  net::HttpServerOptions device_options = http_options;
  http_ = std::make_unique<net::HttpServer>(std::move(http_options), *this);
  auto port = http_->start();
  if (!port.ok()) {
    db_pool_->join();
    return port.error();
  }
  if (options_.device_listen) {
    device_options.host = options_.device_listen->first;
    device_options.port = options_.device_listen->second;
    device_options.tls.reset();
    device_handler_ = std::make_unique<DeviceListenerHandler>(*this);
    device_http_ = std::make_unique<net::HttpServer>(std::move(device_options), *device_handler_);
    if (auto device_port = device_http_->start(); !device_port.ok()) {
      http_->stop();
      db_pool_->join();
      return Error::invalid("api.device_listen: " + device_port.error().message,
                            "api.device_listen");
    }
  }
  ready_thread_ = std::thread([this] { readinessLoop(); });
  return port;
}

void ApiServer::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  // Requests in progress finish on the database pool and are answered while the server drains.
  if (device_http_) device_http_->stop();
  if (http_) http_->stop();
  if (db_pool_) db_pool_->join();
  {
    std::lock_guard lock(ready_mu_);
    stop_ready_ = true;
  }
  ready_cv_.notify_all();
  if (ready_thread_.joinable()) ready_thread_.join();
}

Status ApiServer::reloadTls() {
  if (!http_ || !http_->tls()) return okStatus();
  return http_->reloadTls();
}

std::uint16_t ApiServer::devicePort() const { return device_http_ ? device_http_->port() : 0; }

void ApiServer::checkReadiness() {
  Status status = db_.checkWritable();
  std::lock_guard lock(ready_mu_);
  bool ready = status.ok();
  if (!ready) last_db_error_ = status.error();
  if (ready != was_ready_) {
    if (ready) {
      log::info("db.ready", {{"database", db_.displayUrl()}});
    } else {
      log::warn("db.not_ready", {{"database", db_.displayUrl()},
                                 {"code", errorCodeName(status.error().code)},
                                 {"detail", status.error().message}});
    }
    was_ready_ = ready;
  }
}

void ApiServer::readinessLoop() {
  std::unique_lock lock(ready_mu_);
  while (!stop_ready_) {
    auto wait = was_ready_ ? options_.ready_check_interval : options_.ready_recheck_interval;
    if (ready_cv_.wait_for(lock, wait, [this] { return stop_ready_; })) break;
    lock.unlock();
    checkReadiness();
    lock.lock();
  }
}

net::Response ApiServer::readyz() const {
  if (db_.ready()) {
    if (readiness_hook_) {
      if (auto not_ready = readiness_hook_()) {
        nlohmann::json body = {{"error", {{"code", not_ready->code}, {"message", not_ready->message}}}};
        return jsonResponse(503, body.dump());
      }
    }
    return jsonResponse(200, R"({"status":"ready"})");
  }
  Error cause;
  {
    std::lock_guard lock(ready_mu_);
    cause = last_db_error_;
  }
  std::string state = cause.code == ErrorCode::kReadOnly ? "read-only" : "unreachable";
  return errorResponse(Error::unavailable("the database is " + state + ": " + cause.message));
}

net::Response ApiServer::metrics() const {
  net::Response res;
  res.result(200);
  res.set(http::field::content_type, kPrometheusContentType);
  res.body() = metrics_.render(db_.stats(), db_.ready(), options_.version);
  if (sink_ != nullptr && feedback_ != nullptr) {
    const auto s = sink_->stats();
    const auto f = feedback_->stats();
    auto metric = [&](std::string_view name, std::string_view type, std::string_view help,
                      std::uint64_t value) {
      res.body() += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type,
                                value);
    };
    metric("atrium_ingest_batches_accepted_total", "counter",
           "Event batches made durable (stored or spooled).", s.accepted);
    metric("atrium_ingest_events_stored_total", "counter", "Events committed directly.", s.stored);
    metric("atrium_ingest_batches_spooled_total", "counter",
           "Event batches appended to the spool while the database was unavailable.", s.spooled);
    metric("atrium_ingest_batches_replayed_total", "counter",
           "Spooled batches committed by the replay.", s.replayed);
    metric("atrium_ingest_events_duplicate_total", "counter",
           "Events stored before (same idempotency key).", s.duplicates);
    metric("atrium_ingest_failures_total", "counter",
           "Batches neither the database nor the spool took.", s.failures);
    metric("atrium_ingest_spool_pending", "gauge", "Spooled batches not yet in the database.",
           s.spool_pending);
    metric("atrium_feedback_posts_total", "counter", "Feedback posts accepted.", f.posts);
    metric("atrium_feedback_unknown_secret_total", "counter",
           "Feedback posts refused for an unknown secret.", f.unknown_secret);
    metric("atrium_feedback_malformed_total", "counter", "Feedback posts that could not be read.",
           f.malformed);
    metric("atrium_feedback_events_dropped_total", "counter",
           "Feedback events dropped over ingest.max_events_per_post or a system's rate.",
           f.dropped_events);
    metric("atrium_feedback_known_secrets", "gauge",
           "Systems whose feedback secret this node holds (it takes their posts while the database "
           "is away).",
           f.known_secrets);
  }
  if (metrics_hook_) res.body() += metrics_hook_();
  return res;
}

void ApiServer::handle(net::Request request, const net::RequestInfo& info, net::Respond respond) {
  auto started = clock_.monotonic();
  std::string method = request.method() == http::verb::unknown
                           ? std::string("OTHER")
                           : std::string(request.method_string());
  auto answer = [this, started, method, respond = std::move(respond)](const std::string& route,
                                                                      net::Response res) {
    double seconds = std::chrono::duration<double>(clock_.monotonic() - started).count();
    unsigned status = res.result_int();
    metrics_.observeRequest(method, route, status, seconds);
    log::debug("http.request", {{"method", method},
                                {"route", route},
                                {"status", status},
                                {"duration_ms", seconds * 1000.0}});
    respond(std::move(res));
  };

  auto target = parseTarget(request.target());
  if (!target.ok()) {
    answer(std::string(kUnmatchedRoute), errorResponse(target.error()));
    return;
  }
  RouteMatch match = router_.match(request.method_string(), target->path);
  if (!match.found()) {
    if (match.methodNotAllowed()) {
      answer(match.pattern, methodNotAllowed(request.method_string(), target->path, match.allowed));
    } else {
      answer(std::string(kUnmatchedRoute),
             errorResponse(Error::notFound("no such resource: " + jsonQuote(target->path))));
    }
    return;
  }
  const RouteDef& def = kRoutes[match.id];
  switch (def.endpoint) {
    case Endpoint::kHealthz:
      answer(match.pattern, jsonResponse(200, R"({"status":"ok"})"));
      return;
    case Endpoint::kReadyz:
      answer(match.pattern, readyz());
      return;
    case Endpoint::kMetrics:
      if (!options_.metrics_public) break;  // signed in, administration
      answer(match.pattern, metrics());
      return;
    case Endpoint::kFeedback:
      handleFeedback(std::move(request), info, match.params.front(), match.pattern,
                     std::move(answer));
      return;
    default:
      break;
  }
  if (request.body().size() > options_.max_body_bytes) {
    answer(match.pattern,
           errorResponse(Error{ErrorCode::kPayloadTooLarge,
                               "the request body is larger than " +
                                   std::to_string(options_.max_body_bytes) + " bytes",
                               {}}));
    return;
  }
  if (def.has_body) {
    auto content_type = request[http::field::content_type];
    if (!isJsonContentType(content_type)) {
      answer(match.pattern, unsupportedMediaType(content_type));
      return;
    }
  }
  // DNS rebinding: a page of another site that made its name resolve to this node gets nothing.
  const std::string host = hostOnly(request[http::field::host]);
  if (!hostAllowed(host)) {
    answer(match.pattern,
           errorResponse(Error{ErrorCode::kForbidden,
                               "this installation does not answer to the host " + jsonQuote(host) +
                                   "; add it to api.allowed_hosts if it is one of its names",
                               {}}));
    return;
  }
  ApiCall call;
  call.endpoint = def.endpoint;
  call.params = std::move(match.params);
  call.query = std::move(target->query);
  call.client_address = clientAddress(request, info);
  call.tls = options_.tls.has_value();
  call.actor = "api@" + call.client_address;
  const bool changes = request.method() != http::verb::get && request.method() != http::verb::head;
  std::optional<Credentials> credentials;
  if (def.guard == Guard::kPublic) {
    // Signing in from a browser: only from a page of this installation.
    auto origin = request[http::field::origin];
    if (changes && !origin.empty() && !hostAllowed(originHost(origin))) {
      answer(match.pattern, errorResponse(Error{ErrorCode::kForbidden,
                                                "the request comes from another site (Origin " +
                                                    std::string(origin) + ")",
                                                {}}));
      return;
    }
  } else {
    Credentials c;
    if (auto authorization = request[http::field::authorization]; !authorization.empty()) {
      constexpr std::string_view kScheme = "Bearer ";
      if (authorization.size() <= kScheme.size() ||
          !boost::beast::iequals(authorization.substr(0, kScheme.size()), kScheme)) {
        answer(match.pattern, unauthorizedResponse(Error{ErrorCode::kUnauthorized,
                                                         "the Authorization header must be \"Bearer <token>\" with a "
                                                         "session token (POST /api/v1/sessions) or an API token",
                                                         {}}));
        return;
      }
      c.bearer = std::string(authorization.substr(kScheme.size()));
    } else if (auto cookie = request[http::field::cookie]; !cookie.empty()) {
      c.cookie = sessionCookie(cookie);
    }
    c.csrf = std::string(request[kCsrfHeader]);
    c.origin = std::string(request[http::field::origin]);
    c.changes = changes;
    credentials = std::move(c);
  }
  call.body = std::move(request.body());
  asio::post(*db_pool_, [this, call = std::move(call), route = std::move(match.pattern),
                         credentials = std::move(credentials), guard = def.guard,
                         answer = std::move(answer)]() mutable {
    net::Response res;
    try {
      std::optional<Caller> caller;
      if (credentials) {
        if (authenticator_ == nullptr) {
          answer(route, errorResponse(Error::unavailable("this node signs no one in")));
          return;
        }
        auto who = authenticator_->authenticate(*credentials);
        if (!who) {
          log::debug("session.refused", {{"route", route}, {"reason", who.error().message}});
          answer(route, unauthorizedResponse(who.error()));
          return;
        }
        if (auto needed = permissionFor(guard); needed && !who->access.may(*needed)) {
          answer(route, errorResponse(Error{ErrorCode::kForbidden,
                                            "you need the " + std::string(people::permissionName(*needed)) +
                                                " permission for this",
                                            {}}));
          return;
        }
        caller = std::move(*who);
        call.caller = &*caller;
        call.actor = caller->name;
      }
      if (call.endpoint == Endpoint::kMetrics) {
        res = metrics();
      } else if (PeopleEndpoints::serves(call.endpoint)) {
        res = people_ ? people_->handle(call) : errorResponse(Error::unavailable("this node signs no one in"));
      } else if (SessionEndpoints::serves(call.endpoint)) {
        res = SessionEndpoints(signer_, diagnostics_).handle(call);
      } else if (TaskEndpoints::serves(call.endpoint)) {
        res = tasks_ ? tasks_->handle(call) : errorResponse(Error::notFound("this node runs no task scheduler"));
      } else if (ClusterEndpoints::serves(call.endpoint)) {
        res = cluster_ ? cluster_->handle(call) : errorResponse(Error::notFound("this node runs no cluster"));
      } else {
        res = endpoints_.handle(call);
      }
    } catch (const std::exception& e) {
      res = errorResponse(Error::internal(std::string("unexpected exception: ") + e.what()));
    }
    answer(route, std::move(res));
  });
}

bool ApiServer::hostAllowed(std::string_view host) const {
  if (host.empty()) return false;
  if (isIpLiteral(host)) return true;  // an address cannot be rebound to another site
  return allowed_hosts_.contains(lower(host));
}

std::string ApiServer::clientAddress(const net::Request& request,
                                     const net::RequestInfo& info) const {
  if (trusted_proxies_.empty()) return info.remote_address;
  std::vector<std::string_view> forwarded_for;
  for (const auto& field : request) {
    if (boost::beast::iequals(field.name_string(), "X-Forwarded-For")) {
      forwarded_for.emplace_back(field.value().data(), field.value().size());
    }
  }
  return trusted_proxies_.clientAddress(info.remote_address, forwarded_for);
}

void ApiServer::handleFeedback(net::Request request, const net::RequestInfo& info,
                               std::string secret, std::string route,
                               std::function<void(const std::string&, net::Response)> answer) {
  if (feedback_ == nullptr) {
    answer(route, errorResponse(Error::notFound("this node takes no feedback")));
    return;
  }
  if (request.body().size() > options_.max_feedback_bytes) {
    answer(route, errorResponse(Error{ErrorCode::kPayloadTooLarge,
                                      "a feedback post is limited to " +
                                          std::to_string(options_.max_feedback_bytes) + " bytes",
                                      {}}));
    return;
  }
  // Parsing and storing block: both run on the database pool.
  asio::post(*db_pool_, [this, secret = std::move(secret), body = std::move(request.body()),
                         peer = clientAddress(request, info), route = std::move(route),
                         answer = std::move(answer)]() mutable {
    net::Response res;
    try {
      auto accepted = feedback_->handle(secret, body, peer);
      if (accepted.ok()) {
        res = jsonResponse(200, fmt::format(R"({{"accepted":{}}})", *accepted));
      } else {
        res = errorResponse(accepted.error());
      }
    } catch (const std::exception& e) {
      res = errorResponse(Error::internal(std::string("unexpected exception: ") + e.what()));
    }
    answer(route, std::move(res));
  });
}

}  // namespace atrium::api
