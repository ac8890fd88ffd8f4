#include "ingest/snmp_trap.h"

namespace atrium::ingest {

TrapKind classifyTrap(std::string_view oid) {
  if (!oid.empty() && oid.front() == '.') oid.remove_prefix(1);
  // SNMPv2-MIB snmpTraps (RFC 3418) and IF-MIB (RFC 2863).
  if (oid == "1.3.6.1.6.3.1.1.5.1") return TrapKind::kColdStart;
  if (oid == "1.3.6.1.6.3.1.1.5.2") return TrapKind::kWarmStart;
  if (oid == "1.3.6.1.6.3.1.1.5.3") return TrapKind::kLinkDown;
  if (oid == "1.3.6.1.6.3.1.1.5.4") return TrapKind::kLinkUp;
  if (oid == "1.3.6.1.6.3.1.1.5.5") return TrapKind::kAuthenticationFailure;
  // Polycom video endpoint notifications (enterprise 2684).
  if (oid == "1.3.6.1.4.1.2684.1.1.0.4") return TrapKind::kPolycomCallUp;
  if (oid == "1.3.6.1.4.1.2684.1.1.0.5") return TrapKind::kPolycomCallDown;
  return TrapKind::kOther;
}

std::string_view trapKindName(TrapKind kind) {
  switch (kind) {
    case TrapKind::kColdStart: return "cold-start";
    case TrapKind::kWarmStart: return "warm-start";
    case TrapKind::kLinkDown: return "link-down";
    case TrapKind::kLinkUp: return "link-up";
    case TrapKind::kAuthenticationFailure: return "authentication-failure";
    case TrapKind::kPolycomCallUp: return "call-up";
    case TrapKind::kPolycomCallDown: return "call-down";
    case TrapKind::kOther: return "other";
  }
  return "other";
}

}  // namespace atrium::ingest
