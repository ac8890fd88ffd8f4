#include "config/config.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <charconv>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace atrium::config {
namespace {

const std::vector<KeyDoc> kKeys = {
    {"node.name", "string", "the host name",
     "This node's name, shown in logs and in the cluster view."},
    {"node.data_dir", "string", "\"/var/lib/atrium\"",
     "Directory for this node's own state: the installation it belongs to, and later the event "
     "spool. Must exist and be writable. Relative paths are taken from the config file's "
     "directory."},
    {"database.url", "string", "\"sqlite:<data_dir>/atrium.db\"",
     "The database. \"sqlite:PATH\" for the embedded database (one server only), or a PostgreSQL "
     "URL (postgresql://user:password@host:port/db) or key=value string (host=a,b port=5432 "
     "dbname=atrium target_session_attrs=read-write); several hosts are allowed."},
    {"database.pool_size", "integer", "4",
     "Connections kept to PostgreSQL (1 to 64). SQLite always uses one."},
    {"database.connect_timeout_ms", "integer", "3000",
     "How long to wait for a database connection before reporting it unavailable (100 to 60000)."},
    {"api.listen", "string", "\"127.0.0.1:8080\"",
     "Address and port of the HTTP API and UI, host:port or [IPv6]:port. Until authentication "
     "exists keep it on loopback."},
    {"api.max_body_bytes", "integer", "1048576",
     "Largest request body accepted (1024 to 268435456); larger ones get 413."},
    {"api.read_timeout_s", "integer", "30",
     "Seconds a client may take to send a request (1 to 3600)."},
    {"api.network_threads", "integer", "2",
     "Threads that accept, parse and answer requests (1 to 64)."},
    {"api.db_threads", "integer", "4", "Threads that run database work for requests (1 to 256)."},
    {"api.max_connections", "integer", "0",
     "Open HTTP connections at most (0 to 1000000; 0: the descriptor limit, ulimit -n, less 64 and "
     "two per database connection, kept for the database, the spool and files). At the cap the "
     "node accepts no more until one closes, and closes the longest-idle connection waiting for a "
     "request to make room, so /healthz is still answered."},
    {"api.trusted_proxies", "array of strings", "[]",
     "IP addresses of the load balancers in front of this node (up to 64). A request from one of "
     "them is taken to come from the last address in its X-Forwarded-For header (feedback's "
     "source address, for the connectivity rule); from anyone else the header is ignored."},
    {"api.allowed_hosts", "array of strings", "[]",
     "Host names browsers and scripts may use to reach this node's API (up to 64). A request whose "
     "Host header names another host is refused, so a page that points its own name at this node "
     "(DNS rebinding) gets nothing. IP addresses, localhost, the machine's host name, api.listen's "
     "host and cluster.advertise_host are always allowed."},
    {"api.metrics_public", "boolean", "true",
     "Serve /metrics without signing in (for Prometheus); false: administrators only."},
    {"api.session_hours", "integer", "12",
     "How long a sign-in lasts (1 to 168 hours); a token claiming a longer life is refused."},
    {"api.tls_cert", "string", "\"\"",
     "PEM file with the certificate (then any intermediates) the API and console are served with "
     "over HTTPS (TLS 1.2 at least); set together with api.tls_key. Answers then carry "
     "Strict-Transport-Security. SIGHUP reads both files again: new connections get the new pair, "
     "open ones keep theirs; a pair that does not load is refused and logged, the old one stays."},
    {"api.tls_key", "string", "\"\"",
     "PEM file with the unencrypted private key of api.tls_cert (keep it mode 0600)."},
    {"api.device_listen", "string", "\"\"",
     "A second listener, host:port, in plain HTTP, for what systems send (POST /feedback, plus "
     "/healthz and /readyz for probes); every other path answers 404 there. Empty: systems post "
     "to api.listen (over HTTPS when TLS is on). Systems are told this address when it is set."},
    {"polling.enabled", "boolean", "true",
     "Whether this node polls the systems it owns. Off, the node still takes their feedback and "
     "traps."},
    {"polling.interval_s", "integer", "60",
     "Seconds between two polls of one system (5 to 86400); each interval is +-20% at random, and "
     "a system that does not answer is polled up to 8 times less often until it does."},
    {"polling.workers", "integer", "16",
     "Polls in flight at most (1 to 512); a slow or dead system holds one worker for at most "
     "polling.timeout_ms."},
    {"polling.timeout_ms", "integer", "5000",
     "How long one request to a system may take (100 to 120000)."},
    {"polling.http_port", "integer", "0",
     "Port of the systems' HTTP management interface when it is not their family's default (0: "
     "80)."},
    {"polling.snmp_port", "integer", "0",
     "Port of the SNMP-only systems' agents when it is not 161 (0: 161)."},
    {"devices.max_answer_bytes", "integer", "16777216",
     "Largest answer body Atrium reads from a system it polls or commands (65536 to 1073741824). "
     "A larger answer, announced or sent (an endless chunked one), is cut off: the poll fails with "
     "\"the answer from HOST:PORT exceeds the limit of N bytes\" and an unreadable-answer ticket."},
    {"snmp.listen", "string", "\"0.0.0.0:162\"",
     "Where this node receives SNMP traps and informs (UDP), host:port or [IPv6]:port; \"\" or "
     "\"off\" disables the receiver. Port 162 needs root or CAP_NET_BIND_SERVICE."},
    {"snmp.communities", "array of strings", "[\"public\"]",
     "Communities accepted on SNMPv1/v2c traps (1 to 32, each 1 to 64 characters); other traps are "
     "dropped and counted."},
    {"ingest.max_feedback_bytes", "integer", "1048576",
     "Largest HTTP feedback post accepted (1024 to 16777216); larger ones get 413."},
    {"ingest.max_events_per_post", "integer", "100",
     "Most events one feedback post may become (1 to 10000); the rest of the post is dropped, "
     "counted and reported in a feedback-flood ticket for the system."},
    {"ingest.max_events_per_system_per_second", "integer", "1000",
     "Sustained events per second taken from one system's feedback (1 to 100000), with bursts of "
     "ten seconds' worth; beyond it events are dropped, counted and reported in a feedback-flood "
     "ticket."},
    {"cluster.role", "string", "\"active\"",
     "\"active\" (owns systems and runs tasks; several active nodes share the work) or "
     "\"standby\" (serves no systems, takes no tasks and answers /readyz with 503 until no active "
     "node has heartbeated within cluster.failover_timeout_ms; then one standby promotes itself)."},
    {"cluster.heartbeat_ms", "integer", "1000",
     "How often this node writes its row in the node registry, renews its leases and measures the "
     "database round trip (100 to 10000)."},
    {"cluster.failover_timeout_ms", "integer", "5000",
     "A node silent this long is dead: its buckets and tasks move to the others (2000 to 600000; "
     "at "
     "least twice cluster.heartbeat_ms)."},
    {"cluster.advertise_host", "string", "api.listen's host",
     "The address systems use to reach this node for feedback and traps, reported in the node "
     "registry and checked by the node-addressable rule. Set it when api.listen is 0.0.0.0 or ::."},
    {"cluster.db_latency_limit_ms", "integer", "10",
     "The db-latency rule fails when a node's p99 round trip to the database is above this (1 to "
     "10000)."},
    {"cluster.clock_skew_limit_ms", "integer", "500",
     "The time-sync rule fails when a node's clock is further than this from the database's (10 "
     "to 600000)."},
    {"cluster.check_interval_ms", "integer", "10000",
     "How often the node evaluates the redundancy rules and raises or clears their server tickets "
     "(1000 to 3600000)."},
    {"identity.source", "string", "\"database\"",
     "Where users come from: \"database\" (Atrium's own users) or an LDAP URL "
     "(ldap://host[:port] or ldaps://...). Every node of an installation must have the same; a "
     "node with another is refused at start."},
    {"identity.base_dn", "string", "\"\"", "The LDAP base DN users are found under (LDAP only)."},
    {"identity.user_filter", "string", "\"(|(uid={name})(sAMAccountName={name}))\"",
     "The LDAP filter that finds a user's entry under identity.base_dn; {name} (required) is "
     "replaced by the sign-in name, escaped as RFC 4515 says. Exactly one entry must match."},
    {"identity.bind_dn", "string", "\"\"",
     "The DN of the account that searches for users (Active Directory needs one); \"\" searches "
     "anonymously."},
    {"identity.bind_password_file", "string", "\"\"",
     "A file whose first line is identity.bind_dn's password (keep it 0600); needs "
     "identity.bind_dn."},
    {"identity.start_tls", "boolean", "false",
     "Whether to upgrade an ldap:// connection with StartTLS before any bind; refused with "
     "ldaps:// (already TLS). Certificates are always verified."},
    {"identity.ca_file", "string", "\"\"",
     "PEM file of the CA certificates that sign the directory's certificate; \"\" uses the "
     "system's."},
    {"identity.timeout_ms", "integer", "5000",
     "How long connecting to the directory, and each LDAP operation, may take before the directory "
     "is reported unavailable (100 to 60000)."},
    {"security.validation_key_file", "string", "\"\"",
     "A file holding the installation's validation key as 64 hex digits. Empty: the key kept in "
     "the "
     "database is used (the normal case). When set, the node is refused at start unless the file "
     "holds the installation's current key."},
    {"files.cache_dir", "string", "\"<data_dir>/files\"",
     "Where this node caches uploaded files; the same path on every node (the same-file-paths "
     "rule)."},
    {"log.format", "string", "\"text\"", "\"text\" (readable) or \"json\" (one object per line)."},
    {"log.level", "string", "\"info\"", "\"debug\", \"info\", \"warn\" or \"error\"."},
};

std::string defaultNodeName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "atrium";
  return buf;
}

Error badValue(std::string_view key, std::string_view expected, const toml::node& node) {
  std::ostringstream got;
  node.visit([&](const auto& n) { got << n; });
  return Error::invalid(fmt::format("configuration key {} (line {}): expected {}, got {}", key,
                                    node.source().begin.line, expected, got.str()),
                        std::string(key));
}

Result<std::string> getString(const toml::node& node, std::string_view key) {
  if (auto v = node.value<std::string>(); v && node.is_string()) return *v;
  return badValue(key, "a string", node);
}

Result<std::int64_t> getInteger(const toml::node& node, std::string_view key, std::int64_t min,
                                std::int64_t max) {
  if (!node.is_integer()) return badValue(key, fmt::format("an integer from {} to {}", min, max), node);
  std::int64_t v = *node.value<std::int64_t>();
  if (v < min || v > max) return badValue(key, fmt::format("an integer from {} to {}", min, max), node);
  return v;
}

std::string tomlString(const std::string& s) {
  std::ostringstream out;
  out << toml::value<std::string>(s);
  return out.str();
}

std::filesystem::path resolve(const std::filesystem::path& base_dir, const std::string& p) {
  std::filesystem::path path(p);
  if (path.is_relative() && !base_dir.empty()) return (base_dir / path).lexically_normal();
  return path;
}

}  // namespace

std::string ListenAddress::text() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Result<ListenAddress> parseListenAddress(std::string_view text) {
  const auto fail = [&] {
    return Error::invalid(fmt::format("\"{}\" is not host:port or [IPv6]:port with a port from 0 to 65535", text));
  };
  ListenAddress out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return fail();
    out.host = std::string(text.substr(1, close - 1));
    in6_addr a6{};
    if (inet_pton(AF_INET6, out.host.c_str(), &a6) != 1) return fail();
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return fail();
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return fail();  // IPv6 needs brackets
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535 || port_text.empty()) {
    return fail();
  }
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

const std::vector<KeyDoc>& documentedKeys() { return kKeys; }

Result<Config> parse(std::string_view text, const std::filesystem::path& source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name.string());
  } catch (const toml::parse_error& e) {
    return Error::invalid(fmt::format("configuration file {} line {} column {}: {}",
                                      source_name.string(), e.source().begin.line,
                                      e.source().begin.column, e.description()));
  }

  std::set<std::string, std::less<>> known;
  for (const auto& k : kKeys) known.emplace(k.key);

  Config cfg;
  cfg.source = source_name;
  cfg.node.name = defaultNodeName();
  const auto base_dir = source_name.parent_path();
  bool url_set = false;

  for (const auto& [table_key, table_node] : root) {
    const std::string table_name(table_key.str());
    const auto* table = table_node.as_table();
    if (table == nullptr) {
      std::string tables;
      for (const auto& k : kKeys) {
        const std::string t = "[" + std::string(k.key.substr(0, k.key.find('.'))) + "]";
        if (tables.find(t) == std::string::npos) tables += (tables.empty() ? "" : " ") + t;
      }
      return Error::invalid(fmt::format("configuration key {} is not known; keys live in the tables {}",
                                        table_name, tables),
                            table_name);
    }
    for (const auto& [key_name, node] : *table) {
      const std::string key = table_name + "." + std::string(key_name.str());
      if (!known.contains(key)) {
        std::string list;
        for (const auto& k : kKeys) {
          if (!list.empty()) list += ", ";
          list += k.key;
        }
        return Error::invalid(fmt::format("configuration key {} is not known; the known keys are {}", key, list), key);
      }
      if (key == "node.name") {
        auto v = getString(node, key);
        if (!v) return v.error();
        if (v->empty()) return badValue(key, "a non-empty string", node);
        cfg.node.name = *v;
      } else if (key == "node.data_dir") {
        auto v = getString(node, key);
        if (!v) return v.error();
        if (v->empty()) return badValue(key, "a directory path", node);
        cfg.node.data_dir = resolve(base_dir, *v);
      } else if (key == "database.url") {
        auto v = getString(node, key);
        if (!v) return v.error();
        if (v->empty()) return badValue(key, "\"sqlite:PATH\" or a PostgreSQL URL", node);
        std::string url = *v;
        if (url.rfind("sqlite:", 0) == 0 && url.rfind("sqlite://", 0) != 0) {
          url = "sqlite:" + resolve(base_dir, url.substr(7)).string();
        }
        cfg.database.url = url;
        url_set = true;
      } else if (key == "database.pool_size") {
        auto v = getInteger(node, key, 1, 64);
        if (!v) return v.error();
        cfg.database.pool_size = static_cast<std::size_t>(*v);
      } else if (key == "database.connect_timeout_ms") {
        auto v = getInteger(node, key, 100, 60000);
        if (!v) return v.error();
        cfg.database.connect_timeout = std::chrono::milliseconds(*v);
      } else if (key == "api.listen") {
        auto v = getString(node, key);
        if (!v) return v.error();
        auto addr = parseListenAddress(*v);
        if (!addr) return badValue(key, "host:port or [IPv6]:port with a port from 0 to 65535", node);
        cfg.api.listen = *addr;
      } else if (key == "api.max_body_bytes") {
        auto v = getInteger(node, key, 1024, 268435456);
        if (!v) return v.error();
        cfg.api.max_body_bytes = static_cast<std::size_t>(*v);
      } else if (key == "api.read_timeout_s") {
        auto v = getInteger(node, key, 1, 3600);
        if (!v) return v.error();
        cfg.api.read_timeout = std::chrono::seconds(*v);
      } else if (key == "api.network_threads") {
        auto v = getInteger(node, key, 1, 64);
        if (!v) return v.error();
        cfg.api.network_threads = static_cast<std::size_t>(*v);
      } else if (key == "api.db_threads") {
        auto v = getInteger(node, key, 1, 256);
        if (!v) return v.error();
        cfg.api.db_threads = static_cast<std::size_t>(*v);
      } else if (key == "api.max_connections") {
        auto v = getInteger(node, key, 0, 1000000);
        if (!v) return v.error();
        cfg.api.max_connections = static_cast<std::size_t>(*v);
      } else if (key == "api.trusted_proxies") {
        const auto* array = node.as_array();
        if (array == nullptr || array->size() > 64) {
          return badValue(key, "an array of up to 64 IP addresses", node);
        }
        std::vector<std::string> proxies;
        for (const auto& item : *array) {
          auto v = item.value<std::string>();
          in_addr a4{};
          in6_addr a6{};
          if (!item.is_string() || !v ||
              (inet_pton(AF_INET, v->c_str(), &a4) != 1 &&
               inet_pton(AF_INET6, v->c_str(), &a6) != 1)) {
            return badValue(key, "an array of IP addresses (IPv4, or IPv6 without brackets)", node);
          }
          proxies.push_back(*v);
        }
        cfg.api.trusted_proxies = std::move(proxies);
      } else if (key == "api.allowed_hosts") {
        const auto* array = node.as_array();
        if (array == nullptr || array->size() > 64) return badValue(key, "an array of up to 64 host names", node);
        std::vector<std::string> hosts;
        for (const auto& item : *array) {
          auto v = item.value<std::string>();
          if (!item.is_string() || !v || v->empty() || v->size() > 253 ||
              v->find_first_of(" /\\@") != std::string::npos) {
            return badValue(key, "an array of host names", node);
          }
          hosts.push_back(*v);
        }
        cfg.api.allowed_hosts = std::move(hosts);
      } else if (key == "api.metrics_public") {
        if (!node.is_boolean()) return badValue(key, "true or false", node);
        cfg.api.metrics_public = *node.value<bool>();
      } else if (key == "api.session_hours") {
        auto v = getInteger(node, key, 1, 168);
        if (!v) return v.error();
        cfg.api.session_lifetime = std::chrono::hours(*v);
      } else if (key == "api.tls_cert" || key == "api.tls_key") {
        auto v = getString(node, key);
        if (!v) return v.error();
        auto path = v->empty() ? std::filesystem::path() : resolve(base_dir, *v);
        (key == "api.tls_cert" ? cfg.api.tls_cert : cfg.api.tls_key) = path;
      } else if (key == "api.device_listen") {
        auto v = getString(node, key);
        if (!v) return v.error();
        if (v->empty()) {
          cfg.api.device_listen.reset();
        } else {
          auto addr = parseListenAddress(*v);
          if (!addr)
            return badValue(key, "host:port or [IPv6]:port with a port from 0 to 65535", node);
          cfg.api.device_listen = *addr;
        }
      } else if (key == "snmp.listen") {
        auto v = getString(node, key);
        if (!v) return v.error();
        if (v->empty() || *v == "off") {
          cfg.snmp.enabled = false;
        } else {
          auto addr = parseListenAddress(*v);
          if (!addr) {
            return badValue(key, "host:port or [IPv6]:port with a port from 0 to 65535, or \"off\"",
                            node);
          }
          cfg.snmp.enabled = true;
          cfg.snmp.listen = *addr;
        }
      } else if (key == "snmp.communities") {
        const auto* array = node.as_array();
        if (array == nullptr || array->empty() || array->size() > 32) {
          return badValue(key, "an array of 1 to 32 strings", node);
        }
        std::vector<std::string> communities;
        for (const auto& item : *array) {
          auto v = item.value<std::string>();
          if (!item.is_string() || !v || v->empty() || v->size() > 64) {
            return badValue(key, "an array of strings of 1 to 64 characters", node);
          }
          communities.push_back(*v);
        }
        cfg.snmp.communities = std::move(communities);
      } else if (key == "ingest.max_feedback_bytes") {
        auto v = getInteger(node, key, 1024, 16777216);
        if (!v) return v.error();
        cfg.ingest.max_feedback_bytes = static_cast<std::size_t>(*v);
      } else if (key == "ingest.max_events_per_post") {
        auto v = getInteger(node, key, 1, 10000);
        if (!v) return v.error();
        cfg.ingest.max_events_per_post = static_cast<std::size_t>(*v);
      } else if (key == "ingest.max_events_per_system_per_second") {
        auto v = getInteger(node, key, 1, 100000);
        if (!v) return v.error();
        cfg.ingest.max_events_per_system_per_second = static_cast<std::size_t>(*v);
      } else if (key == "polling.enabled") {
        if (!node.is_boolean()) return badValue(key, "true or false", node);
        cfg.polling.enabled = *node.value<bool>();
      } else if (key == "polling.interval_s") {
        auto v = getInteger(node, key, 5, 86400);
        if (!v) return v.error();
        cfg.polling.interval = std::chrono::seconds(*v);
      } else if (key == "polling.workers") {
        auto v = getInteger(node, key, 1, 512);
        if (!v) return v.error();
        cfg.polling.workers = static_cast<std::size_t>(*v);
      } else if (key == "polling.timeout_ms") {
        auto v = getInteger(node, key, 100, 120000);
        if (!v) return v.error();
        cfg.polling.timeout = std::chrono::milliseconds(*v);
      } else if (key == "polling.http_port") {
        auto v = getInteger(node, key, 0, 65535);
        if (!v) return v.error();
        cfg.polling.http_port = static_cast<std::uint16_t>(*v);
      } else if (key == "polling.snmp_port") {
        auto v = getInteger(node, key, 0, 65535);
        if (!v) return v.error();
        cfg.polling.snmp_port = static_cast<std::uint16_t>(*v);
      } else if (key == "devices.max_answer_bytes") {
        auto v = getInteger(node, key, 65536, 1073741824);
        if (!v) return v.error();
        cfg.devices.max_answer_bytes = static_cast<std::uint64_t>(*v);
      } else if (key == "cluster.role") {
        auto v = getString(node, key);
        if (!v) return v.error();
        if (*v == "active") {
          cfg.cluster.role = Config::Cluster::Role::kActive;
        } else if (*v == "standby") {
          cfg.cluster.role = Config::Cluster::Role::kStandby;
        } else {
          return badValue(key, "\"active\" or \"standby\"", node);
        }
      } else if (key == "cluster.heartbeat_ms") {
        auto v = getInteger(node, key, 100, 10000);
        if (!v) return v.error();
        cfg.cluster.heartbeat = std::chrono::milliseconds(*v);
      } else if (key == "cluster.failover_timeout_ms") {
        auto v = getInteger(node, key, 2000, 600000);
        if (!v) return v.error();
        cfg.cluster.failover_timeout = std::chrono::milliseconds(*v);
      } else if (key == "cluster.advertise_host") {
        auto v = getString(node, key);
        if (!v) return v.error();
        cfg.cluster.advertise_host = *v;
      } else if (key == "cluster.db_latency_limit_ms") {
        auto v = getInteger(node, key, 1, 10000);
        if (!v) return v.error();
        cfg.cluster.db_latency_limit = std::chrono::milliseconds(*v);
      } else if (key == "cluster.clock_skew_limit_ms") {
        auto v = getInteger(node, key, 10, 600000);
        if (!v) return v.error();
        cfg.cluster.clock_skew_limit = std::chrono::milliseconds(*v);
      } else if (key == "cluster.check_interval_ms") {
        auto v = getInteger(node, key, 1000, 3600000);
        if (!v) return v.error();
        cfg.cluster.check_interval = std::chrono::milliseconds(*v);
      } else if (key == "identity.source") {
        auto v = getString(node, key);
        if (!v) return v.error();
        if (*v != "database" && v->rfind("ldap://", 0) != 0 && v->rfind("ldaps://", 0) != 0) {
          return badValue(key, "\"database\" or an LDAP URL (ldap://host[:port] or ldaps://host[:port])", node);
        }
        cfg.identity.source = *v;
      } else if (key == "identity.base_dn") {
        auto v = getString(node, key);
        if (!v) return v.error();
        cfg.identity.base_dn = *v;
      } else if (key == "identity.user_filter") {
        auto v = getString(node, key);
        if (!v) return v.error();
        if (v->find("{name}") == std::string::npos || v->front() != '(' || v->back() != ')') {
          return badValue(key, "an LDAP filter in parentheses containing {name}", node);
        }
        cfg.identity.user_filter = *v;
      } else if (key == "identity.bind_dn") {
        auto v = getString(node, key);
        if (!v) return v.error();
        cfg.identity.bind_dn = *v;
      } else if (key == "identity.bind_password_file") {
        auto v = getString(node, key);
        if (!v) return v.error();
        cfg.identity.bind_password_file =
            v->empty() ? std::filesystem::path() : resolve(base_dir, *v);
      } else if (key == "identity.start_tls") {
        if (!node.is_boolean()) return badValue(key, "true or false", node);
        cfg.identity.start_tls = *node.value<bool>();
      } else if (key == "identity.ca_file") {
        auto v = getString(node, key);
        if (!v) return v.error();
        cfg.identity.ca_file = v->empty() ? std::filesystem::path() : resolve(base_dir, *v);
      } else if (key == "identity.timeout_ms") {
        auto v = getInteger(node, key, 100, 60000);
        if (!v) return v.error();
        cfg.identity.timeout = std::chrono::milliseconds(*v);
      } else if (key == "security.validation_key_file") {
        auto v = getString(node, key);
        if (!v) return v.error();
        cfg.security.validation_key_file = v->empty() ? std::filesystem::path() : resolve(base_dir, *v);
      } else if (key == "files.cache_dir") {
        auto v = getString(node, key);
        if (!v) return v.error();
        if (v->empty()) return badValue(key, "a directory path", node);
        cfg.files.cache_dir = resolve(base_dir, *v);
      } else if (key == "log.format") {
        auto v = getString(node, key);
        if (!v) return v.error();
        if (!log::parseFormat(*v, cfg.log.format)) return badValue(key, "\"text\" or \"json\"", node);
      } else if (key == "log.level") {
        auto v = getString(node, key);
        if (!v) return v.error();
        if (!log::parseLevel(*v, cfg.log.level)) {
          return badValue(key, "\"debug\", \"info\", \"warn\" or \"error\"", node);
        }
      }
    }
  }
  if (!url_set) cfg.database.url = "sqlite:" + (cfg.node.data_dir / "atrium.db").string();
  if (cfg.files.cache_dir.empty()) cfg.files.cache_dir = cfg.node.data_dir / "files";
  if (cfg.cluster.failover_timeout < 2 * cfg.cluster.heartbeat) {
    return Error::invalid(fmt::format("configuration key cluster.failover_timeout_ms ({} ms) must be at least twice "
                                      "cluster.heartbeat_ms ({} ms), or a node would be declared dead between two of "
                                      "its own heartbeats",
                                      cfg.cluster.failover_timeout.count(), cfg.cluster.heartbeat.count()),
                          "cluster.failover_timeout_ms");
  }
  if (cfg.api.tls_cert.empty() != cfg.api.tls_key.empty()) {
    const char* missing = cfg.api.tls_cert.empty() ? "api.tls_cert" : "api.tls_key";
    return Error::invalid(
        fmt::format("configuration key {} must be set: api.tls_cert and api.tls_key go together "
                    "(both for HTTPS, neither for plain HTTP)",
                    missing),
        missing);
  }
  if (cfg.identity.source != "database" && cfg.identity.base_dn.empty()) {
    return Error::invalid("configuration key identity.base_dn must be set when identity.source is an LDAP URL",
                          "identity.base_dn");
  }
  if (!cfg.identity.bind_password_file.empty() && cfg.identity.bind_dn.empty()) {
    return Error::invalid(
        "configuration key identity.bind_password_file needs identity.bind_dn (the account it is "
        "the password of)",
        "identity.bind_password_file");
  }
  if (cfg.identity.start_tls && cfg.identity.source.rfind("ldaps://", 0) == 0) {
    return Error::invalid(
        "configuration key identity.start_tls must be false with an ldaps:// identity.source (the "
        "connection is TLS already)",
        "identity.start_tls");
  }
  return cfg;
}

Result<Config> loadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::invalid(fmt::format("cannot read configuration file {}: {}", path.string(),
                                      std::strerror(errno)));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return parse(buf.str(), std::filesystem::absolute(path).lexically_normal());
}

std::string exampleConfig(const std::filesystem::path& data_dir, std::string_view node_name) {
  std::string out = "# Atrium configuration. Every key is shown with its default; see docs/configuration.md.\n";
  std::string current_table;
  for (const auto& k : kKeys) {
    auto dot = k.key.find('.');
    std::string table(k.key.substr(0, dot));
    std::string name(k.key.substr(dot + 1));
    if (table != current_table) {
      out += fmt::format("\n[{}]\n", table);
      current_table = table;
    }
    out += fmt::format("# {}\n", k.meaning);
    if (k.key == "node.name") {
      out += fmt::format("name = {}\n", tomlString(std::string(node_name)));
    } else if (k.key == "node.data_dir") {
      out += fmt::format("data_dir = {}\n", tomlString(data_dir.string()));
    } else if (k.key == "database.url") {
      out += fmt::format("url = {}\n", tomlString("sqlite:" + (data_dir / "atrium.db").string()));
    } else if (k.key == "cluster.advertise_host") {
      out += "advertise_host = \"\"\n";
    } else if (k.key == "files.cache_dir") {
      out += fmt::format("cache_dir = {}\n", tomlString((data_dir / "files").string()));
    } else {
      out += fmt::format("{} = {}\n", name, k.default_);
    }
  }
  return out;
}

}  // namespace atrium::config
