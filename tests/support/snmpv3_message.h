// A hand-encoded SNMPv3 SNMPv2-Trap (RFC 3412 message, RFC 3414 USM parameters,
// noAuthNoPriv) with any user name, the empty one included: net-snmp's snmptrap refuses to
// send with an empty user ("No securityName specified"), which is what a hostile sender does.
#pragma once

#include <cstdint>
#include <string>

namespace atrium::testing {

namespace snmpv3_detail {

inline std::string tlv(std::uint8_t tag, const std::string& content) {
  std::string out(1, static_cast<char>(tag));
  const std::size_t n = content.size();
  if (n < 0x80) {
    out += static_cast<char>(n);
  } else if (n < 0x100) {
    out += '\x81';
    out += static_cast<char>(n);
  } else {
    out += '\x82';
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  }
  return out + content;
}

inline std::string integer(std::uint32_t v) {
  std::string bytes;
  do {
    bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
    v >>= 8;
  } while (v != 0);
  if (static_cast<std::uint8_t>(bytes.front()) & 0x80) bytes.insert(bytes.begin(), '\0');
  return tlv(0x02, bytes);
}

inline std::string octets(const std::string& s) { return tlv(0x04, s); }

}  // namespace snmpv3_detail

// sysUpTime.0 = `uptime`, snmpTrapOID.0 = coldStart, from USM user `user`.
inline std::string snmpV3ColdStart(const std::string& user, std::uint32_t uptime = 100) {
  using namespace snmpv3_detail;
  const std::string engine("\x80\x00\x1f\x88\x80\xaa\xbb\xcc\xdd", 9);
  const std::string global =
      tlv(0x30, integer(4242) + integer(65507) + octets(std::string(1, '\0')) + integer(3));
  const std::string usm =
      tlv(0x30, octets(engine) + integer(1) + integer(10) + octets(user) + octets("") + octets(""));
  const std::string sys_uptime_oid("\x2b\x06\x01\x02\x01\x01\x03\x00", 8);
  const std::string trap_oid_oid("\x2b\x06\x01\x06\x03\x01\x01\x04\x01\x00", 10);
  const std::string cold_start("\x2b\x06\x01\x06\x03\x01\x01\x05\x01", 9);
  std::string ticks;
  for (int shift = 24; shift >= 0; shift -= 8) ticks += static_cast<char>((uptime >> shift) & 0xff);
  const std::string varbinds =
      tlv(0x30, tlv(0x30, tlv(0x06, sys_uptime_oid) + tlv(0x43, ticks)) +
                    tlv(0x30, tlv(0x06, trap_oid_oid) + tlv(0x06, cold_start)));
  const std::string pdu = tlv(0xa7, integer(77) + integer(0) + integer(0) + varbinds);
  const std::string scoped = tlv(0x30, octets(engine) + octets("") + pdu);
  return tlv(0x30, integer(3) + global + octets(usm) + scoped);
}

}  // namespace atrium::testing
