#include "app/api_client.h"

#include <cctype>

#include <fmt/format.h>

#include "config/config.h"

namespace atrium::app {
namespace {

ErrorCode codeFromStatus(unsigned status) {
  switch (status) {
    case 400: return ErrorCode::kInvalidArgument;
    case 401: return ErrorCode::kUnauthorized;
    case 403: return ErrorCode::kForbidden;
    case 404: return ErrorCode::kNotFound;
    case 405: return ErrorCode::kMethodNotAllowed;
    case 409: return ErrorCode::kConflict;
    case 413: return ErrorCode::kPayloadTooLarge;
    case 503: return ErrorCode::kUnavailable;
    default: return ErrorCode::kInternal;
  }
}

}  // namespace

Result<ApiClient> ApiClient::fromAddress(std::string_view address, std::string actor) {
  if (address.rfind("http://", 0) == 0) address.remove_prefix(7);
  while (!address.empty() && address.back() == '/') address.remove_suffix(1);
  auto listen = config::parseListenAddress(address);
  if (!listen) return Error::invalid(fmt::format("--server: {}", listen.error().message));
  return ApiClient(listen->host, listen->port, std::move(actor));
}

Result<nlohmann::json> ApiClient::call(std::string_view method, std::string_view target, std::string_view body) {
  auto response = http_.request(method, host_, port_, target, body, {{"X-Atrium-Actor", actor_}});
  if (!response) {
    return Error::unavailable(fmt::format("cannot reach the Atrium server at {}:{}: {}", host_, port_,
                                          response.error().message));
  }
  nlohmann::json j = nullptr;
  if (!response->body.empty()) {
    j = nlohmann::json::parse(response->body, nullptr, false);
    if (j.is_discarded()) {
      return Error::internal(fmt::format("the server at {}:{} answered {} with a body that is not JSON",
                                         host_, port_, response->status));
    }
  }
  if (response->status >= 200 && response->status < 300) return j;
  Error e{codeFromStatus(response->status), fmt::format("the server answered {}", response->status), {}};
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    e.message = j["error"].value("message", e.message);
    e.field = j["error"].value("field", "");
  }
  return e;
}

std::string ApiClient::escape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace atrium::app
