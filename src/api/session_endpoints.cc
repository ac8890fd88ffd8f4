#include "api/session_endpoints.h"

#include <nlohmann/json.hpp>

#include "api/errors.h"
#include "api/json_body.h"
#include "api/validation.h"
#include "common/clock.h"
#include "common/log.h"

namespace atrium::api {

net::Response SessionEndpoints::handle(const ApiCall& call) {
  Result<net::Response> result = Error::internal("endpoint not served by the sessions");
  if (call.endpoint == Endpoint::kClusterDiagnostics) result = diagnostics();
  if (result.ok()) return std::move(result).value();
  return errorResponse(result.error());
}

Result<net::Response> SessionEndpoints::diagnostics() {
  if (diagnostics_ == nullptr) return Error::notFound("this node runs no rule checks");
  return jsonResponse(200, diagnostics_->evaluate().toJson().dump());
}

}  // namespace atrium::api
