#include "ingest/trap_pdu.h"

// net-snmp's headers must come first and in this order.
// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
// clang-format on

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace atrium::ingest {
namespace {

constexpr std::string_view kSysUpTime = "1.3.6.1.2.1.1.3.0";
constexpr std::string_view kSnmpTrapOid = "1.3.6.1.6.3.1.1.4.1.0";

std::string oidText(const oid* name, std::size_t len) {
  std::string out;
  if (name == nullptr) return out;
  for (std::size_t i = 0; i < len; ++i) {
    if (i) out += '.';
    out += std::to_string(name[i]);
  }
  return out;
}

std::string hexOf(const u_char* p, std::size_t len) {
  std::string out = "hex:";
  if (p == nullptr) return out;
  for (std::size_t i = 0; i < len; ++i) fmt::format_to(std::back_inserter(out), "{:02x}", p[i]);
  return out;
}

// The integer-like value, when net-snmp holds one of the size it always stores (a long).
std::optional<long> integerOf(const netsnmp_variable_list& v) {
  if (v.val.integer == nullptr || v.val_len < sizeof(long)) return std::nullopt;
  return *v.val.integer;
}

std::string unsignedText(const netsnmp_variable_list& v) {
  auto n = integerOf(v);
  // Unsigned 32-bit types: net-snmp keeps them in a long, as the wire carried them.
  return n ? std::to_string(static_cast<unsigned long>(*n) & 0xffffffffUL) : std::string();
}

std::string counter64Text(const netsnmp_variable_list& v) {
  if (v.val.counter64 == nullptr || v.val_len < sizeof(struct counter64)) return {};
  const auto high = static_cast<unsigned long long>(v.val.counter64->high) & 0xffffffffULL;
  const auto low = static_cast<unsigned long long>(v.val.counter64->low) & 0xffffffffULL;
  return std::to_string((high << 32) | low);
}

// RFC 3584 section 3.1: the v2 notification OID of a v1 trap; empty for a generic-trap value
// the RFC does not define.
std::string v1TrapOid(const netsnmp_pdu& pdu) {
  if (pdu.trap_type >= 0 && pdu.trap_type < SNMP_TRAP_ENTERPRISESPECIFIC) {
    return fmt::format("1.3.6.1.6.3.1.1.5.{}", pdu.trap_type + 1);
  }
  if (pdu.trap_type != SNMP_TRAP_ENTERPRISESPECIFIC) return {};
  return fmt::format("{}.0.{}", oidText(pdu.enterprise, pdu.enterprise_length), pdu.specific_type);
}

}  // namespace

std::optional<long> snmpMessageVersion(const std::uint8_t* data, std::size_t size) {
  if (data == nullptr || size == 0) return std::nullopt;
  // asn_parse_* take non-const pointers but only read.
  auto* p = const_cast<u_char*>(data);
  std::size_t length = size;
  u_char type = 0;
  p = asn_parse_sequence(p, &length, &type, ASN_SEQUENCE | ASN_CONSTRUCTOR, "message");
  if (p == nullptr) return std::nullopt;
  long version = -1;
  p = asn_parse_int(p, &length, &type, &version, sizeof(version));
  if (p == nullptr || type != ASN_INTEGER) return std::nullopt;
  return version;
}

SnmpVarbind varbindFromNetSnmp(const netsnmp_variable_list& v) {
  SnmpVarbind b;
  b.oid = oidText(v.name, v.name_length);
  switch (v.type) {
    case ASN_INTEGER: {
      b.type = "integer";
      if (auto n = integerOf(v)) b.value = std::to_string(*n);
      break;
    }
    case ASN_OCTET_STR:
      b.type = "string";
      if (v.val.string != nullptr) {
        b.value.assign(reinterpret_cast<const char*>(v.val.string), v.val_len);
      }
      break;
    case ASN_OBJECT_ID:
      b.type = "oid";
      b.value = oidText(v.val.objid, v.val_len / sizeof(oid));
      break;
    case ASN_TIMETICKS:
      b.type = "timeticks";
      b.value = unsignedText(v);
      break;
    case ASN_COUNTER:
      b.type = "counter32";
      b.value = unsignedText(v);
      break;
    case ASN_GAUGE:  // also ASN_UNSIGNED
      b.type = "gauge32";
      b.value = unsignedText(v);
      break;
    case ASN_UINTEGER:
      b.type = "uinteger32";
      b.value = unsignedText(v);
      break;
    case ASN_COUNTER64:
      b.type = "counter64";
      b.value = counter64Text(v);
      break;
    case ASN_IPADDRESS:
      b.type = "ipaddress";
      if (v.val.string != nullptr && v.val_len == 4) {
        const u_char* p = v.val.string;
        b.value = fmt::format("{}.{}.{}.{}", p[0], p[1], p[2], p[3]);
      } else {
        b.value = hexOf(v.val.string, v.val_len);
      }
      break;
    case ASN_OPAQUE:
      b.type = "opaque";
      b.value = hexOf(v.val.string, v.val_len);
      break;
    case ASN_BIT_STR:
      b.type = "bits";
      b.value = hexOf(v.val.string, v.val_len);
      break;
    case ASN_NULL:
      b.type = "null";
      break;
    case SNMP_NOSUCHOBJECT:
      b.type = "no-such-object";
      break;
    case SNMP_NOSUCHINSTANCE:
      b.type = "no-such-instance";
      break;
    case SNMP_ENDOFMIBVIEW:
      b.type = "end-of-mib-view";
      break;
    default:
      // Opaque-wrapped floats, doubles and 64-bit integers, and anything else: the type only.
      // Their storage differs by build options, so it is not read.
      b.type = fmt::format("asn-0x{:02x}", static_cast<unsigned>(v.type));
      break;
  }
  return b;
}

std::optional<SnmpTrap> trapFromPdu(const netsnmp_pdu& pdu) {
  const bool v1_trap = pdu.command == SNMP_MSG_TRAP;
  if (!v1_trap && pdu.command != SNMP_MSG_TRAP2 && pdu.command != SNMP_MSG_INFORM) {
    return std::nullopt;
  }
  SnmpTrap trap;
  trap.inform = pdu.command == SNMP_MSG_INFORM;
  trap.version = pdu.version == SNMP_VERSION_1 ? 1 : pdu.version == SNMP_VERSION_3 ? 3 : 2;
  if (trap.version == 3) {
    if (pdu.securityName != nullptr)
      trap.security_name.assign(pdu.securityName, pdu.securityNameLen);
  } else if (pdu.community != nullptr) {
    trap.security_name.assign(reinterpret_cast<const char*>(pdu.community), pdu.community_len);
  }
  if (v1_trap) {
    trap.trap_oid = v1TrapOid(pdu);
    trap.uptime_centiseconds = static_cast<std::int64_t>(pdu.time & 0xffffffffUL);
    const u_char* a = pdu.agent_addr;
    if (a[0] || a[1] || a[2] || a[3]) {
      trap.agent_address = fmt::format("{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
    }
  }
  bool have_uptime = false;
  bool have_trap_oid = false;
  for (const netsnmp_variable_list* v = pdu.variables; v != nullptr; v = v->next_variable) {
    SnmpVarbind b = varbindFromNetSnmp(*v);
    if (!v1_trap && !have_uptime && b.oid == kSysUpTime && v->type == ASN_TIMETICKS &&
        integerOf(*v)) {
      trap.uptime_centiseconds = static_cast<std::int64_t>(*integerOf(*v) & 0xffffffffL);
      have_uptime = true;
    } else if (!v1_trap && !have_trap_oid && b.oid == kSnmpTrapOid && v->type == ASN_OBJECT_ID) {
      trap.trap_oid = std::move(b.value);
      have_trap_oid = true;
    } else {
      trap.varbinds.push_back(std::move(b));
    }
  }
  return trap;
}

}  // namespace atrium::ingest
