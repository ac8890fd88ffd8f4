#include "api/errors.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include "common/log.h"

namespace atrium::api {

namespace http = boost::beast::http;

namespace {

constexpr std::string_view kRetryAfterSeconds = "5";
constexpr std::string_view kRetryAfterRateLimited = "60";
constexpr std::string_view kGenericInternal = "internal error; the server log has the details";

}  // namespace

unsigned httpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kReadOnly:
      return 503;
    case ErrorCode::kTimeout:
      return 504;
    case ErrorCode::kTooManyRequests:
      return 429;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

std::string errorJson(const Error& error) {
  return net::jsonErrorBody(errorCodeName(error.code), error.message, error.field);
}

net::Response jsonResponse(unsigned status, std::string body) {
  net::Response res;
  res.result(status);
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

net::Response jsonAnswer(unsigned status, const nlohmann::json& body) {
  return jsonResponse(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

net::Response createdAnswer(const nlohmann::json& body, const std::string& location) {
  auto res = jsonAnswer(201, body);
  res.set(http::field::location, location);
  return res;
}

net::Response noContent() {
  net::Response res;
  res.result(204);
  return res;
}

net::Response errorResponse(const Error& error) {
  if (error.code == ErrorCode::kInternal) {
    log::error("http.error", {{"code", errorCodeName(error.code)}, {"detail", error.message}});
    return jsonResponse(500, net::jsonErrorBody("internal", kGenericInternal));
  }
  auto res = jsonResponse(httpStatus(error.code), errorJson(error));
  if (error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kReadOnly) {
    res.set(http::field::retry_after, kRetryAfterSeconds);
  }
  if (error.code == ErrorCode::kTooManyRequests) res.set(http::field::retry_after, kRetryAfterRateLimited);
  return res;
}

net::Response databaseResponse(Result<net::Response> result) {
  if (result.ok()) return std::move(result).value();
  const Error& e = result.error();
  if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kReadOnly ||
      e.code == ErrorCode::kTimeout) {
    log::error("http.error", {{"code", errorCodeName(e.code)}, {"detail", e.message}});
  }
  return errorResponse(e);
}

net::Response methodNotAllowed(std::string_view method, std::string_view path,
                               const std::vector<std::string>& allowed) {
  std::string allow;
  for (const auto& m : allowed) {
    if (!allow.empty()) allow += ", ";
    allow += m;
  }
  auto res = errorResponse({ErrorCode::kMethodNotAllowed,
                            "method " + std::string(method) + " is not allowed on " +
                                std::string(path) + "; allowed: " + allow,
                            {}});
  res.set(http::field::allow, allow);
  return res;
}

net::Response unsupportedMediaType(std::string_view content_type) {
  std::string message =
      content_type.empty()
          ? std::string("the request body must be JSON: send Content-Type: application/json")
          : "unsupported Content-Type \"" + std::string(content_type) +
                "\": the request body must be application/json";
  return jsonResponse(415, net::jsonErrorBody("unsupported_media_type", message));
}

}  // namespace atrium::api
