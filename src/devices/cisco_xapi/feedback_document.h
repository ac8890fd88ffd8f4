// What a Cisco endpoint posts to a registered HttpFeedback URL: an <Event>, <Status> or
// <Configuration> document with an <Identification> block, turned into DeviceEvents.
#pragma once

#include <string_view>
#include <vector>

#include "common/result.h"
#include "devices/types.h"
#include "devices/xml_tree.h"

namespace atrium::devices::cisco_xapi {

// Real posts are a few kilobytes; anything over 1 MiB is refused before parsing.
inline XmlLimits feedbackLimits() {
  XmlLimits limits;
  limits.max_bytes = 1u << 20;
  limits.max_nodes = 50'000;
  return limits;
}

// One post may carry several events (one per child of the root other than Identification):
//   <Event><CallSuccessful>     -> call-connected (call id, protocol, direction, remote URI, rate)
//   <Event><CallDisconnect>     -> call-disconnected (cause value/string, duration, call id)
//   <Event><BootEvent>, <Event><SystemUnit><Boot> -> boot
//   other <Event> children      -> other
//   <Status><H323>/<SIP> with a gatekeeper or registration -> registration
//   other <Status> children     -> status-changed (a <Call> also fills `call`)
//   <Configuration>             -> one configuration-changed event with every changed leaf
// Each event carries the identification, its path/value pairs (prefixed with the root name,
// e.g. "Event/CallDisconnect[1]/CauseValue[1]") and an idempotency key over `sender` and the
// content (see event_key.h). Namespaces on the root (TC software) are ignored. Malformed or
// unknown documents are errors.
Result<std::vector<DeviceEvent>> parseFeedbackXml(std::string_view body, std::string_view sender,
                                                  const XmlLimits& limits = feedbackLimits());

}  // namespace atrium::devices::cisco_xapi
