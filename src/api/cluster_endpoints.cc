#include "api/cluster_endpoints.h"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "api/errors.h"
#include "api/validation.h"
#include "common/clock.h"
#include "common/log.h"

namespace atrium::api {

using nlohmann::json;

namespace {

constexpr std::string_view kBucketPrefix = "bucket:";

std::string timestampOf(std::int64_t ms) {
  return formatTimestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

net::Response jsonOf(unsigned status, const json& body) {
  return jsonResponse(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace

json nodeToJson(const store::NodeRecord& n, const std::vector<int>& buckets) {
  const auto& h = n.node;
  return {{"id", h.id},
          {"name", h.name},
          {"version", h.version},
          {"role", h.role},
          {"state", n.state},
          {"alive", n.alive},
          {"age_ms", n.age_ms},
          {"started_at", timestampOf(n.started_at)},
          {"last_heartbeat", timestampOf(n.last_heartbeat)},
          {"device_addresses", h.device_addresses},
          {"api_address", h.api_address},
          {"file_path", h.file_path},
          {"cache_checksum", h.cache_checksum},
          {"identity_fingerprint", h.identity_fingerprint},
          {"key_fingerprint", h.key_fingerprint},
          {"driver_families", h.driver_families},
          {"rtt_ms", h.rtt_ms},
          {"rtt_p50_ms", h.rtt_p50_ms},
          {"rtt_p99_ms", h.rtt_p99_ms},
          {"clock_offset_ms", h.clock_offset_ms},
          {"buckets", buckets},
          {"requested_role", n.requested_role ? json(*n.requested_role) : json(nullptr)}};
}

net::Response ClusterEndpoints::handle(const ApiCall& call) {
  const std::string id = call.params.empty() ? std::string() : call.params.front();
  Result<net::Response> result = Error::internal("not a cluster endpoint");
  switch (call.endpoint) {
    case Endpoint::kClusterNodes:
      result = nodes();
      break;
    case Endpoint::kPromoteNode:
      result = requestRole(id, "active", call.actor);
      break;
    case Endpoint::kDemoteNode:
      result = requestRole(id, "standby", call.actor);
      break;
    default:
      break;
  }
  if (result.ok()) return std::move(result).value();
  return errorResponse(result.error());
}

Result<std::map<std::string, std::vector<int>>> ClusterEndpoints::bucketsByHolder() {
  auto leases = cluster_.leases(std::string(kBucketPrefix));
  if (!leases) return leases.error();
  std::map<std::string, std::vector<int>> out;
  for (const auto& l : *leases) {
    if (l.holder.empty() || l.expires_at <= l.db_now) continue;
    std::string_view key = l.key;
    if (!key.starts_with(kBucketPrefix)) continue;
    key.remove_prefix(kBucketPrefix.size());
    int bucket = -1;
    if (std::from_chars(key.data(), key.data() + key.size(), bucket).ec != std::errc()) continue;
    out[l.holder].push_back(bucket);
  }
  for (auto& [holder, buckets] : out) std::sort(buckets.begin(), buckets.end());
  return out;
}

Result<net::Response> ClusterEndpoints::nodes() {
  auto nodes = cluster_.nodes(failover_timeout_.count());
  if (!nodes) return nodes.error();
  auto buckets = bucketsByHolder();
  if (!buckets) return buckets.error();
  json items = json::array();
  for (const auto& n : *nodes) {
    auto it = buckets->find(n.node.id);
    items.push_back(nodeToJson(n, it == buckets->end() ? std::vector<int>() : it->second));
  }
  return jsonOf(200, {{"nodes", items},
                      {"bucket_count", store::kBucketCount},
                      {"failover_timeout_ms", failover_timeout_.count()}});
}

Result<net::Response> ClusterEndpoints::requestRole(const std::string& id_or_name,
                                                    const std::string& role,
                                                    const std::string& actor) {
  if (auto s = cluster_.requestRole(id_or_name, role); !s) {
    if (s.error().code == ErrorCode::kNotFound) {
      return Error::notFound("no node has the id or name " + jsonQuote(id_or_name));
    }
    return s.error();
  }
  log::info("cluster.role_requested", {{"node", id_or_name}, {"role", role}, {"actor", actor}});
  auto nodes = cluster_.nodes(failover_timeout_.count());
  if (!nodes) return nodes.error();
  auto buckets = bucketsByHolder();
  if (!buckets) return buckets.error();
  for (const auto& n : *nodes) {
    if (n.node.id != id_or_name && n.node.name != id_or_name) continue;
    auto it = buckets->find(n.node.id);
    return jsonOf(
        202, {{"node", nodeToJson(n, it == buckets->end() ? std::vector<int>() : it->second)}});
  }
  return Error::notFound("no node has the id or name " + jsonQuote(id_or_name));
}

}  // namespace atrium::api
