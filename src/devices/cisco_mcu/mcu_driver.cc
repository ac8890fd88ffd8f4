#include "devices/cisco_mcu/mcu_driver.h"

#include "devices/cisco_mcu/mcu_api.h"
#include "devices/cisco_mcu/xmlrpc.h"
#include "devices/driver_http.h"

namespace atrium::devices::cisco_mcu {
namespace {

// More pages than any bridge has conferences or participants: a guard against a bridge that
// keeps answering with a next enumerateID.
constexpr int kMaxPages = 1000;
constexpr std::int32_t kFaultMethodNotSupported = 1;

class McuSession {
 public:
  explicit McuSession(const DriverTarget& target)
      : http_(McuDriver::kFamily, target), credentials_{target.username, target.password} {}

  const McuCredentials& credentials() const { return credentials_; }
  DriverHttp& http() { return http_; }

  // Sends one call and returns its result; faults become errors labelled with the system.
  Result<XmlRpcValue> call(const MethodCall& call) {
    auto response = respond(call);
    if (!response.ok()) return response.error();
    if (response->fault) return faultError(call.method, *response->fault);
    return std::move(response->result);
  }

  // The same, with the fault returned as data.
  Result<MethodResponse> respond(const MethodCall& call) {
    auto response = http_.send("POST", "/RPC2", encodeMethodCall(call),
                               {{"Content-Type", "text/xml"}});
    if (!response.ok()) return response.error();
    if (response->status < 200 || response->status > 299) {
      return http_.httpStatusError(*response, call.method);
    }
    auto decoded = decodeMethodResponse(response->body);
    if (!decoded.ok()) {
      return http_.malformed("expected an XML-RPC methodResponse to " + call.method + ": " +
                             decoded.error().message);
    }
    return decoded;
  }

  Error faultError(const std::string& method, const XmlRpcFault& fault) {
    Error e = faultToError(fault);
    e.message = method + ": " + e.message;
    return http_.labelled(e);
  }

  // Every item of an enumerate call, following enumerateID.
  Result<std::vector<XmlRpcValue>> enumerateAll(const std::string& method,
                                                std::string_view list_member,
                                                const XmlRpcStruct& filters = {}) {
    std::vector<XmlRpcValue> items;
    std::optional<XmlRpcValue> next;
    for (int page_no = 0; page_no < kMaxPages; ++page_no) {
      auto result = call(enumerateCall(method, credentials_, next, filters));
      if (!result.ok()) return result.error();
      auto page = parseEnumeratePage(*result, list_member);
      if (!page.ok()) return http_.malformed(method + ": " + page.error().message);
      for (XmlRpcValue& item : page->items) items.push_back(std::move(item));
      if (!page->next_enumerate_id) return items;
      next = std::move(page->next_enumerate_id);
    }
    return http_.malformed(method + ": more than " + std::to_string(kMaxPages) + " pages");
  }

 private:
  DriverHttp http_;
  McuCredentials credentials_;
};

std::string stringMember(const XmlRpcValue& value, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    const XmlRpcValue* m = value.member(name);
    if (!m) continue;
    if (const std::string* s = m->asString()) return *s;
    if (auto i = m->asInt()) return std::to_string(*i);
  }
  return {};
}

std::optional<std::int32_t> intMember(const XmlRpcValue& value,
                                      std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (const XmlRpcValue* m = value.member(name)) {
      if (auto i = m->asInt()) return i;
    }
  }
  return std::nullopt;
}

std::optional<bool> boolMember(const XmlRpcValue& value,
                               std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (const XmlRpcValue* m = value.member(name)) {
      if (auto b = m->asBool()) return b;
    }
  }
  return std::nullopt;
}

ConferenceInfo conferenceFrom(const XmlRpcValue& item) {
  ConferenceInfo c;
  c.name = stringMember(item, {"conferenceName"});
  c.numeric_id = stringMember(item, {"numericId", "numericID"});
  c.participants = intMember(item, {"activeParticipants", "participantCount", "activeParticipantCount"}).value_or(0);
  c.active = boolMember(item, {"conferenceActive", "active"}).value_or(true);
  return c;
}

CallState participantState(std::string_view word) {
  if (word == "connected") return CallState::kConnected;
  if (word == "connecting" || word == "initial" || word == "dialling") return CallState::kConnecting;
  if (word == "ringing") return CallState::kRinging;
  if (word == "disconnecting") return CallState::kDisconnecting;
  if (word == "disconnected" || word == "dormant") return CallState::kDisconnected;
  return CallState::kUnknown;
}

ParticipantInfo participantFrom(const XmlRpcValue& item) {
  ParticipantInfo p;
  p.name = stringMember(item, {"participantName", "participantID"});
  p.address = stringMember(item, {"address"});
  if (p.address.empty()) {
    if (const XmlRpcValue* current = item.member("currentState")) {
      p.address = stringMember(*current, {"address"});
    }
  }
  p.conference = stringMember(item, {"conferenceName"});
  p.state = participantState(stringMember(item, {"callState"}));
  return p;
}

template <typename T>
Result<T> logged(Result<T> result, std::string_view event, const DriverTarget& target) {
  if (!result.ok()) logDriverFailure(event, McuDriver::kFamily, target, result.error());
  return result;
}

Status loggedStatus(Status status, std::string_view event, const DriverTarget& target) {
  if (!status.ok()) logDriverFailure(event, McuDriver::kFamily, target, status.error());
  return status;
}

Status callForStatus(McuSession& session, const MethodCall& call) {
  auto result = session.call(call);
  if (!result.ok()) return result.error();
  return okStatus();
}

Result<DeviceStatus> pollOnce(const DriverTarget& target) {
  McuSession session(target);
  auto device = session.call(mcuCall("device.query", session.credentials()));
  if (!device.ok()) return device.error();
  if (!device->asStruct()) {
    return session.http().malformed("expected a struct from device.query, got a " +
                                    std::string(device->typeName()));
  }
  DeviceStatus status;
  SystemIdentity& id = status.identity;
  id.product = stringMember(*device, {"model"});
  id.serial_number = stringMember(*device, {"serial"});
  id.software_version = stringMember(*device, {"softwareVersion"});
  id.product_type = "Cisco MCU";
  if (auto uptime = intMember(*device, {"uptime"})) status.uptime = std::chrono::seconds(*uptime);

  auto conferences = session.enumerateAll("conference.enumerate", "conferences");
  if (!conferences.ok()) return conferences.error();
  // A bridge's "calls" are its active conferences.
  for (const XmlRpcValue& item : *conferences) {
    ConferenceInfo c = conferenceFrom(item);
    if (!c.active) continue;
    CallInfo call;
    call.call_id = c.name;
    call.display_name = c.name;
    call.remote_number = c.numeric_id;
    call.state = CallState::kConnected;
    status.calls.push_back(std::move(call));
  }

  auto receivers = session.respond(mcuCall("feedbackReceiver.query", session.credentials()));
  if (!receivers.ok()) return receivers.error();
  if (receivers->fault) {
    // Older software has no feedbackReceiver.query: the slots stay unknown.
    if (receivers->fault->code != kFaultMethodNotSupported) {
      return session.faultError("feedbackReceiver.query", *receivers->fault);
    }
  } else if (const XmlRpcValue* list = receivers->result.member("receivers")) {
    if (const XmlRpcArray* items = list->asArray()) {
      for (const XmlRpcValue& item : *items) {
        FeedbackSlot slot;
        slot.slot = intMember(item, {"receiverIndex"}).value_or(0);
        slot.url = stringMember(item, {"receiverURI"});
        if (slot.url.empty()) continue;
        status.feedback_slots.push_back(std::move(slot));
      }
    }
  }
  return status;
}

}  // namespace

Capabilities McuDriver::capabilities() const {
  return Capability::kPolling | Capability::kHttpFeedback | Capability::kConferenceControl;
}

Result<DeviceStatus> McuDriver::poll(const DriverTarget& target) {
  return logged(pollOnce(target), "driver.poll_failed", target);
}

Status McuDriver::registerFeedback(const DriverTarget& target,
                                   const FeedbackRegistration& registration) {
  McuSession session(target);
  // The system id identifies the bridge in its eventNotification calls.
  auto call = feedbackReceiverConfigureCall(session.credentials(), registration.url,
                                            target.system_id,
                                            registration.slot > 0 ? registration.slot : -1);
  return loggedStatus(callForStatus(session, call), "driver.feedback_register_failed", target);
}

Status McuDriver::deregisterFeedback(const DriverTarget& target, int slot) {
  McuSession session(target);
  // An empty receiverURI clears the position.
  auto call = feedbackReceiverConfigureCall(session.credentials(), "", {}, slot);
  return loggedStatus(callForStatus(session, call), "driver.feedback_deregister_failed", target);
}

Result<std::vector<ConferenceInfo>> McuDriver::listConferences(const DriverTarget& target) {
  McuSession session(target);
  auto items = session.enumerateAll("conference.enumerate", "conferences");
  if (!items.ok()) return logged<std::vector<ConferenceInfo>>(items.error(),
                                                               "driver.conference_list_failed", target);
  std::vector<ConferenceInfo> out;
  out.reserve(items->size());
  for (const XmlRpcValue& item : *items) out.push_back(conferenceFrom(item));
  return out;
}

Status McuDriver::createConference(const DriverTarget& target, const ConferenceInfo& conference) {
  if (conference.name.empty()) return Error::invalid("a conference name is required", "name");
  McuSession session(target);
  XmlRpcStruct params{{"conferenceName", conference.name}};
  if (!conference.numeric_id.empty()) params.push_back({"numericId", conference.numeric_id});
  return loggedStatus(
      callForStatus(session, mcuCall("conference.create", session.credentials(), params)),
      "driver.conference_create_failed", target);
}

Status McuDriver::destroyConference(const DriverTarget& target, const std::string& name) {
  if (name.empty()) return Error::invalid("a conference name is required", "name");
  McuSession session(target);
  return loggedStatus(callForStatus(session, mcuCall("conference.destroy", session.credentials(),
                                                     {{"conferenceName", name}})),
                      "driver.conference_destroy_failed", target);
}

Result<std::vector<ParticipantInfo>> McuDriver::listParticipants(const DriverTarget& target,
                                                                 const std::string& conference) {
  McuSession session(target);
  auto items = session.enumerateAll("participant.enumerate", "participants");
  if (!items.ok()) {
    return logged<std::vector<ParticipantInfo>>(items.error(), "driver.participant_list_failed",
                                                target);
  }
  std::vector<ParticipantInfo> out;
  for (const XmlRpcValue& item : *items) {
    ParticipantInfo p = participantFrom(item);
    if (conference.empty() || p.conference == conference) out.push_back(std::move(p));
  }
  return out;
}

Status McuDriver::addParticipant(const DriverTarget& target, const std::string& conference,
                                 const std::string& address) {
  if (conference.empty()) return Error::invalid("a conference name is required", "conference");
  if (address.empty()) return Error::invalid("an address to call is required", "address");
  McuSession session(target);
  XmlRpcStruct params{{"conferenceName", conference},
                      {"participantName", address},
                      {"address", address},
                      {"participantType", "by_address"}};
  return loggedStatus(
      callForStatus(session, mcuCall("participant.add", session.credentials(), params)),
      "driver.participant_add_failed", target);
}

Status McuDriver::removeParticipant(const DriverTarget& target, const std::string& conference,
                                    const std::string& participant) {
  if (conference.empty()) return Error::invalid("a conference name is required", "conference");
  if (participant.empty()) return Error::invalid("a participant is required", "participant");
  McuSession session(target);
  XmlRpcStruct params{{"conferenceName", conference},
                      {"participantName", participant},
                      {"participantType", "by_address"}};
  return loggedStatus(
      callForStatus(session, mcuCall("participant.remove", session.credentials(), params)),
      "driver.participant_remove_failed", target);
}

}  // namespace atrium::devices::cisco_mcu
