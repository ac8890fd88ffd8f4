// GET /configuration.xml (or a getxml answer under /Configuration) -> every setting as a flat
// path -> value map, plus the settings Atrium manages.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "devices/types.h"
#include "devices/xml_tree.h"

namespace atrium::devices::cisco_xapi {

struct XapiConfiguration {
  // Every leaf, e.g. "SystemUnit/Name" -> "NH-SX20", "SIP/Proxy[1]/Address" -> "172.31.254.64".
  std::map<std::string, std::string> values;

  std::string product_type;      // root attribute product="Cisco Codec"
  std::string software_version;  // root attribute version="ce9.1.4.3ae3106"
  // The settings Atrium re-applies on boot and registration (TC: under H323/SIP Profile 1).
  std::string system_name;  // SystemUnit Name
  std::string h323_id;      // H323 H323Alias ID
  std::string e164;         // H323 H323Alias E164
  std::string sip_uri;      // SIP URI
  // Where the system looks for its manager (TMS: Provisioning ExternalManager).
  std::string provisioning_mode;
  std::string external_manager_address;
  std::string external_manager_alternate_address;
  std::string external_manager_path;
  std::string external_manager_protocol;
  // HttpFeedback slots, on software that lists them under Configuration (CE lists them in status).
  std::vector<FeedbackSlot> feedback_slots;

  // The value at `path`, where an index [1] may be left out ("SIP/Proxy/Address" finds
  // "SIP/Proxy[1]/Address"); empty if absent.
  std::string value(std::string_view path) const;
  // Copies the managed names and aliases into `identity` where they are set here.
  void applyTo(SystemIdentity& identity) const;
};

Result<XapiConfiguration> parseConfigurationXml(std::string_view body,
                                                const XmlLimits& limits = {});

}  // namespace atrium::devices::cisco_xapi
