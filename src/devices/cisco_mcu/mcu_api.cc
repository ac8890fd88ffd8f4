#include "devices/cisco_mcu/mcu_api.h"

#include "devices/event_key.h"

namespace atrium::devices::cisco_mcu {

MethodCall mcuCall(std::string method, const McuCredentials& credentials, XmlRpcStruct params) {
  XmlRpcStruct all;
  all.reserve(params.size() + 2);
  all.push_back({"authenticationUser", credentials.user});
  all.push_back({"authenticationPassword", credentials.password});
  for (XmlRpcMember& m : params) {
    if (m.name == "authenticationUser" || m.name == "authenticationPassword") continue;
    all.push_back(std::move(m));
  }
  return MethodCall{std::move(method), {XmlRpcValue(std::move(all))}};
}

MethodCall enumerateCall(std::string method, const McuCredentials& credentials,
                         const std::optional<XmlRpcValue>& enumerate_id, XmlRpcStruct filters) {
  if (enumerate_id) filters.push_back({"enumerateID", *enumerate_id});
  return mcuCall(std::move(method), credentials, std::move(filters));
}

Result<EnumeratePage> parseEnumeratePage(const XmlRpcValue& result, std::string_view list_member) {
  if (!result.asStruct()) {
    return Error::invalid("enumerate result is a " + std::string(result.typeName()) +
                          ", not a struct");
  }
  EnumeratePage page;
  if (const XmlRpcValue* list = result.member(list_member)) {
    const XmlRpcArray* items = list->asArray();
    if (!items) {
      return Error::invalid("enumerate result member " + std::string(list_member) +
                            " is not an array");
    }
    for (const XmlRpcValue& item : *items) {
      if (!item.asStruct()) {
        return Error::invalid("enumerate result " + std::string(list_member) + " holds a " +
                              std::string(item.typeName()) + ", not a struct");
      }
    }
    page.items = *items;
  }
  if (const XmlRpcValue* next = result.member("enumerateID")) {
    if (next->type() != XmlRpcValue::Type::kNil) page.next_enumerate_id = *next;
  }
  return page;
}

MethodCall feedbackReceiverConfigureCall(const McuCredentials& credentials,
                                         std::string_view receiver_uri,
                                         std::string_view source_identifier, int receiver_index,
                                         const std::vector<std::string>& events) {
  XmlRpcStruct params{{"receiverURI", std::string(receiver_uri)},
                      {"receiverIndex", static_cast<std::int32_t>(receiver_index)}};
  if (!source_identifier.empty()) {
    params.push_back({"sourceIdentifier", std::string(source_identifier)});
  }
  if (!events.empty()) {
    XmlRpcStruct subscribed;
    for (const std::string& e : events) subscribed.push_back({e, true});
    params.push_back({"events", std::move(subscribed)});
  }
  return mcuCall("feedbackReceiver.configure", credentials, std::move(params));
}

Result<McuNotification> parseEventNotification(const MethodCall& call) {
  if (call.method != "eventNotification") {
    return Error::invalid("expected an eventNotification call, got " + call.method.substr(0, 64));
  }
  if (call.params.empty() || !call.params.front().asStruct()) {
    return Error::invalid("eventNotification without a struct parameter");
  }
  const XmlRpcValue& params = call.params.front();
  McuNotification n;
  if (const XmlRpcValue* source = params.member("sourceIdentifier")) {
    if (!source->asString())
      return Error::invalid("eventNotification: sourceIdentifier is not a string");
    n.source_identifier = *source->asString();
  }
  const XmlRpcValue* events = params.member("events");
  if (!events || !events->asArray()) {
    return Error::invalid("eventNotification without an events array");
  }
  for (const XmlRpcValue& e : *events->asArray()) {
    if (!e.asString()) return Error::invalid("eventNotification: an event is not a string");
    n.events.push_back(*e.asString());
  }
  if (const XmlRpcValue* seq = params.member("seqNum")) n.sequence = seq->asInt();
  return n;
}

Result<McuNotification> decodeEventNotification(std::string_view body, const XmlRpcLimits& limits) {
  auto call = decodeMethodCall(body, limits);
  if (!call.ok()) return call.error();
  return parseEventNotification(*call);
}

std::string eventNotificationAck() { return encodeMethodResponse(XmlRpcValue(XmlRpcStruct{})); }

std::vector<DeviceEvent> notificationEvents(const McuNotification& notification,
                                            std::string_view sender) {
  std::vector<DeviceEvent> out;
  for (std::size_t i = 0; i < notification.events.size(); ++i) {
    const std::string& name = notification.events[i];
    DeviceEvent e;
    if (name == "restart") {
      e.kind = EventKind::kBoot;
    } else if (name.rfind("conference", 0) == 0 || name.rfind("participant", 0) == 0) {
      e.kind = EventKind::kStatusChanged;
    } else {
      e.kind = EventKind::kOther;
    }
    e.values.emplace_back("sourceIdentifier", notification.source_identifier);
    e.values.emplace_back("event", name);
    if (notification.sequence)
      e.values.emplace_back("seqNum", std::to_string(*notification.sequence));
    e.idempotency_key = eventIdempotencyKey(sender, e, i);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace atrium::devices::cisco_mcu
