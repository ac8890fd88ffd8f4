// The cisco-mcu driver: Cisco MCU and TelePresence Server bridges over XML-RPC (POST /RPC2),
// credentials in every call's struct. Polls device.query (identity, uptime),
// conference.enumerate (active conferences, reported as the bridge's calls) and
// feedbackReceiver.query; controls conferences and participants with enumerateID paging;
// registers feedback with feedbackReceiver.configure. XML-RPC faults keep the meaning of the
// fault table (authentication failure -> kUnauthorized, no such conference -> kNotFound, ...).
#pragma once

#include "devices/driver.h"

namespace atrium::devices::cisco_mcu {

class McuDriver : public Driver {
 public:
  static constexpr std::string_view kFamily = "cisco-mcu";

  std::string_view family() const override { return kFamily; }
  Capabilities capabilities() const override;

  Result<DeviceStatus> poll(const DriverTarget& target) override;
  Status registerFeedback(const DriverTarget& target,
                          const FeedbackRegistration& registration) override;
  Status deregisterFeedback(const DriverTarget& target, int slot) override;

  Result<std::vector<ConferenceInfo>> listConferences(const DriverTarget& target) override;
  Status createConference(const DriverTarget& target, const ConferenceInfo& conference) override;
  Status destroyConference(const DriverTarget& target, const std::string& name) override;
  Result<std::vector<ParticipantInfo>> listParticipants(const DriverTarget& target,
                                                        const std::string& conference) override;
  Status addParticipant(const DriverTarget& target, const std::string& conference,
                        const std::string& address) override;
  Status removeParticipant(const DriverTarget& target, const std::string& conference,
                           const std::string& participant) override;
};

}  // namespace atrium::devices::cisco_mcu
