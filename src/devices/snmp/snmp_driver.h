// The snmp driver: any system that only speaks SNMP. Polls with one SNMP v2c GET of sysDescr,
// sysObjectID, sysUpTime, sysName and ifOperStatus.1 through net-snmp's single-session API (one
// session per call, so calls from several worker threads are safe). SNMP v2c has no
// authentication answer: a wrong community goes unanswered, so it reads as kUnavailable.
#pragma once

#include "devices/driver.h"

namespace atrium::devices::snmp {

class SnmpDriver : public Driver {
 public:
  static constexpr std::string_view kFamily = "snmp";

  SnmpDriver();

  std::string_view family() const override { return kFamily; }
  Capabilities capabilities() const override;

  // identity.system_name = sysName, product = sysDescr, product_type = sysObjectID,
  // software_version = the word after "version" or "software" in sysDescr when there is one;
  // uptime = sysUpTime; interface_up = ifOperStatus.1 == up(1).
  Result<DeviceStatus> poll(const DriverTarget& target) override;
};

}  // namespace atrium::devices::snmp
