// SNMP notifications as Atrium sees them, independent of net-snmp's types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace atrium::ingest {

struct SnmpVarbind {
  std::string oid;    // numeric, dotted, no leading dot: "1.3.6.1.2.1.1.3.0"
  std::string type;   // integer, string, oid, timeticks, counter32, gauge32, counter64, ipaddress, null, ...
  std::string value;  // text form; octet strings as sent (binary kept)
};

struct SnmpTrap {
  std::string source_address;  // IP literal of the sender (IPv6 without brackets)
  std::uint16_t source_port = 0;
  int version = 2;             // 1, 2 (v2c) or 3
  std::string security_name;   // the community (v1/v2c) or the USM user (v3)
  bool inform = false;         // an InformRequest, answered once accepted
  // The notification OID (snmpTrapOID.0); v1 traps are translated as RFC 3584 says.
  std::string trap_oid;
  std::int64_t uptime_centiseconds = 0;  // sysUpTime.0 (v2/v3) or the v1 timestamp
  // v1 only: the agent address field, which may differ from the packet's source.
  std::string agent_address;
  std::vector<SnmpVarbind> varbinds;  // without sysUpTime.0 and snmpTrapOID.0
};

// What a notification means to Atrium.
enum class TrapKind {
  kColdStart,
  kWarmStart,
  kLinkDown,
  kLinkUp,
  kAuthenticationFailure,
  kPolycomCallUp,
  kPolycomCallDown,
  kOther,
};

TrapKind classifyTrap(std::string_view trap_oid);
std::string_view trapKindName(TrapKind kind);

}  // namespace atrium::ingest
