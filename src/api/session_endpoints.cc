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
  if (call.endpoint == Endpoint::kCreateSession) result = createSession(call);
  if (call.endpoint == Endpoint::kClusterDiagnostics) result = diagnostics();
  if (result.ok()) return std::move(result).value();
  return errorResponse(result.error());
}

Result<net::Response> SessionEndpoints::createSession(const ApiCall& call) {
  if (signer_ == nullptr) return Error::notFound("this node signs no sessions");
  auto body = parseJsonObject(call.body, "session");
  if (!body) return body.error();
  JsonFields fields(*body);
  auto user = fields.requiredString("user");
  if (!user) return user.error();
  ATRIUM_TRY(fields.finish());
  ATRIUM_TRY(validateName(*user, "user"));
  auto token = signer_->sign(*user, kSessionTtl);
  if (!token) return token.error();
  log::info("session.created",
            {{"user", *user}, {"key", token->claims.key_id}, {"by", call.actor}});
  const auto expires =
      std::chrono::system_clock::time_point(std::chrono::seconds(token->claims.expires_at));
  nlohmann::json out = {
      {"token", token->token}, {"expires_at", formatTimestamp(expires)}, {"user", *user}};
  return jsonResponse(201, out.dump());
}

Result<net::Response> SessionEndpoints::diagnostics() {
  if (diagnostics_ == nullptr) return Error::notFound("this node runs no rule checks");
  return jsonResponse(200, diagnostics_->evaluate().toJson().dump());
}

}  // namespace atrium::api
