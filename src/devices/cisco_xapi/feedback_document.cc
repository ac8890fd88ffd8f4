#include "devices/cisco_xapi/feedback_document.h"

#include <algorithm>
#include <optional>

#include "devices/cisco_xapi/xapi_reply.h"
#include "devices/cisco_xapi/xapi_words.h"
#include "devices/device_time.h"
#include "devices/event_key.h"

namespace atrium::devices::cisco_xapi {
namespace {

SystemIdentity identityFromXml(pugi::xml_node block) {
  SystemIdentity id;
  id.system_name = textAt(block, {"SystemName"});
  id.mac_address = textAt(block, {"MACAddress"});
  id.ipv4_address = textAt(block, {"IPAddress"});
  id.ipv6_address = textAt(block, {"IPAddressV6"});
  id.product_type = textAt(block, {"ProductType"});
  id.product = textAt(block, {"ProductID"});
  if (id.product.empty()) id.product = textAt(block, {"ProductId"});
  id.software_version = textAt(block, {"SWVersion"});
  id.serial_number = textAt(block, {"SerialNumber"});
  return id;
}

// The call as a CallSuccessful / CallDisconnect event describes it.
CallInfo callFromEvent(pugi::xml_node event, CallState state) {
  CallInfo call;
  call.call_id = textAt(event, {"CallId"});
  call.state = state;
  call.protocol = textAt(event, {"Protocol"});
  std::string direction = textAt(event, {"Direction"});
  if (direction.empty()) direction = textAt(event, {"OrigCallDirection"});
  call.direction = callDirectionFromXapi(direction);
  call.remote_number = textAt(event, {"RemoteURI"});
  if (call.remote_number.empty()) call.remote_number = textAt(event, {"RemoteNumber"});
  call.display_name = textAt(event, {"DisplayName"});
  call.rate_kbps = callRateKbps(numberFromXapi(textAt(event, {"CallRate"})));
  call.duration = callDuration(numberFromXapi(textAt(event, {"Duration"})));
  return call;
}

bool hasRegistration(pugi::xml_node node) {
  return childNamed(node, "Gatekeeper") || childNamed(node, "Registration") ||
         childNamed(childNamed(node, "Profile"), "Registration");
}

// A device time in a leaf named Time/Timestamp/SystemTime, if the event has one.
std::optional<TimePoint> eventTime(const std::vector<PathValue>& values) {
  for (const auto& [path, value] : values) {
    std::string_view p = path;
    std::size_t slash = p.rfind('/');
    std::string_view leaf = slash == std::string_view::npos ? p : p.substr(slash + 1);
    leaf = leaf.substr(0, leaf.find('['));
    if (leaf == "Time" || leaf == "Timestamp" || leaf == "SystemTime") {
      if (auto t = parseDeviceTime(value)) return t;
    }
  }
  return std::nullopt;
}

Result<std::vector<PathValue>> valuesOf(pugi::xml_node root, pugi::xml_node child,
                                        const XmlLimits& limits) {
  // Flatten the child inside a path that starts with the root and the child's own segment.
  std::string prefix = std::string(localName(root)) + "/" + std::string(localName(child));
  if (int item = itemNumber(child); item > 0) prefix += "[" + std::to_string(item) + "]";
  auto flat = flattenXml(child, limits);
  if (!flat.ok()) return flat.error();
  std::vector<PathValue> values;
  if (flat->empty()) {
    if (attributeValue(child, "ghost") == "True") {
      values.emplace_back(prefix + "/ghost", "True");
    } else {
      values.emplace_back(prefix, ownText(child));
    }
    return values;
  }
  values.reserve(flat->size());
  for (auto& [path, value] : *flat) values.emplace_back(prefix + "/" + path, std::move(value));
  return values;
}

}  // namespace

Result<std::vector<DeviceEvent>> parseFeedbackXml(std::string_view body, std::string_view sender,
                                                  const XmlLimits& limits) {
  auto doc = XmlDocument::parse(body, "feedback", limits);
  if (!doc.ok()) return doc.error();
  pugi::xml_node root = doc->root();
  std::string_view root_name = localName(root);
  if (root_name != "Event" && root_name != "Status" && root_name != "Configuration") {
    return Error::invalid(
        "feedback: expected an <Event>, <Status> or <Configuration> document, "
        "got <" +
        std::string(root_name) + ">");
  }
  ATRIUM_TRY(checkXapiReply(root, "feedback"));
  SystemIdentity identity = identityFromXml(childNamed(root, "Identification"));

  std::vector<DeviceEvent> events;
  DeviceEvent configuration;  // all leaves of a <Configuration> post become one event
  configuration.kind = EventKind::kConfigurationChanged;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element || localName(child) == "Identification") continue;
    auto values = valuesOf(root, child, limits);
    if (!values.ok()) return Error::invalid("feedback: " + values.error().message);
    if (root_name == "Configuration") {
      for (auto& pv : *values) configuration.values.push_back(std::move(pv));
      continue;
    }
    DeviceEvent event;
    event.values = std::move(*values);
    std::string_view name = localName(child);
    if (root_name == "Event") {
      if (name == "CallSuccessful") {
        event.kind = EventKind::kCallConnected;
        event.call = callFromEvent(child, CallState::kConnected);
      } else if (name == "CallDisconnect") {
        event.kind = EventKind::kCallDisconnected;
        event.call = callFromEvent(child, CallState::kDisconnected);
        event.cause_value = textAt(child, {"CauseValue"});
        event.cause_string = textAt(child, {"CauseString"});
        if (event.cause_string.empty()) event.cause_string = textAt(child, {"CauseType"});
      } else if (name == "BootEvent" || (name == "SystemUnit" && childNamed(child, "Boot"))) {
        event.kind = EventKind::kBoot;
      } else {
        event.kind = EventKind::kOther;
      }
    } else if ((name == "H323" || name == "SIP") && hasRegistration(child)) {
      event.kind = EventKind::kRegistration;
    } else {
      event.kind = EventKind::kStatusChanged;
      if (name == "Call") event.call = callFromXapi(child);
    }
    events.push_back(std::move(event));
  }
  if (root_name == "Configuration") {
    if (configuration.values.empty()) {
      return Error::invalid("feedback: <Configuration> post without any setting");
    }
    events.push_back(std::move(configuration));
  }
  if (events.empty()) {
    return Error::invalid("feedback: <" + std::string(root_name) + "> post without any event");
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    DeviceEvent& e = events[i];
    e.identity = identity;
    e.occurred_at = eventTime(e.values);
    e.idempotency_key = eventIdempotencyKey(sender, e, i);
  }
  return events;
}

}  // namespace atrium::devices::cisco_xapi
