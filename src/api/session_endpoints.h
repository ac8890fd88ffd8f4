// Sessions and the rule checks in the API:
//  - POST /api/v1/sessions {"user"} -> 201 {"token","expires_at"}: a token signed with the
//    installation's validation key (TokenSigner), valid on every node for 12 hours. There is no
//    password yet (authentication proper comes with the identity issue): the token only carries
//    who acts, for the audit log.
//  - GET /api/v1/cluster/diagnostics: every redundancy rule evaluated now (cluster::Diagnostics).
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

  static bool serves(Endpoint e) {
    return e == Endpoint::kCreateSession || e == Endpoint::kClusterDiagnostics;
  }
  net::Response handle(const ApiCall& call);

 private:
  Result<net::Response> createSession(const ApiCall& call);
  Result<net::Response> diagnostics();

  TokenSigner* signer_;
  cluster::Diagnostics* diagnostics_;
};

}  // namespace atrium::api
