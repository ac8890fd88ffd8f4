// The configuration file (TOML). Every key is listed once in kKeys (config.cc) with its type,
// default and meaning; docs/configuration.md and `atrium init` write from that list. An unknown
// key or a bad value stops start-up with a message naming the key and what is expected.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "common/result.h"

namespace atrium::config {

struct ListenAddress {
  std::string host;  // an IP literal (IPv6 without brackets) or a host name
  std::uint16_t port = 0;
  std::string text() const;  // host:port, IPv6 in brackets
};

// Parses "host:port" or "[v6]:port". Error message says what was expected.
Result<ListenAddress> parseListenAddress(std::string_view text);

struct Config {
  std::filesystem::path source;  // the file it came from (empty for defaults)

  struct Node {
    std::string name;
    std::filesystem::path data_dir = "/var/lib/atrium";
  } node;

  struct Database {
    std::string url;  // "sqlite:PATH" or a PostgreSQL URL / key=value string
    std::size_t pool_size = 4;
    std::chrono::milliseconds connect_timeout{3000};
  } database;

  struct Api {
    ListenAddress listen{"127.0.0.1", 8080};
    std::size_t max_body_bytes = 1024 * 1024;
    std::chrono::seconds read_timeout{30};
    std::size_t network_threads = 2;
    std::size_t db_threads = 4;
    std::size_t max_connections = 0;           // 0: derived from RLIMIT_NOFILE
    std::vector<std::string> trusted_proxies;  // IP literals of load balancers
    std::vector<std::string> allowed_hosts;    // host names besides the node's own
    bool metrics_public = true;
    std::chrono::seconds session_lifetime{12 * 3600};
    // HTTPS: both set (PEM files) or neither (plain HTTP).
    std::filesystem::path tls_cert;
    std::filesystem::path tls_key;
    // A second, plain-HTTP listener for what systems send (/feedback); none: on api.listen.
    std::optional<ListenAddress> device_listen;
  } api;

  struct Polling {
    bool enabled = true;
    std::chrono::seconds interval{60};
    std::size_t workers = 16;
    std::chrono::milliseconds timeout{5000};
    std::uint16_t http_port = 0;  // 0: the family's default (80)
    std::uint16_t snmp_port = 0;  // 0: 161
  } polling;

  // What Atrium accepts from the systems it contacts.
  struct Devices {
    std::uint64_t max_answer_bytes = 16 * 1024 * 1024;
  } devices;

  // Unsolicited traffic from systems: SNMP traps and HTTP feedback.
  struct Snmp {
    bool enabled = true;  // false when snmp.listen is "" or "off"
    ListenAddress listen{"0.0.0.0", 162};
    std::vector<std::string> communities{"public"};
  } snmp;

  struct Ingest {
    std::size_t max_feedback_bytes = 1024 * 1024;
    std::size_t max_events_per_post = 100;
    std::size_t max_events_per_system_per_second = 1000;
  } ingest;

  // Several nodes on one PostgreSQL: heartbeats, leases, buckets, standby, the rule checks.
  struct Cluster {
    enum class Role { kActive, kStandby };
    Role role = Role::kActive;
    std::chrono::milliseconds heartbeat{1000};
    std::chrono::milliseconds failover_timeout{5000};
    // The host systems use to reach this node (feedback and traps); "" takes api.listen's host.
    std::string advertise_host;
    std::chrono::milliseconds db_latency_limit{10};
    std::chrono::milliseconds clock_skew_limit{500};
    std::chrono::milliseconds check_interval{10000};
  } cluster;

  // Where users come from; every node of an installation must use the same source.
  struct Identity {
    std::string source = "database";  // "database", or an LDAP URL ldap[s]://host[:port]
    std::string base_dn;              // LDAP only
    // The search for a user's entry; {name} is replaced by the sign-in name, escaped (RFC 4515).
    std::string user_filter = "(|(uid={name})(sAMAccountName={name}))";
    std::string bind_dn;                       // the search account; "" searches anonymously
    std::filesystem::path bind_password_file;  // its password (first line); needs bind_dn
    bool start_tls = false;                    // StartTLS on an ldap:// URL
    std::filesystem::path ca_file;             // CA certificates for TLS; "" the system's
    std::chrono::milliseconds timeout{5000};   // connect and each operation
  } identity;

  struct Security {
    // A file holding the installation's validation key (64 hex digits); "" uses the key the
    // database holds. When set, the node is refused unless it is the installation's current key.
    std::filesystem::path validation_key_file;
  } security;

  struct Files {
    // Cache of uploaded files (software packages, logos, templates); the same path on every node.
    std::filesystem::path cache_dir;  // default <data_dir>/files
  } files;

  struct Log {
    log::Format format = log::Format::kText;
    log::Level level = log::Level::kInfo;
  } log;
};

// Reads and validates a file. Relative paths in it are taken relative to the file's directory.
Result<Config> loadFile(const std::filesystem::path& path);
// Validates TOML text; source_name is used in messages.
Result<Config> parse(std::string_view text, const std::filesystem::path& source_name);

// One documented key: what docs and the generated example config are written from.
struct KeyDoc {
  std::string_view key;       // table.key
  std::string_view type;      // string, integer, ...
  std::string_view default_;  // as written in TOML, or a description of the computed default
  std::string_view meaning;
};
const std::vector<KeyDoc>& documentedKeys();

// A commented configuration file with every key at its default; `atrium init` writes it when
// the file does not exist. data_dir and database.url are filled in.
std::string exampleConfig(const std::filesystem::path& data_dir, std::string_view node_name);

}  // namespace atrium::config
