// The polycom driver: Polycom Group Series / Poly VideoOS over REST (JSON, see polycom_json.h).
// Logs in with POST /rest/session and keeps the session cookie per system (address, port and
// user), reusing it across calls and threads and logging in again when the system answers 401.
// Polls /rest/system, /rest/system/status and /rest/conferences; dials with POST
// /rest/conferences, hangs up with DELETE /rest/conferences/{id}; writes settings to /rest/config.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "devices/driver.h"
#include "net/http_client.h"

namespace atrium::devices::polycom {

class PolycomDriver : public Driver {
 public:
  static constexpr std::string_view kFamily = "polycom";

  std::string_view family() const override { return kFamily; }
  Capabilities capabilities() const override;

  Result<DeviceStatus> poll(const DriverTarget& target) override;
  Status applySettings(const DriverTarget& target, const PersistentSettings& settings) override;
  Result<std::string> dial(const DriverTarget& target, const DialRequest& request) override;
  Status disconnect(const DriverTarget& target, const std::string& call_id) override;

  // How many logins this driver has made (tests check that sessions are reused).
  std::size_t logins() const;

 private:
  // A request with the system's session cookie, logging in first when there is none and once
  // more when the system answers 401. Answers other than 2xx are errors.
  Result<net::HttpResponse> request(const DriverTarget& target, std::string_view method,
                                    std::string_view path, std::string_view body = {});
  Result<std::string> login(const DriverTarget& target);
  static std::string sessionKey(const DriverTarget& target);

  mutable std::mutex mu_;
  std::map<std::string, std::string> cookies_;  // session key -> Cookie header value
  std::size_t logins_ = 0;
};

}  // namespace atrium::devices::polycom
