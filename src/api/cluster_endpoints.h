// The node registry in the API: GET /api/v1/cluster/nodes lists every node the installation has
// seen (alive or dead, with its measurements and the bucket leases it holds), and
// POST /api/v1/cluster/nodes/{id-or-name}/promote|demote records a role request that the node
// applies at its next heartbeat. Blocking (database): ApiServer runs it on its database pool.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "api/endpoints.h"
#include "net/http_server.h"
#include "store/cluster_store.h"

namespace atrium::api {

class ClusterEndpoints {
 public:
  ClusterEndpoints(store::ClusterStore& cluster, std::chrono::milliseconds failover_timeout)
      : cluster_(cluster), failover_timeout_(failover_timeout) {}

  static bool serves(Endpoint e) {
    return e == Endpoint::kClusterNodes || e == Endpoint::kPromoteNode ||
           e == Endpoint::kDemoteNode;
  }
  net::Response handle(const ApiCall& call);

 private:
  Result<net::Response> nodes();
  Result<net::Response> requestRole(const std::string& id_or_name, const std::string& role,
                                    const std::string& actor);
  // The unexpired bucket leases, by holder.
  Result<std::map<std::string, std::vector<int>>> bucketsByHolder();

  store::ClusterStore& cluster_;
  std::chrono::milliseconds failover_timeout_;
};

// One node as the API shows it.
nlohmann::json nodeToJson(const store::NodeRecord& node, const std::vector<int>& buckets);

}  // namespace atrium::api
