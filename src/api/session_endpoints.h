// The rule checks in the API: GET /api/v1/cluster/diagnostics, every redundancy rule evaluated
// now (cluster::Diagnostics). Signing in lives in people_endpoints.h.
// Blocking (database): ApiServer runs them on its database pool.
#pragma once

#include <chrono>

#include "api/endpoints.h"
#include "api/token_signer.h"
#include "cluster/diagnostics.h"
#include "net/http_server.h"

namespace atrium::api {

inline constexpr std::chrono::hours kSessionTtl{12};

class SessionEndpoints {
 public:
  SessionEndpoints(TokenSigner* signer, cluster::Diagnostics* diagnostics)
      : signer_(signer), diagnostics_(diagnostics) {}

  static bool serves(Endpoint e) { return e == Endpoint::kClusterDiagnostics; }
  net::Response handle(const ApiCall& call);

 private:
  Result<net::Response> diagnostics();

  TokenSigner* signer_;
  cluster::Diagnostics* diagnostics_;
};

}  // namespace atrium::api
