// What the HTTP-speaking drivers share: reaching a DriverTarget over HTTP or HTTPS with its
// timeout, and turning every failure into the driver error policy of driver.h with a message
// that names the system ("cisco-xapi system at 10.1.2.3: cannot connect ...").
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "devices/driver.h"
#include "net/http_client.h"

namespace atrium::devices {

// "<family> system at <address>[:port]" for messages.
std::string systemLabel(std::string_view family, const DriverTarget& target);

// An error of `code` whose message is "<family> system at <address>: <what>".
Error driverError(ErrorCode code, std::string_view family, const DriverTarget& target,
                  std::string_view what);

// Logs a failed driver operation (event e.g. "driver.poll_failed") with the system id, family,
// address, error code and message. Never logs credentials.
void logDriverFailure(std::string_view event, std::string_view family, const DriverTarget& target,
                      const Error& error);

class DriverHttp {
 public:
  DriverHttp(std::string_view family, const DriverTarget& target);

  // Sends one request. Transport failures (refused, timed out, TLS) are kUnavailable; 401 and 403
  // are kUnauthorized; an answer over the target's max_answer_bytes (or a header over 64 KiB) is
  // kInternal, its message naming the limit. Other statuses are returned for the caller to judge.
  Result<net::HttpResponse> send(std::string_view method, std::string_view path,
                                 std::string_view body = {}, const net::Headers& headers = {});

  // The errors of the policy, labelled with this system.
  Error unavailable(std::string_view what) const;
  Error unauthorized(std::string_view what) const;
  Error refused(std::string_view what) const;    // kInvalidArgument: the device said no
  Error malformed(std::string_view what) const;  // kInternal: an answer we cannot read
  // Keeps `error`'s code, prefixes the label to its message.
  Error labelled(const Error& error) const;
  // An HTTP status other than 2xx as an error: 5xx kUnavailable, 404/other 4xx kInvalidArgument.
  Error httpStatusError(const net::HttpResponse& response, std::string_view what) const;

  std::uint16_t port() const { return port_; }

 private:
  std::string family_;
  const DriverTarget& target_;
  std::uint16_t port_;
};

}  // namespace atrium::devices
