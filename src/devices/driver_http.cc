#include "devices/driver_http.h"

#include "common/log.h"

namespace atrium::devices {
namespace {

std::string hostPort(const DriverTarget& target) {
  bool v6 = target.address.find(':') != std::string::npos;
  std::string host = v6 ? "[" + target.address + "]" : target.address;
  return target.port == 0 ? host : host + ":" + std::to_string(target.port);
}

// A short, single-line excerpt of a body for an error message.
std::string excerpt(std::string_view body) {
  constexpr std::size_t kMax = 200;
  std::string out;
  for (char c : body.substr(0, kMax)) {
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  if (body.size() > kMax) out += "...";
  return out;
}

}  // namespace

std::string systemLabel(std::string_view family, const DriverTarget& target) {
  return std::string(family) + " system at " + hostPort(target);
}

Error driverError(ErrorCode code, std::string_view family, const DriverTarget& target,
                  std::string_view what) {
  return Error{code, systemLabel(family, target) + ": " + std::string(what), {}};
}

void logDriverFailure(std::string_view event, std::string_view family, const DriverTarget& target,
                      const Error& error) {
  log::Fields fields{{"family", std::string(family)},
                     {"system_id", target.system_id},
                     {"address", hostPort(target)},
                     {"code", std::string(errorCodeName(error.code))},
                     {"error", error.message}};
  // Polls of dead systems repeat every interval: the poller raises tickets for those, so the
  // line is for debugging only. Commands are rare and worth a warning.
  if (event == "driver.poll_failed") {
    log::debug(event, fields);
  } else {
    log::warn(event, fields);
  }
}

DriverHttp::DriverHttp(std::string_view family, const DriverTarget& target)
    : family_(family),
      target_(target),
      port_(target.port != 0 ? target.port : (target.tls ? 443 : 80)) {}

Result<net::HttpResponse> DriverHttp::send(std::string_view method, std::string_view path,
                                           std::string_view body, const net::Headers& headers) {
  net::HttpClientOptions options;
  options.timeout = target_.timeout;
  options.tls = target_.tls;
  options.verify_tls = target_.verify_tls;
  options.max_answer_bytes = target_.max_answer_bytes;
  net::HttpClient client;
  auto response = client.request(method, target_.address, port_, path, body, headers, options);
  if (!response.ok()) {
    // It answered, but more than Atrium reads: an unreadable answer, not an unreachable system.
    if (response.error().code == ErrorCode::kPayloadTooLarge) {
      return malformed(response.error().message);
    }
    if (response.error().code == ErrorCode::kTimeout) {
      return unavailable("no answer within " + std::to_string(target_.timeout.count()) +
                         " ms (" + response.error().message + ")");
    }
    return unavailable(response.error().message);
  }
  if (response->status == 401 || response->status == 403) {
    return unauthorized("credentials rejected (HTTP " + std::to_string(response->status) + " to " +
                        std::string(method) + " " + std::string(path) + ")");
  }
  return response;
}

Error DriverHttp::unavailable(std::string_view what) const {
  return driverError(ErrorCode::kUnavailable, family_, target_, what);
}

Error DriverHttp::unauthorized(std::string_view what) const {
  return driverError(ErrorCode::kUnauthorized, family_, target_, what);
}

Error DriverHttp::refused(std::string_view what) const {
  return driverError(ErrorCode::kInvalidArgument, family_, target_, what);
}

Error DriverHttp::malformed(std::string_view what) const {
  return driverError(ErrorCode::kInternal, family_, target_, what);
}

Error DriverHttp::labelled(const Error& error) const {
  Error out = driverError(error.code, family_, target_, error.message);
  out.field = error.field;
  return out;
}

Error DriverHttp::httpStatusError(const net::HttpResponse& response, std::string_view what) const {
  std::string message = std::string(what) + " answered HTTP " + std::to_string(response.status);
  if (!response.body.empty()) message += ": " + excerpt(response.body);
  if (response.status >= 500) return unavailable(message);
  return refused(message);
}

}  // namespace atrium::devices
