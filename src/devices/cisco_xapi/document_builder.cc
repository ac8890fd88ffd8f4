#include "devices/cisco_xapi/document_builder.h"

#include <algorithm>
#include <cctype>
#include <pugixml.hpp>

#include "devices/cisco_xapi/xapi_words.h"
#include "devices/xml_tree.h"

namespace atrium::devices::cisco_xapi {
namespace {

pugi::xml_node element(pugi::xml_node parent, const char* name, int item = 0) {
  pugi::xml_node node = parent.append_child(name);
  if (item > 0) {
    node.append_attribute("item").set_value(item);
    node.append_attribute("maxOccurrence").set_value("n");
  }
  return node;
}

pugi::xml_node leaf(pugi::xml_node parent, const char* name, std::string_view value, int item = 0) {
  pugi::xml_node node = element(parent, name, item);
  node.text().set(std::string(value).c_str());
  return node;
}

// Event posts put item="1" on every element, as CE does.
pugi::xml_node eventLeaf(pugi::xml_node parent, const char* name, std::string_view value) {
  pugi::xml_node node = parent.append_child(name);
  node.append_attribute("item").set_value(1);
  node.text().set(std::string(value).c_str());
  return node;
}

pugi::xml_node rootElement(pugi::xml_document& doc, const char* name, const DocumentStyle& style,
                           std::string_view product_type, std::string_view version) {
  pugi::xml_node root = doc.append_child(name);
  if (!style.xmlns.empty()) root.append_attribute("xmlns").set_value(style.xmlns.c_str());
  root.append_attribute("product").set_value(
      std::string(product_type.empty() ? std::string_view(style.product_type) : product_type)
          .c_str());
  if (!version.empty()) root.append_attribute("version").set_value(std::string(version).c_str());
  root.append_attribute("apiVersion").set_value(style.api_version.c_str());
  return root;
}

pugi::xml_node feedbackRoot(pugi::xml_document& doc, const char* name, const SystemIdentity& id,
                            const DocumentStyle& style) {
  pugi::xml_node root = doc.append_child(name);
  if (!style.xmlns.empty()) root.append_attribute("xmlns").set_value(style.xmlns.c_str());
  pugi::xml_node block = root.append_child("Identification");
  leaf(block, "SystemName", id.system_name);
  leaf(block, "MACAddress", id.mac_address);
  leaf(block, "IPAddress", id.ipv4_address);
  leaf(block, "IPAddressV6", id.ipv6_address);
  leaf(block, "ProductType", id.product_type.empty() ? style.product_type : id.product_type);
  leaf(block, "ProductID", id.product);
  leaf(block, "SWVersion", id.software_version);
  leaf(block, "SerialNumber", id.serial_number);
  return root;
}

std::string lowerCase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int callItem(const CallInfo& call, int fallback) {
  long long n = numberFromXapi(call.call_id, -1);
  return n > 0 && n < 1'000'000'000 ? static_cast<int>(n) : fallback;
}

}  // namespace

std::string buildStatusXml(const DeviceStatus& status, const DocumentStyle& style) {
  const SystemIdentity& id = status.identity;
  pugi::xml_document doc;
  pugi::xml_node root = rootElement(doc, "Status", style, id.product_type, id.software_version);

  if (status.muted.has_value()) {
    pugi::xml_node audio = element(root, "Audio");
    leaf(element(audio, "Microphones"), "Mute", *status.muted ? "On" : "Off");
  }
  int index = 0;
  for (const CallInfo& call : status.calls) {
    pugi::xml_node c = element(root, "Call", callItem(call, ++index));
    leaf(c, "CallType", "Video");
    std::string protocol = lowerCase(call.protocol);
    leaf(c, "CallbackNumber",
         protocol.empty() ? call.remote_number : protocol + ":" + call.remote_number);
    leaf(c, "Direction", callDirectionToXapi(call.direction));
    leaf(c, "DisplayName", call.display_name);
    leaf(c, "Duration", std::to_string(call.duration.count()));
    leaf(c, "Protocol", call.protocol);
    leaf(c, "ReceiveCallRate", std::to_string(call.rate_kbps));
    leaf(c, "RemoteNumber", call.remote_number);
    leaf(c, "Status", callStateToXapi(call.state));
    leaf(c, "TransmitCallRate", std::to_string(call.rate_kbps));
  }
  {
    pugi::xml_node h323 = element(root, "H323");
    pugi::xml_node gk = element(h323, "Gatekeeper");
    leaf(gk, "Address", status.h323.server);
    leaf(gk, "Port", "1719");
    leaf(gk, "Reason", status.h323.reason);
    leaf(gk, "Status",
         status.h323.status.empty() ? registrationStateToXapi(status.h323.state)
                                    : std::string_view(status.h323.status));
    pugi::xml_node mode = element(h323, "Mode");
    leaf(mode, "Reason", "");
    leaf(mode, "Status",
         status.h323.state == RegistrationState::kDisabled ? "Disabled" : "Enabled");
  }
  for (const FeedbackSlot& slot : status.feedback_slots) {
    pugi::xml_node f = element(root, "HttpFeedback", slot.slot);
    int item = 0;
    for (const std::string& e : slot.expressions) leaf(f, "Expression", e, ++item);
    leaf(f, "Format", slot.format.empty() ? "XML" : slot.format);
    if (!slot.status.empty()) leaf(f, "Status", slot.status);
    leaf(f, "URL", slot.url);
  }
  {
    pugi::xml_node network = element(root, "Network", 1);
    leaf(element(network, "Ethernet"), "MacAddress", id.mac_address);
    leaf(element(network, "IPv4"), "Address", id.ipv4_address);
    leaf(element(network, "IPv6"), "Address", id.ipv6_address);
  }
  {
    pugi::xml_node sip = element(root, "SIP");
    pugi::xml_node proxy = element(sip, "Proxy", 1);
    leaf(proxy, "Address", status.sip.server);
    leaf(proxy, "Status", status.sip.server.empty() ? "Off" : "Active");
    pugi::xml_node reg = element(sip, "Registration", 1);
    leaf(reg, "Reason", status.sip.reason);
    leaf(reg, "Status",
         status.sip.status.empty() ? registrationStateToXapi(status.sip.state)
                                   : std::string_view(status.sip.status));
    leaf(reg, "URI", status.sip.uri.empty() ? id.sip_uri : status.sip.uri);
  }
  {
    pugi::xml_node unit = element(root, "SystemUnit");
    leaf(element(element(unit, "Hardware"), "Module"), "SerialNumber", id.serial_number);
    leaf(unit, "ProductId", id.product);
    leaf(unit, "ProductType", id.product_type.empty() ? style.product_type : id.product_type);
    leaf(element(unit, "Software"), "Version", id.software_version);
    pugi::xml_node state = element(unit, "State");
    leaf(state, "NumberOfActiveCalls",
         std::to_string(
             std::count_if(status.calls.begin(), status.calls.end(),
                           [](const CallInfo& c) { return c.state == CallState::kConnected; })));
    if (status.uptime) leaf(unit, "Uptime", std::to_string(status.uptime->count()));
  }
  leaf(element(element(root, "UserInterface"), "ContactInfo"), "Name", id.system_name);
  return serializeXml(doc, true);
}

Result<std::string> buildConfigurationXml(const std::map<std::string, std::string>& values,
                                          const SystemIdentity& identity,
                                          const DocumentStyle& style) {
  pugi::xml_document doc;
  pugi::xml_node root =
      rootElement(doc, "Configuration", style, identity.product_type, identity.software_version);
  for (const auto& [path, value] : values) ATRIUM_TRY(addXmlPath(root, path, value));
  return serializeXml(doc, true);
}

std::map<std::string, std::string> defaultConfiguration(const SystemIdentity& identity) {
  return {
      {"Conference/DefaultCall/Protocol", "Sip"},
      {"Conference/DefaultCall/Rate", "6000"},
      {"H323/CallSetup/Mode", "Gatekeeper"},
      {"H323/H323Alias/E164", identity.e164},
      {"H323/H323Alias/ID", identity.h323_id},
      {"Network[1]/IPv4/Address", identity.ipv4_address},
      {"Network[1]/IPv4/Assignment", "Static"},
      {"Network[1]/IPv6/Address", identity.ipv6_address},
      {"NetworkServices/H323/Mode", "On"},
      {"NetworkServices/HTTP/Mode", "HTTP+HTTPS"},
      {"NetworkServices/SIP/Mode", "On"},
      {"Provisioning/ExternalManager/Address", ""},
      {"Provisioning/ExternalManager/Path", ""},
      {"Provisioning/ExternalManager/Protocol", "HTTPS"},
      {"Provisioning/Mode", "Off"},
      {"SIP/DisplayName", identity.system_name},
      {"SIP/URI", identity.sip_uri},
      {"SystemUnit/Name", identity.system_name},
  };
}

std::string buildCallSuccessfulFeedback(const SystemIdentity& identity, const CallInfo& call,
                                        const DocumentStyle& style) {
  pugi::xml_document doc;
  pugi::xml_node root = feedbackRoot(doc, "Event", identity, style);
  pugi::xml_node e = root.append_child("CallSuccessful");
  e.append_attribute("item").set_value(1);
  eventLeaf(e, "Protocol", call.protocol);
  eventLeaf(e, "Direction", lowerCase(callDirectionToXapi(call.direction)));
  eventLeaf(e, "CallRate", std::to_string(call.rate_kbps));
  eventLeaf(e, "RemoteURI", call.remote_number);
  eventLeaf(e, "DisplayName", call.display_name);
  eventLeaf(e, "EncryptionIn", "Off");
  eventLeaf(e, "EncryptionOut", "Off");
  eventLeaf(e, "CallId", call.call_id);
  return serializeXml(doc, true);
}

std::string buildCallDisconnectFeedback(const SystemIdentity& identity, const CallInfo& call,
                                        std::string_view cause_value, std::string_view cause_type,
                                        std::string_view cause_string, const DocumentStyle& style) {
  pugi::xml_document doc;
  pugi::xml_node root = feedbackRoot(doc, "Event", identity, style);
  pugi::xml_node e = root.append_child("CallDisconnect");
  e.append_attribute("item").set_value(1);
  eventLeaf(e, "CauseValue", cause_value);
  eventLeaf(e, "CauseType", cause_type);
  eventLeaf(e, "CauseString", cause_string);
  eventLeaf(e, "OrigCallDirection", lowerCase(callDirectionToXapi(call.direction)));
  eventLeaf(e, "RemoteURI", call.remote_number);
  eventLeaf(e, "DisplayName", call.display_name);
  eventLeaf(e, "CallId", call.call_id);
  eventLeaf(e, "Protocol", call.protocol);
  eventLeaf(e, "Duration", std::to_string(call.duration.count()));
  eventLeaf(e, "CallRate", std::to_string(call.rate_kbps));
  return serializeXml(doc, true);
}

std::string buildBootFeedback(const SystemIdentity& identity, const DocumentStyle& style) {
  pugi::xml_document doc;
  pugi::xml_node root = feedbackRoot(doc, "Event", identity, style);
  pugi::xml_node e = root.append_child("BootEvent");
  e.append_attribute("item").set_value(1);
  eventLeaf(e, "Level", "Info");
  eventLeaf(e, "Reason", "Booted");
  return serializeXml(doc, true);
}

Result<std::string> buildStatusFeedback(const SystemIdentity& identity,
                                        const std::vector<PathValue>& changes,
                                        const DocumentStyle& style) {
  if (changes.empty()) return Error::invalid("a status post needs at least one change", "changes");
  pugi::xml_document doc;
  pugi::xml_node root = feedbackRoot(doc, "Status", identity, style);
  for (const auto& [path, value] : changes) ATRIUM_TRY(addXmlPath(root, path, value));
  return serializeXml(doc, true);
}

Result<std::string> buildConfigurationFeedback(const SystemIdentity& identity,
                                               const std::vector<PathValue>& changes,
                                               const DocumentStyle& style) {
  if (changes.empty()) {
    return Error::invalid("a configuration post needs at least one change", "changes");
  }
  pugi::xml_document doc;
  pugi::xml_node root = feedbackRoot(doc, "Configuration", identity, style);
  for (const auto& [path, value] : changes) ATRIUM_TRY(addXmlPath(root, path, value));
  return serializeXml(doc, true);
}

}  // namespace atrium::devices::cisco_xapi
