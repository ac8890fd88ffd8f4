// SNMP v1/v2c messages for the simulated agents and their traps, encoded and decoded with
// net-snmp's own PDU code (no net-snmp sessions or sockets: the fleet owns the UDP sockets).
// Call only from the fleet's io thread: net-snmp is not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace atrium::sim {

using SnmpOid = std::vector<std::uint32_t>;

SnmpOid parseOid(std::string_view dotted);  // "1.3.6.1.2.1.1.5.0"; empty if malformed
std::string oidText(const SnmpOid& oid);

struct SnmpValue {
  enum class Type { kInteger, kOctetString, kOid, kTimeticks, kGauge, kCounter, kNull,
                    kNoSuchObject, kNoSuchInstance, kEndOfMibView };
  Type type = Type::kNull;
  std::int64_t number = 0;
  std::string text;  // octet strings
  SnmpOid oid;       // object identifiers

  static SnmpValue integer(std::int64_t v) { return {Type::kInteger, v, {}, {}}; }
  static SnmpValue string(std::string v) { return {Type::kOctetString, 0, std::move(v), {}}; }
  static SnmpValue objectId(SnmpOid v) { return {Type::kOid, 0, {}, std::move(v)}; }
  static SnmpValue timeticks(std::int64_t v) { return {Type::kTimeticks, v, {}, {}}; }
  static SnmpValue gauge(std::int64_t v) { return {Type::kGauge, v, {}, {}}; }
  static SnmpValue exception(Type t) { return {t, 0, {}, {}}; }
};

struct SnmpBinding {
  SnmpOid oid;
  SnmpValue value;
};

enum class SnmpCommand { kGet, kGetNext, kGetBulk, kSet, kOther };

struct SnmpRequest {
  long version = 1;  // 0: v1, 1: v2c (the wire values)
  std::string community;
  SnmpCommand command = SnmpCommand::kOther;
  long request_id = 0;
  long bulk_non_repeaters = 0;    // GetBulk
  long bulk_max_repetitions = 0;  // GetBulk
  std::vector<SnmpOid> oids;
};

Result<SnmpRequest> decodeSnmpRequest(const std::uint8_t* data, std::size_t size);

// error_status/error_index as in RFC 3416 (0: noError).
Result<std::string> encodeSnmpResponse(const SnmpRequest& request,
                                       const std::vector<SnmpBinding>& bindings,
                                       long error_status = 0, long error_index = 0);

// An SNMPv2-Trap: sysUpTime.0, snmpTrapOID.0, then `bindings`.
Result<std::string> encodeSnmpTrap(const std::string& community, std::int64_t uptime_centiseconds,
                                   const SnmpOid& trap_oid, const std::vector<SnmpBinding>& bindings,
                                   long request_id);

// An SNMPv2-Trap with exactly `bindings`, in order (nothing added): what a broken or hostile
// agent may send, e.g. a sysUpTime.0 that is not a TimeTicks.
Result<std::string> encodeSnmpV2Notification(const std::string& community,
                                             const std::vector<SnmpBinding>& bindings,
                                             long request_id);

}  // namespace atrium::sim
