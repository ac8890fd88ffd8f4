// The cisco-xapi driver: Cisco TelePresence endpoints (TC, CE, RoomOS) over HTTP(S) with Basic
// authentication. Polls GET /status.xml and /configuration.xml; writes settings and runs commands
// with POST /putxml; registers HttpFeedback slots; dials and disconnects. Errors the endpoint
// answers with HTTP 200 (status="Error", ParameterError) are refusals (kInvalidArgument).
#pragma once

#include "devices/driver.h"

namespace atrium::devices::cisco_xapi {

class XapiDriver : public Driver {
 public:
  static constexpr std::string_view kFamily = "cisco-xapi";

  std::string_view family() const override { return kFamily; }
  Capabilities capabilities() const override;

  Result<DeviceStatus> poll(const DriverTarget& target) override;
  Status applySettings(const DriverTarget& target, const PersistentSettings& settings) override;
  Status registerFeedback(const DriverTarget& target,
                          const FeedbackRegistration& registration) override;
  Status deregisterFeedback(const DriverTarget& target, int slot) override;
  Result<std::string> dial(const DriverTarget& target, const DialRequest& request) override;
  Status disconnect(const DriverTarget& target, const std::string& call_id) override;
};

}  // namespace atrium::devices::cisco_xapi
