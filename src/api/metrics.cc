#include "api/metrics.h"

#include <fmt/format.h>

namespace atrium::api {

namespace {

constexpr std::string_view kRequests = "atrium_http_requests_total";
constexpr std::string_view kDuration = "atrium_http_request_duration_seconds";
constexpr std::string_view kPoolSize = "atrium_db_pool_size";
constexpr std::string_view kPoolOpen = "atrium_db_pool_open";
constexpr std::string_view kPoolInUse = "atrium_db_pool_in_use";
constexpr std::string_view kConnectFailures = "atrium_db_connect_failures_total";
constexpr std::string_view kAcquireTimeouts = "atrium_db_acquire_timeouts_total";
constexpr std::string_view kDbReady = "atrium_db_ready";
constexpr std::string_view kBuildInfo = "atrium_build_info";

constexpr std::string_view kTrapsReceived = "atrium_snmp_traps_received_total";
constexpr std::string_view kTrapsAccepted = "atrium_snmp_traps_accepted_total";
constexpr std::string_view kTrapsBadCommunity = "atrium_snmp_traps_rejected_community_total";
constexpr std::string_view kTrapsV3 = "atrium_snmp_traps_rejected_v3_total";
constexpr std::string_view kTrapsNotStored = "atrium_snmp_traps_sink_failures_total";
constexpr std::string_view kTrapsErrors = "atrium_snmp_trap_internal_errors_total";
constexpr std::string_view kUnknownStored = "atrium_snmp_traps_unknown_sender_stored_total";
constexpr std::string_view kUnknownLimited = "atrium_snmp_traps_unknown_sender_limited_total";
constexpr std::string_view kTrapCache = "atrium_snmp_trap_address_cache_entries";

// The shortest text that reads back as the same double (fmt's default).
std::string number(double v) { return fmt::format("{}", v); }

}  // namespace

const std::vector<MetricDef>& declaredMetrics() {
  static const std::vector<MetricDef> kMetrics = {
      {kRequests, "counter", "HTTP requests answered, by method, route pattern and status."},
      {kDuration, "histogram",
       "Time from reading a request to handing its answer to the network, by route pattern."},
      {kPoolSize, "gauge", "Configured maximum number of database connections."},
      {kPoolOpen, "gauge", "Database connections currently open."},
      {kPoolInUse, "gauge", "Database connections currently lent out."},
      {kConnectFailures, "counter", "Failed attempts to connect to the database."},
      {kAcquireTimeouts, "counter", "Waits for a free database connection that timed out."},
      {kDbReady, "gauge", "1 when the database was reachable and writable at the last check."},
      {kBuildInfo, "gauge", "Always 1; the version label says which build runs."},
  };
  return kMetrics;
}

const std::vector<MetricDef>& declaredTrapMetrics() {
  static const std::vector<MetricDef> kTrapMetrics = {
      {kTrapsReceived, "counter", "SNMPv1/v2c notifications decoded by the trap receiver."},
      {kTrapsAccepted, "counter", "Notifications taken by the ingest pipeline."},
      {kTrapsBadCommunity, "counter",
       "Notifications dropped for a community not in snmp.communities."},
      {kTrapsV3, "counter", "SNMPv3 messages refused (SNMPv3 is not supported yet)."},
      {kTrapsNotStored, "counter",
       "Notifications that could not be made durable (informs left unanswered)."},
      {kTrapsErrors, "counter",
       "Notifications whose handling failed unexpectedly (logged as snmp.trap_failed)."},
      {kUnknownStored, "counter", "Notifications from senders no system lists that were stored."},
      {kUnknownLimited, "counter",
       "Notifications from senders no system lists that were over the rate limit and not stored."},
      {kTrapCache, "gauge", "Source addresses held in the trap ingest's address cache."},
  };
  return kTrapMetrics;
}

std::string renderTrapMetrics(const ingest::TrapReceiverStats& receiver,
                              const ingest::TrapIngestStats& ingest) {
  std::string out;
  for (const auto& def : declaredTrapMetrics()) {
    std::uint64_t v = 0;
    if (def.name == kTrapsReceived) v = receiver.received;
    if (def.name == kTrapsAccepted) v = receiver.accepted;
    if (def.name == kTrapsBadCommunity) v = receiver.rejected_community;
    if (def.name == kTrapsV3) v = receiver.rejected_v3;
    if (def.name == kTrapsNotStored) v = receiver.sink_failures;
    if (def.name == kTrapsErrors) v = receiver.internal_errors;
    if (def.name == kUnknownStored) v = ingest.unknown_stored;
    if (def.name == kUnknownLimited) v = ingest.unknown_limited;
    if (def.name == kTrapCache) v = ingest.cached_addresses;
    fmt::format_to(std::back_inserter(out), "# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", def.name,
                   def.help, def.type, v);
  }
  return out;
}

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Metrics::observeRequest(std::string_view method, std::string_view route, unsigned status,
                             double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(method), std::string(route), status}];
  auto& h = durations_[std::string(route)];
  ++h.count;
  h.sum += seconds;
  for (std::size_t i = 0; i < kDurationBuckets.size(); ++i) {
    if (seconds <= kDurationBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
}

std::string Metrics::render(const store::PoolStats& pool, bool db_ready,
                            std::string_view version) const {
  std::string out;
  auto header = [&out](const MetricDef& def) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", def.name, def.help,
                   def.name, def.type);
  };
  auto gauge = [&out](std::string_view name, std::uint64_t v) {
    fmt::format_to(std::back_inserter(out), "{} {}\n", name, v);
  };
  std::lock_guard lock(mu_);
  for (const auto& def : declaredMetrics()) {
    header(def);
    if (def.name == kRequests) {
      for (const auto& [key, count] : requests_) {
        const auto& [method, route, status] = key;
        fmt::format_to(std::back_inserter(out),
                       "{}{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n", def.name,
                       escapeLabelValue(method), escapeLabelValue(route), status, count);
      }
    } else if (def.name == kDuration) {
      for (const auto& [route, h] : durations_) {
        std::string label = escapeLabelValue(route);
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < kDurationBuckets.size(); ++i) {
          cumulative += h.buckets[i];
          fmt::format_to(std::back_inserter(out), "{}_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                         def.name, label, number(kDurationBuckets[i]), cumulative);
        }
        fmt::format_to(std::back_inserter(out), "{}_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n",
                       def.name, label, h.count);
        fmt::format_to(std::back_inserter(out), "{}_sum{{route=\"{}\"}} {}\n", def.name, label,
                       number(h.sum));
        fmt::format_to(std::back_inserter(out), "{}_count{{route=\"{}\"}} {}\n", def.name, label,
                       h.count);
      }
    } else if (def.name == kPoolSize) {
      gauge(def.name, pool.size);
    } else if (def.name == kPoolOpen) {
      gauge(def.name, pool.open);
    } else if (def.name == kPoolInUse) {
      gauge(def.name, pool.in_use);
    } else if (def.name == kConnectFailures) {
      gauge(def.name, pool.connect_failures);
    } else if (def.name == kAcquireTimeouts) {
      gauge(def.name, pool.acquire_timeouts);
    } else if (def.name == kDbReady) {
      gauge(def.name, db_ready ? 1 : 0);
    } else if (def.name == kBuildInfo) {
      fmt::format_to(std::back_inserter(out), "{}{{version=\"{}\"}} 1\n", def.name,
                     escapeLabelValue(version));
    }
  }
  return out;
}

}  // namespace atrium::api
