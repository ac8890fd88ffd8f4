#include "devices/cisco_xapi/xapi_words.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "devices/xml_tree.h"

namespace atrium::devices::cisco_xapi {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

CallState callStateFromXapi(std::string_view word) {
  struct Entry {
    std::string_view word;
    CallState state;
  };
  static constexpr Entry kWords[] = {
      {"Idle", CallState::kIdle},
      {"Dialling", CallState::kDialling},
      {"Dialing", CallState::kDialling},
      {"Ringing", CallState::kRinging},
      {"Connecting", CallState::kConnecting},
      {"EarlyMedia", CallState::kConnecting},
      {"Connected", CallState::kConnected},
      {"Disconnecting", CallState::kDisconnecting},
      {"OnHold", CallState::kOnHold},
      {"Preserved", CallState::kOnHold},
      {"RemotePreserved", CallState::kOnHold},
      {"Disconnected", CallState::kDisconnected},
  };
  for (const Entry& e : kWords) {
    if (equalsIgnoreCase(word, e.word)) return e.state;
  }
  return CallState::kUnknown;
}

std::string_view callStateToXapi(CallState state) {
  switch (state) {
    case CallState::kIdle:
      return "Idle";
    case CallState::kDialling:
      return "Dialling";
    case CallState::kRinging:
      return "Ringing";
    case CallState::kConnecting:
      return "Connecting";
    case CallState::kConnected:
      return "Connected";
    case CallState::kDisconnecting:
      return "Disconnecting";
    case CallState::kOnHold:
      return "OnHold";
    case CallState::kDisconnected:
      return "Disconnected";
    case CallState::kUnknown:
      return "";
  }
  return "";
}

CallDirection callDirectionFromXapi(std::string_view word) {
  if (equalsIgnoreCase(word, "Incoming")) return CallDirection::kIncoming;
  if (equalsIgnoreCase(word, "Outgoing")) return CallDirection::kOutgoing;
  return CallDirection::kUnknown;
}

std::string_view callDirectionToXapi(CallDirection direction) {
  switch (direction) {
    case CallDirection::kIncoming:
      return "Incoming";
    case CallDirection::kOutgoing:
      return "Outgoing";
    case CallDirection::kUnknown:
      return "";
  }
  return "";
}

RegistrationState registrationStateFromXapi(std::string_view word) {
  if (equalsIgnoreCase(word, "Registered")) return RegistrationState::kRegistered;
  if (equalsIgnoreCase(word, "Registering") || equalsIgnoreCase(word, "Discovering")) {
    return RegistrationState::kRegistering;
  }
  if (equalsIgnoreCase(word, "Failed") || equalsIgnoreCase(word, "Rejected")) {
    return RegistrationState::kFailed;
  }
  if (equalsIgnoreCase(word, "Inactive") || equalsIgnoreCase(word, "Deregister") ||
      equalsIgnoreCase(word, "Unregistered")) {
    return RegistrationState::kInactive;
  }
  if (equalsIgnoreCase(word, "Disabled") || equalsIgnoreCase(word, "Off")) {
    return RegistrationState::kDisabled;
  }
  return RegistrationState::kUnknown;
}

std::string_view registrationStateToXapi(RegistrationState state) {
  switch (state) {
    case RegistrationState::kRegistered:
      return "Registered";
    case RegistrationState::kRegistering:
      return "Registering";
    case RegistrationState::kFailed:
      return "Failed";
    case RegistrationState::kInactive:
      return "Inactive";
    case RegistrationState::kDisabled:
      return "Disabled";
    case RegistrationState::kUnknown:
      return "";
  }
  return "";
}

std::optional<bool> onOffFromXapi(std::string_view word) {
  if (equalsIgnoreCase(word, "On") || equalsIgnoreCase(word, "True")) return true;
  if (equalsIgnoreCase(word, "Off") || equalsIgnoreCase(word, "False")) return false;
  return std::nullopt;
}

long long numberFromXapi(std::string_view text, long long fallback) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  long long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return fallback;
  }
  return value;
}

CallInfo callFromXapi(pugi::xml_node call) {
  CallInfo info;
  int item = itemNumber(call);
  info.call_id = item > 0 ? std::to_string(item) : textAt(call, {"CallId"});
  if (attributeValue(call, "ghost") == "True") {
    info.state = CallState::kDisconnected;
    return info;
  }
  info.state = callStateFromXapi(textAt(call, {"Status"}));
  info.direction = callDirectionFromXapi(textAt(call, {"Direction"}));
  info.remote_number = textAt(call, {"RemoteNumber"});
  if (info.remote_number.empty()) info.remote_number = textAt(call, {"CallbackNumber"});
  info.display_name = textAt(call, {"DisplayName"});
  info.protocol = textAt(call, {"Protocol"});
  long long rate = std::max(numberFromXapi(textAt(call, {"ReceiveCallRate"})),
                            numberFromXapi(textAt(call, {"TransmitCallRate"})));
  if (rate == 0) rate = numberFromXapi(textAt(call, {"CallRate"}));
  info.rate_kbps = callRateKbps(rate);
  info.duration = callDuration(numberFromXapi(textAt(call, {"Duration"})));
  return info;
}

std::vector<FeedbackSlot> feedbackSlotsFromXml(pugi::xml_node parent) {
  std::vector<FeedbackSlot> slots;
  for (pugi::xml_node node : childrenNamed(parent, "HttpFeedback")) {
    FeedbackSlot slot;
    slot.slot = itemNumber(node);
    slot.url = textAt(node, {"URL"});
    slot.format = textAt(node, {"Format"});
    slot.status = textAt(node, {"Status"});
    std::vector<std::pair<int, std::string>> expressions;
    for (pugi::xml_node e : childrenNamed(node, "Expression")) {
      expressions.emplace_back(itemNumber(e), ownText(e));
    }
    std::stable_sort(expressions.begin(), expressions.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [item, text] : expressions) {
      if (!text.empty()) slot.expressions.push_back(std::move(text));
    }
    slots.push_back(std::move(slot));
  }
  return slots;
}

}  // namespace atrium::devices::cisco_xapi
