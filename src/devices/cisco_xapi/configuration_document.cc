#include "devices/cisco_xapi/configuration_document.h"

#include "devices/cisco_xapi/xapi_reply.h"
#include "devices/cisco_xapi/xapi_words.h"

namespace atrium::devices::cisco_xapi {
namespace {

std::string withoutFirstIndex(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  std::size_t pos = 0;
  while (pos < path.size()) {
    if (path.compare(pos, 3, "[1]") == 0) {
      pos += 3;
      continue;
    }
    out += path[pos++];
  }
  return out;
}

std::string firstValue(const XapiConfiguration& c, std::initializer_list<std::string_view> paths) {
  for (std::string_view p : paths) {
    std::string v = c.value(p);
    if (!v.empty()) return v;
  }
  return {};
}

}  // namespace

std::string XapiConfiguration::value(std::string_view path) const {
  if (auto it = values.find(std::string(path)); it != values.end()) return it->second;
  std::string wanted = withoutFirstIndex(path);
  for (const auto& [key, v] : values) {
    if (withoutFirstIndex(key) == wanted) return v;
  }
  return {};
}

void XapiConfiguration::applyTo(SystemIdentity& identity) const {
  if (!system_name.empty()) identity.system_name = system_name;
  if (!h323_id.empty()) identity.h323_id = h323_id;
  if (!e164.empty()) identity.e164 = e164;
  if (!sip_uri.empty()) identity.sip_uri = sip_uri;
}

Result<XapiConfiguration> parseConfigurationXml(std::string_view body, const XmlLimits& limits) {
  auto doc = parseXapiReply(body, "configuration.xml", limits);
  if (!doc.ok()) return doc.error();
  pugi::xml_node root = doc->root();
  if (localName(root) != "Configuration") {
    return Error::invalid("configuration.xml: expected a <Configuration> document, got <" +
                          std::string(localName(root)) + ">");
  }
  auto flat = flattenXml(root, limits);
  if (!flat.ok()) return Error::invalid("configuration.xml: " + flat.error().message);

  XapiConfiguration c;
  for (auto& [path, v] : *flat) c.values.insert_or_assign(std::move(path), std::move(v));
  c.product_type = attributeValue(root, "product");
  c.software_version = attributeValue(root, "version");
  c.system_name = c.value("SystemUnit/Name");
  c.h323_id = firstValue(c, {"H323/H323Alias/ID", "H323/Profile/H323Alias/ID"});
  c.e164 = firstValue(c, {"H323/H323Alias/E164", "H323/Profile/H323Alias/E164"});
  c.sip_uri = firstValue(c, {"SIP/URI", "SIP/Profile/URI"});
  c.provisioning_mode = c.value("Provisioning/Mode");
  c.external_manager_address =
      firstValue(c, {"Provisioning/ExternalManager/Address",
                     "NetworkServices/ExternalManager/Address", "ExternalManager/Address"});
  c.external_manager_alternate_address =
      firstValue(c, {"Provisioning/ExternalManager/AlternateAddress",
                     "NetworkServices/ExternalManager/AlternateAddress"});
  c.external_manager_path =
      firstValue(c, {"Provisioning/ExternalManager/Path", "NetworkServices/ExternalManager/Path",
                     "ExternalManager/Path"});
  c.external_manager_protocol =
      firstValue(c, {"Provisioning/ExternalManager/Protocol",
                     "NetworkServices/ExternalManager/Protocol", "ExternalManager/Protocol"});
  c.feedback_slots = feedbackSlotsFromXml(root);
  return c;
}

}  // namespace atrium::devices::cisco_xapi
