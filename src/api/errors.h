// One error shape for every failure: {"error":{"code":"conflict","message":"...","field":"name"}}
// (field only when known), with the HTTP status that the error's code maps to.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "net/http_server.h"

namespace atrium::api {

// The HTTP status for an error code: invalid_argument 400, unauthorized 401, forbidden 403,
// not_found 404, method_not_allowed 405, conflict 409, payload_too_large 413, internal 500,
// unavailable and read_only 503, timeout 504.
unsigned httpStatus(ErrorCode code);

// The JSON body for an error, as sent (internal errors keep their message: see errorResponse).
std::string errorJson(const Error& error);

// The response for an error. Internal errors are logged with their detail (event http.error)
// and answered with a generic message; 503s carry Retry-After.
net::Response errorResponse(const Error& error);

// The response of an endpoint that asked the database, or its error's (see errorResponse); a
// database that is unavailable, read-only or timed out is logged as well (event http.error).
net::Response databaseResponse(Result<net::Response> result);

// 405 with the Allow header listing the methods the route accepts.
net::Response methodNotAllowed(std::string_view method, std::string_view path,
                               const std::vector<std::string>& allowed);

// 415: a request body that is not application/json.
net::Response unsupportedMediaType(std::string_view content_type);

// A JSON answer with the given status.
net::Response jsonResponse(unsigned status, std::string body);
// The same from a value (invalid UTF-8 in strings replaced, not refused).
net::Response jsonAnswer(unsigned status, const nlohmann::json& body);
// 201 with the new resource and its Location.
net::Response createdAnswer(const nlohmann::json& body, const std::string& location);
// 204 No Content.
net::Response noContent();

}  // namespace atrium::api
