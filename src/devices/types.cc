#include "devices/types.h"

namespace atrium::devices {

std::string_view eventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kCallConnected: return "call-connected";
    case EventKind::kCallDisconnected: return "call-disconnected";
    case EventKind::kStatusChanged: return "status-changed";
    case EventKind::kConfigurationChanged: return "configuration-changed";
    case EventKind::kBoot: return "boot";
    case EventKind::kRegistration: return "registration";
    case EventKind::kOther: return "other";
  }
  return "other";
}

std::string_view callStateName(CallState state) {
  switch (state) {
    case CallState::kUnknown: return "unknown";
    case CallState::kIdle: return "idle";
    case CallState::kDialling: return "dialling";
    case CallState::kRinging: return "ringing";
    case CallState::kConnecting: return "connecting";
    case CallState::kConnected: return "connected";
    case CallState::kDisconnecting: return "disconnecting";
    case CallState::kOnHold: return "on-hold";
    case CallState::kDisconnected: return "disconnected";
  }
  return "unknown";
}

std::string_view callDirectionName(CallDirection direction) {
  switch (direction) {
    case CallDirection::kUnknown: return "unknown";
    case CallDirection::kIncoming: return "incoming";
    case CallDirection::kOutgoing: return "outgoing";
  }
  return "unknown";
}

std::string_view registrationStateName(RegistrationState state) {
  switch (state) {
    case RegistrationState::kUnknown: return "unknown";
    case RegistrationState::kRegistered: return "registered";
    case RegistrationState::kRegistering: return "registering";
    case RegistrationState::kFailed: return "failed";
    case RegistrationState::kInactive: return "inactive";
    case RegistrationState::kDisabled: return "disabled";
  }
  return "unknown";
}

std::string_view capabilityName(Capability capability) {
  switch (capability) {
    case Capability::kPolling: return "polling";
    case Capability::kHttpFeedback: return "http-feedback";
    case Capability::kSnmpTraps: return "snmp-traps";
    case Capability::kDialOut: return "dial-out";
    case Capability::kConferenceControl: return "conference-control";
    case Capability::kConfigurationPush: return "configuration-push";
    case Capability::kSoftwareUpgrade: return "software-upgrade";
  }
  return "unknown";
}

std::vector<std::string_view> capabilityNames(Capabilities capabilities) {
  static constexpr Capability kAll[] = {
      Capability::kPolling,           Capability::kHttpFeedback,
      Capability::kSnmpTraps,         Capability::kDialOut,
      Capability::kConferenceControl, Capability::kConfigurationPush,
      Capability::kSoftwareUpgrade,
  };
  std::vector<std::string_view> names;
  for (Capability c : kAll) {
    if (capabilities.has(c)) names.push_back(capabilityName(c));
  }
  return names;
}

}  // namespace atrium::devices
