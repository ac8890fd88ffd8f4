// What a device driver reports, in vendor-neutral terms. Drivers fill these from their documents
// (Cisco xAPI XML, Cisco MCU XML-RPC, Polycom REST, SNMP); the simulator builds documents from
// them; the server stores them. Strings keep the device's own spelling where no neutral form
// helps (protocol names, software versions, registration reasons).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace atrium::devices {

using TimePoint = std::chrono::system_clock::time_point;

// Who a system says it is. Every field is as the device reports it; empty when not reported.
struct SystemIdentity {
  std::string system_name;       // SystemUnit Name / ContactInfo Name / Identification SystemName
  std::string product;           // product id or model, e.g. "Cisco TelePresence SX20"
  std::string product_type;      // family as reported, e.g. "Cisco Codec"
  std::string software_version;  // e.g. "ce9.1.4.3ae3106"
  std::string serial_number;
  std::string mac_address;
  std::string ipv4_address;
  std::string ipv6_address;
  std::string h323_id;
  std::string e164;
  std::string sip_uri;

  bool operator==(const SystemIdentity&) const = default;
};

enum class CallDirection { kUnknown, kIncoming, kOutgoing };

enum class CallState {
  kUnknown,
  kIdle,
  kDialling,
  kRinging,
  kConnecting,
  kConnected,
  kDisconnecting,
  kOnHold,
  kDisconnected,
};

struct CallInfo {
  std::string call_id;
  CallDirection direction = CallDirection::kUnknown;
  std::string remote_number;  // number or URI of the far end, as reported
  std::string display_name;
  std::string protocol;       // "SIP", "H323", ... as reported
  int rate_kbps = 0;          // the higher of receive and transmit rate, or the call rate
  CallState state = CallState::kUnknown;
  std::chrono::seconds duration{0};

  bool operator==(const CallInfo&) const = default;
};

// What a device reports as a call's rate and duration, brought into a sane range (0 to 10^9):
// a device's 2^62 seconds would overflow the time arithmetic of the call records.
inline constexpr long long kMaxCallNumber = 1'000'000'000;
inline int callRateKbps(long long reported) {
  return static_cast<int>(reported < 0 ? 0 : reported > kMaxCallNumber ? kMaxCallNumber : reported);
}
inline std::chrono::seconds callDuration(long long reported) {
  return std::chrono::seconds(reported < 0                ? 0
                              : reported > kMaxCallNumber ? kMaxCallNumber
                                                          : reported);
}

enum class RegistrationState { kUnknown, kRegistered, kRegistering, kFailed, kInactive, kDisabled };

struct Registration {
  RegistrationState state = RegistrationState::kUnknown;
  std::string status;  // the device's own word, e.g. "Registered", "Inactive"
  std::string reason;  // why it is not registered, when the device says
  std::string server;  // gatekeeper or proxy address
  std::string uri;     // the registered URI (SIP)

  bool operator==(const Registration&) const = default;
};

// One HTTP feedback subscription on the device (Cisco: HttpFeedback slots 1-4).
struct FeedbackSlot {
  int slot = 0;
  std::string url;
  std::vector<std::string> expressions;
  std::string format;  // "XML" or "JSON", when reported
  std::string status;  // "OK", "Failed", ... when the device reports it; empty otherwise

  bool operator==(const FeedbackSlot&) const = default;
};

struct DeviceStatus {
  SystemIdentity identity;
  std::vector<CallInfo> calls;
  std::optional<bool> muted;  // microphones muted; nullopt when not reported
  Registration h323;
  Registration sip;
  std::vector<FeedbackSlot> feedback_slots;
  std::optional<std::chrono::seconds> uptime;
  // The first network interface is up (SNMP ifOperStatus.1); nullopt when not reported.
  std::optional<bool> interface_up;

  bool operator==(const DeviceStatus&) const = default;
};

enum class EventKind {
  kCallConnected,
  kCallDisconnected,
  kStatusChanged,
  kConfigurationChanged,
  kBoot,
  kRegistration,
  kOther,
};

// A raw value from an event document: path (e.g. "Call[3]/Status") and its text.
using PathValue = std::pair<std::string, std::string>;

// Something a system sent unsolicited (HTTP feedback, trap, XML-RPC notification).
struct DeviceEvent {
  EventKind kind = EventKind::kOther;
  std::optional<TimePoint> occurred_at;  // when the device says it happened, if it says
  SystemIdentity identity;               // the sender's identification block
  std::vector<PathValue> values;         // the event's raw path/value pairs, in document order
  std::optional<CallInfo> call;          // call events: the call as the event describes it
  std::string cause_value;               // call disconnects: the device's cause code
  std::string cause_string;              // call disconnects: cause text or type
  // Stable across retries and replays of the same post from the same sender: a SHA-256 hex
  // digest of the sender, the kind, the event's values and its position in the document.
  std::string idempotency_key;
};

// What a driver can do. A small bit set; combine with |.
enum class Capability : std::uint32_t {
  kPolling = 1u << 0,
  kHttpFeedback = 1u << 1,
  kSnmpTraps = 1u << 2,
  kDialOut = 1u << 3,
  kConferenceControl = 1u << 4,
  kConfigurationPush = 1u << 5,
  kSoftwareUpgrade = 1u << 6,
};

class Capabilities {
 public:
  constexpr Capabilities() = default;
  constexpr Capabilities(Capability c) : bits_(static_cast<std::uint32_t>(c)) {}  // NOLINT
  constexpr bool has(Capability c) const { return (bits_ & static_cast<std::uint32_t>(c)) != 0; }
  constexpr Capabilities operator|(Capabilities other) const {
    Capabilities r;
    r.bits_ = bits_ | other.bits_;
    return r;
  }
  constexpr std::uint32_t bits() const { return bits_; }
  constexpr bool operator==(const Capabilities&) const = default;

 private:
  std::uint32_t bits_ = 0;
};

constexpr Capabilities operator|(Capability a, Capability b) {
  return Capabilities(a) | Capabilities(b);
}

// Stable lower-case names, for logs, the API and the database.
std::string_view eventKindName(EventKind kind);
std::string_view callStateName(CallState state);
std::string_view callDirectionName(CallDirection direction);
std::string_view registrationStateName(RegistrationState state);
std::string_view capabilityName(Capability capability);
// Names of the capabilities set, in bit order, e.g. {"polling", "http-feedback"}.
std::vector<std::string_view> capabilityNames(Capabilities capabilities);

}  // namespace atrium::devices
