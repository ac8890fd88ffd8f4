// One driver per family of systems, behind one interface. A driver is stateless between calls:
// everything it needs to reach a system comes in the DriverTarget, so one driver object serves
// every system of its family from any thread. Calls block (network I/O with the target's
// timeout): run them on a polling/worker pool, never on a network thread. Failures come back as
// values: kUnavailable (no answer, refused, timed out), kUnauthorized (credentials rejected),
// kInvalidArgument (the device refused the request, e.g. an xAPI ParameterError, or the family
// cannot do it), kInternal (the device answered something that cannot be understood).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "devices/types.h"

namespace atrium::devices {

// How to reach one system.
struct DriverTarget {
  std::string system_id;  // for logs only
  std::string address;    // IPv4, IPv6 (no brackets) or host name
  std::uint16_t port = 0; // 0: the family's default (HTTP 80 / HTTPS 443 / SNMP 161)
  bool tls = false;       // HTTPS for the HTTP families
  bool verify_tls = false;  // endpoints mostly carry self-signed certificates
  std::string username;
  std::string password;
  std::string snmp_community = "public";
  std::chrono::milliseconds timeout{5000};
  // The largest answer body read from the system (devices.max_answer_bytes); a larger one is a
  // kInternal error naming the limit, as an answer that cannot be read.
  std::uint64_t max_answer_bytes = 16 * 1024 * 1024;
};

// The settings Atrium keeps for a system and re-applies after a boot or registration event.
// Empty fields are left alone.
struct PersistentSettings {
  std::string system_name;
  std::string h323_id;
  std::string e164_alias;
  std::string sip_uri;
};

struct FeedbackRegistration {
  int slot = 1;              // Cisco: 1-4; TMS used slot 3 by convention
  std::string url;           // where the system posts, with its per-system secret in the path
  std::vector<std::string> expressions;  // e.g. "/Event/CallSuccessful", "/Status/Call"
};

struct DialRequest {
  std::string number;        // URI or number
  std::string protocol;      // "SIP", "H323" or empty for the system's default
  int call_rate_kbps = 0;    // 0: the system's default
};

// Bridges (Cisco MCU / TelePresence Server): conferences and participants.
struct ConferenceInfo {
  std::string name;
  std::string numeric_id;
  int participants = 0;
  bool active = false;
};

struct ParticipantInfo {
  std::string name;          // the bridge's participant name/id
  std::string address;       // what was dialled or who dialled in
  std::string conference;
  CallState state = CallState::kUnknown;
};

class Driver {
 public:
  virtual ~Driver() = default;
  virtual std::string_view family() const = 0;
  virtual Capabilities capabilities() const = 0;

  // Reads the system's status (identity, calls, registrations, feedback slots).
  virtual Result<DeviceStatus> poll(const DriverTarget& target) = 0;
  // Writes the persistent settings to the system.
  virtual Status applySettings(const DriverTarget& target, const PersistentSettings& settings);
  // Registers this installation for HTTP feedback (replacing what the slot held).
  virtual Status registerFeedback(const DriverTarget& target, const FeedbackRegistration& registration);
  virtual Status deregisterFeedback(const DriverTarget& target, int slot);
  // Places a call; returns the system's call id when it tells one.
  virtual Result<std::string> dial(const DriverTarget& target, const DialRequest& request);
  // Ends one call, or every call when call_id is empty.
  virtual Status disconnect(const DriverTarget& target, const std::string& call_id);

  // Bridges only.
  virtual Result<std::vector<ConferenceInfo>> listConferences(const DriverTarget& target);
  virtual Status createConference(const DriverTarget& target, const ConferenceInfo& conference);
  virtual Status destroyConference(const DriverTarget& target, const std::string& name);
  virtual Result<std::vector<ParticipantInfo>> listParticipants(const DriverTarget& target,
                                                                const std::string& conference);
  virtual Status addParticipant(const DriverTarget& target, const std::string& conference,
                                const std::string& address);
  virtual Status removeParticipant(const DriverTarget& target, const std::string& conference,
                                   const std::string& participant);

 protected:
  // The error the default implementations return: the family cannot do this.
  Error unsupported(std::string_view what) const;
};

// Drivers by family name.
class DriverRegistry {
 public:
  void add(std::unique_ptr<Driver> driver);
  // nullptr for an unknown family.
  Driver* find(std::string_view family) const;
  std::vector<std::string> families() const;

 private:
  std::map<std::string, std::unique_ptr<Driver>, std::less<>> drivers_;
};

// A registry holding the four built-in drivers: cisco-xapi, cisco-mcu, polycom, snmp.
std::unique_ptr<DriverRegistry> builtinDrivers();

}  // namespace atrium::devices
