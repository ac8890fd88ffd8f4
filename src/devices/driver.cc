#include "devices/driver.h"

#include "devices/cisco_mcu/mcu_driver.h"
#include "devices/cisco_xapi/xapi_driver.h"
#include "devices/polycom/polycom_driver.h"
#include "devices/snmp/snmp_driver.h"

namespace atrium::devices {

Error Driver::unsupported(std::string_view what) const {
  return Error::invalid(std::string(family()) + " systems cannot " + std::string(what));
}

Status Driver::applySettings(const DriverTarget&, const PersistentSettings&) {
  return unsupported("take configuration");
}

Status Driver::registerFeedback(const DriverTarget&, const FeedbackRegistration&) {
  return unsupported("register for HTTP feedback");
}

Status Driver::deregisterFeedback(const DriverTarget&, int) {
  return unsupported("deregister HTTP feedback");
}

Result<std::string> Driver::dial(const DriverTarget&, const DialRequest&) {
  return unsupported("dial");
}

Status Driver::disconnect(const DriverTarget&, const std::string&) {
  return unsupported("disconnect calls");
}

Result<std::vector<ConferenceInfo>> Driver::listConferences(const DriverTarget&) {
  return unsupported("list conferences");
}

Status Driver::createConference(const DriverTarget&, const ConferenceInfo&) {
  return unsupported("create conferences");
}

Status Driver::destroyConference(const DriverTarget&, const std::string&) {
  return unsupported("destroy conferences");
}

Result<std::vector<ParticipantInfo>> Driver::listParticipants(const DriverTarget&,
                                                              const std::string&) {
  return unsupported("list participants");
}

Status Driver::addParticipant(const DriverTarget&, const std::string&, const std::string&) {
  return unsupported("add participants");
}

Status Driver::removeParticipant(const DriverTarget&, const std::string&, const std::string&) {
  return unsupported("remove participants");
}

void DriverRegistry::add(std::unique_ptr<Driver> driver) {
  std::string name(driver->family());
  drivers_[std::move(name)] = std::move(driver);
}

Driver* DriverRegistry::find(std::string_view family) const {
  auto it = drivers_.find(family);
  return it == drivers_.end() ? nullptr : it->second.get();
}

std::vector<std::string> DriverRegistry::families() const {
  std::vector<std::string> out;
  out.reserve(drivers_.size());
  for (const auto& [name, driver] : drivers_) out.push_back(name);
  return out;
}

std::unique_ptr<DriverRegistry> builtinDrivers() {
  auto registry = std::make_unique<DriverRegistry>();
  registry->add(std::make_unique<cisco_xapi::XapiDriver>());
  registry->add(std::make_unique<cisco_mcu::McuDriver>());
  registry->add(std::make_unique<polycom::PolycomDriver>());
  registry->add(std::make_unique<snmp::SnmpDriver>());
  return registry;
}

}  // namespace atrium::devices
