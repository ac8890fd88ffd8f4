#include "devices/cisco_xapi/status_document.h"

#include "devices/cisco_xapi/xapi_reply.h"
#include "devices/cisco_xapi/xapi_words.h"

namespace atrium::devices::cisco_xapi {
namespace {

// The first non-empty text among several element paths.
std::string firstText(pugi::xml_node node,
                      std::initializer_list<std::initializer_list<std::string_view>> paths) {
  for (const auto& path : paths) {
    std::string text = textAt(node, path);
    if (!text.empty()) return text;
  }
  return {};
}

Registration h323Registration(pugi::xml_node status) {
  Registration r;
  pugi::xml_node h323 = childNamed(status, "H323");
  if (!h323) return r;
  pugi::xml_node gatekeeper = childNamed(h323, "Gatekeeper");
  if (gatekeeper) {
    r.status = textAt(gatekeeper, {"Status"});
    r.reason = textAt(gatekeeper, {"Reason"});
    r.server = textAt(gatekeeper, {"Address"});
    r.state = registrationStateFromXapi(r.status);
  }
  if (textAt(h323, {"Mode", "Status"}) == "Disabled" && r.state != RegistrationState::kRegistered) {
    r.state = RegistrationState::kDisabled;
    if (r.status.empty()) r.status = "Disabled";
  }
  return r;
}

Registration sipRegistration(pugi::xml_node status) {
  Registration r;
  pugi::xml_node sip = childNamed(status, "SIP");
  if (!sip) return r;
  // TC software nests registrations in SIP Profile 1; CE has them directly under SIP.
  if (pugi::xml_node profile = childNamed(sip, "Profile");
      profile && !childNamed(sip, "Registration")) {
    sip = profile;
  }
  if (pugi::xml_node reg = childNamed(sip, "Registration")) {
    r.status = textAt(reg, {"Status"});
    r.reason = textAt(reg, {"Reason"});
    r.uri = textAt(reg, {"URI"});
    r.state = registrationStateFromXapi(r.status);
  }
  r.server = textAt(sip, {"Proxy", "Address"});
  return r;
}

}  // namespace

DeviceStatus statusFromXml(pugi::xml_node status) {
  DeviceStatus out;
  SystemIdentity& id = out.identity;
  pugi::xml_node unit = childNamed(status, "SystemUnit");
  id.product = textAt(unit, {"ProductId"});
  id.product_type = textAt(unit, {"ProductType"});
  if (id.product_type.empty()) id.product_type = attributeValue(status, "product");
  id.software_version = textAt(unit, {"Software", "Version"});
  if (id.software_version.empty()) id.software_version = attributeValue(status, "version");
  id.serial_number =
      firstText(unit, {{"Hardware", "Module", "SerialNumber"}, {"Hardware", "SerialNumber"}});
  id.system_name = firstText(status, {{"UserInterface", "ContactInfo", "Name"},
                                      {"SystemUnit", "ContactInfo", "Name"},
                                      {"SystemUnit", "ContactName"}});
  pugi::xml_node network = childNamed(status, "Network");
  id.mac_address = textAt(network, {"Ethernet", "MacAddress"});
  id.ipv4_address = textAt(network, {"IPv4", "Address"});
  id.ipv6_address = textAt(network, {"IPv6", "Address"});

  for (pugi::xml_node call : childrenNamed(status, "Call")) {
    if (attributeValue(call, "ghost") == "True") continue;
    out.calls.push_back(callFromXapi(call));
  }
  out.muted = onOffFromXapi(textAt(status, {"Audio", "Microphones", "Mute"}));
  out.h323 = h323Registration(status);
  out.sip = sipRegistration(status);
  id.sip_uri = out.sip.uri;
  out.feedback_slots = feedbackSlotsFromXml(status);
  std::string uptime = textAt(unit, {"Uptime"});
  if (!uptime.empty()) {
    long long seconds = numberFromXapi(uptime, -1);
    if (seconds >= 0) out.uptime = std::chrono::seconds(seconds);
  }
  return out;
}

Result<DeviceStatus> parseStatusXml(std::string_view body, const XmlLimits& limits) {
  auto doc = parseXapiReply(body, "status.xml", limits);
  if (!doc.ok()) return doc.error();
  pugi::xml_node root = doc->root();
  if (localName(root) != "Status") {
    return Error::invalid("status.xml: expected a <Status> document, got <" +
                          std::string(localName(root)) + ">");
  }
  return statusFromXml(root);
}

}  // namespace atrium::devices::cisco_xapi
