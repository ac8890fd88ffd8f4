// The shape of the Cisco MCU / TelePresence Server remote management API on top of XML-RPC:
// credentials in the first struct parameter of every call, paging of *.enumerate calls with
// enumerateID, feedback receivers, and the eventNotification calls a bridge makes to Atrium.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "devices/cisco_mcu/xmlrpc.h"
#include "devices/types.h"

namespace atrium::devices::cisco_mcu {

struct McuCredentials {
  std::string user;
  std::string password;
};

// A call with one struct parameter that starts with authenticationUser and
// authenticationPassword, followed by `params` in order.
MethodCall mcuCall(std::string method, const McuCredentials& credentials, XmlRpcStruct params = {});

// One page of an enumerate call (conference.enumerate, participant.enumerate, ...). The first
// call has no enumerate_id; each following call passes back the id of the previous page.
MethodCall enumerateCall(std::string method, const McuCredentials& credentials,
                         const std::optional<XmlRpcValue>& enumerate_id, XmlRpcStruct filters = {});

struct EnumeratePage {
  std::vector<XmlRpcValue> items;                // the structs of this page
  std::optional<XmlRpcValue> next_enumerate_id;  // nullopt on the last page
};

// Reads a page from an enumerate result: `list_member` is "conferences", "participants", ...
// A missing list is an empty page (the bridge omits it when there is nothing to list).
Result<EnumeratePage> parseEnumeratePage(const XmlRpcValue& result, std::string_view list_member);

// feedbackReceiver.configure: where the bridge posts its notifications.
// receiver_index -1 lets the bridge pick a free position; `events` empty means its defaults.
MethodCall feedbackReceiverConfigureCall(const McuCredentials& credentials,
                                         std::string_view receiver_uri,
                                         std::string_view source_identifier,
                                         int receiver_index = -1,
                                         const std::vector<std::string>& events = {});

// An eventNotification call from a bridge: who sent it and which events happened. The events
// are hints to re-read (conference.enumerate, participant.enumerate, device.query).
struct McuNotification {
  std::string source_identifier;         // set by feedbackReceiver.configure, or the bridge's MAC
  std::vector<std::string> events;       // "restart", "conferenceStarted", "participantJoined", ...
  std::optional<std::int32_t> sequence;  // seqNum, when the bridge sends one
};

Result<McuNotification> parseEventNotification(const MethodCall& call);
// Decodes the HTTP body of an eventNotification call.
Result<McuNotification> decodeEventNotification(std::string_view body,
                                                const XmlRpcLimits& limits = {});
// The methodResponse a receiver answers an eventNotification with.
std::string eventNotificationAck();

// One DeviceEvent per notified event: "restart" -> boot; conference and participant events ->
// status-changed; anything else -> other. Values: sourceIdentifier, event, seqNum (if any).
std::vector<DeviceEvent> notificationEvents(const McuNotification& notification,
                                            std::string_view sender);

}  // namespace atrium::devices::cisco_mcu
