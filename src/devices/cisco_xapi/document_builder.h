// Documents a Cisco endpoint serves and posts, built from the vendor-neutral types: what the
// simulator answers to GET /status.xml and /configuration.xml and what it posts to a feedback
// URL. They follow the shape of real CE documents (element order, item attributes), so the
// parsers in this folder read them back.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "devices/types.h"

namespace atrium::devices::cisco_xapi {

struct DocumentStyle {
  std::string product_type = "Cisco Codec";  // root attribute "product" when identity has none
  std::string api_version = "4";
  // A default namespace on the root, as older TC software wrote it
  // (e.g. "http://www.tandberg.com/XML/CUIL/2.0"); none when empty.
  std::string xmlns;
};

// status.xml: SystemUnit identity, network addresses, calls, microphone mute, H.323 and SIP
// registration, HttpFeedback slots, uptime. (Aliases h323_id/e164 live in configuration.xml.)
std::string buildStatusXml(const DeviceStatus& status, const DocumentStyle& style = {});

// configuration.xml from path -> value settings ("SystemUnit/Name", "SIP/Proxy[1]/Address");
// the identity gives the root's product and version attributes.
Result<std::string> buildConfigurationXml(const std::map<std::string, std::string>& values,
                                          const SystemIdentity& identity,
                                          const DocumentStyle& style = {});

// A plausible configuration of an endpoint with this identity: system name, H.323 alias, SIP URI,
// network addresses, services. A starting point the simulator then changes.
std::map<std::string, std::string> defaultConfiguration(const SystemIdentity& identity);

// Feedback posts, each with the <Identification> block of `identity`.
std::string buildCallSuccessfulFeedback(const SystemIdentity& identity, const CallInfo& call,
                                        const DocumentStyle& style = {});
std::string buildCallDisconnectFeedback(const SystemIdentity& identity, const CallInfo& call,
                                        std::string_view cause_value, std::string_view cause_type,
                                        std::string_view cause_string,
                                        const DocumentStyle& style = {});
std::string buildBootFeedback(const SystemIdentity& identity, const DocumentStyle& style = {});
// A <Status> post with the changed leaves, e.g. {"SIP/Registration[1]/Status", "Registered"}.
Result<std::string> buildStatusFeedback(const SystemIdentity& identity,
                                        const std::vector<PathValue>& changes,
                                        const DocumentStyle& style = {});
// A <Configuration> post with the changed settings.
Result<std::string> buildConfigurationFeedback(const SystemIdentity& identity,
                                               const std::vector<PathValue>& changes,
                                               const DocumentStyle& style = {});

}  // namespace atrium::devices::cisco_xapi
