// A fleet of simulated systems on loopback, every family, each on an address of its own
// (127.20.0.1, 127.20.0.2, ... by default), speaking the real protocols: Cisco xAPI over HTTP with
// HttpFeedback, Cisco MCU XML-RPC, Polycom REST, SNMP v2c (agent and traps). Used in-process by
// tests, benchmarks and `atrium demo`, and as the `atrium-sim` program.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "devices/driver.h"
#include "devices/types.h"

namespace atrium::sim {

struct FleetOptions {
  int cisco_xapi = 0;
  int cisco_mcu = 0;
  int polycom = 0;
  int snmp = 0;
  std::string base_address = "127.20.0.1";  // systems take consecutive addresses from here
  std::uint16_t http_port = 18080;          // HTTP port of every system, on its own address
  std::uint16_t snmp_port = 16161;          // SNMP agent port of every system
  std::string trap_target;                  // "host:port" to send traps to; empty: none
  std::string trap_community = "public";
  std::string username = "admin";           // what the systems accept
  std::string password = "sim-password";
  std::string snmp_community = "public";
  std::string name_prefix = "Sim";
  std::uint32_t seed = 1;                   // models, serials and names derive from it
  // How long a dialled or incoming call takes to connect.
  std::chrono::milliseconds connect_delay{150};
  // Cisco HttpFeedback: a failing post is retried at this interval; after this many failures in
  // a row the slot is marked Failed and stops posting (a 2xx resets the count).
  std::chrono::milliseconds feedback_retry_interval{1000};
  int feedback_max_failures = 10;
  std::chrono::milliseconds post_timeout{5000};  // feedback and eventNotification posts
};

enum class Fault {
  kNone,
  kUnreachable,       // accepts nothing: connections refused/dropped, SNMP unanswered
  kSlow,              // answers after fault_delay
  kWrongCredentials,  // rejects every login (401 / XML-RPC auth fault / SNMP unanswered)
  kMalformed,         // answers with documents that do not parse
};

// "none", "unreachable", "slow", "wrong-credentials", "malformed".
std::string_view faultName(Fault fault);
Result<Fault> parseFault(std::string_view name);

struct SimulatedSystem {
  int index = 0;
  std::string family;  // cisco-xapi, cisco-mcu, polycom, snmp
  std::string name;
  std::string model;
  std::string address;
  std::uint16_t http_port = 0;  // 0 for snmp-only systems
  std::uint16_t snmp_port = 0;
  std::string username;
  std::string password;
  std::string snmp_community;
  std::string serial_number;
  std::string software_version;
  std::string mac_address;
};

class Fleet {
 public:
  static Result<std::unique_ptr<Fleet>> start(const FleetOptions& options);
  virtual ~Fleet() = default;

  virtual const std::vector<SimulatedSystem>& systems() const = 0;

  // Calls, as a person at the system would make them; the system emits the same feedback,
  // events and traps a real one does.
  virtual Status dial(int index, const std::string& number) = 0;
  virtual Status incomingCall(int index, const std::string& from) = 0;
  virtual Status hangUp(int index) = 0;
  // A reboot: calls drop, uptime restarts, a boot event is posted to registered feedback slots
  // and a coldStart trap is sent.
  virtual Status reboot(int index) = 0;
  virtual Status sendTrap(int index, const std::string& trap_oid) = 0;
  virtual Status setFault(int index, Fault fault, std::chrono::milliseconds delay = std::chrono::milliseconds(0)) = 0;

  // What the simulated system holds now, to check what a driver did to it.
  virtual Result<devices::DeviceStatus> status(int index) const = 0;
  virtual Result<devices::PersistentSettings> settings(int index) const = 0;
  virtual Result<std::vector<devices::ConferenceInfo>> conferences(int index) const = 0;

  virtual void stop() = 0;
};

}  // namespace atrium::sim
