// The receiver's translation of what net-snmp parsed into an SnmpTrap: pure functions over a
// PDU or raw bytes, no session, no socket, so they can be fuzzed. They never throw on any input
// (only std::bad_alloc can escape, as from any allocation).
//
// Decisions on malformed notifications:
// - A sysUpTime.0 that is not a TimeTicks, or an snmpTrapOID.0 that is not an OBJECT IDENTIFIER,
//   is kept as an ordinary varbind: the trap is still taken (uptime 0, no trap OID, kind
//   "other"), since what a system sent is never lost; only the first well-typed one of each is
//   taken as the trap's uptime or OID, later ones are ordinary varbinds too.
// - A v1 trap whose generic-trap field is outside 0..6 gets no trap OID (kind "other").
// - A value whose length does not fit its type (an IpAddress of other than 4 bytes, a missing
//   Counter64, an integer without its storage) keeps its type and gets the value "" or its bytes
//   in hex ("hex:0a0b"), never a read outside what net-snmp holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "ingest/snmp_trap.h"

struct snmp_pdu;       // netsnmp_pdu
struct variable_list;  // netsnmp_variable_list

namespace atrium::ingest {

// The message version field of a raw SNMP datagram (0: v1, 1: v2c, 3: v3), read from the outer
// SEQUENCE and its first INTEGER; nullopt when the bytes do not start like an SNMP message.
std::optional<long> snmpMessageVersion(const std::uint8_t* data, std::size_t size);

// One varbind as Atrium stores it.
SnmpVarbind varbindFromNetSnmp(const variable_list& v);

// A notification PDU (v1 Trap, SNMPv2-Trap, InformRequest) as an SnmpTrap, without the packet's
// source (the caller knows it); nullopt for any other command.
std::optional<SnmpTrap> trapFromPdu(const snmp_pdu& pdu);

}  // namespace atrium::ingest
