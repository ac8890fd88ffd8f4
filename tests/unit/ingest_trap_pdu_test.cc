// The receiver's PDU -> SnmpTrap translation on PDUs built with net-snmp itself: every varbind
// type, mistyped sysUpTime.0 / snmpTrapOID.0 in any position, values of impossible sizes.
#include "ingest/trap_pdu.h"

// net-snmp's headers must come first and in this order.
// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
// clang-format on

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "devices/snmp/net_snmp.h"

namespace atrium::ingest {
namespace {

struct PduDeleter {
  void operator()(netsnmp_pdu* p) const { snmp_free_pdu(p); }
};
using PduPtr = std::unique_ptr<netsnmp_pdu, PduDeleter>;

const std::vector<oid> kSysUpTime = {1, 3, 6, 1, 2, 1, 1, 3, 0};
const std::vector<oid> kTrapOid = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
const std::vector<oid> kColdStart = {1, 3, 6, 1, 6, 3, 1, 1, 5, 1};
const std::vector<oid> kOther = {1, 3, 6, 1, 4, 1, 9, 1};

PduPtr v2Trap() {
  devices::initNetSnmp();
  PduPtr pdu(snmp_pdu_create(SNMP_MSG_TRAP2));
  pdu->version = SNMP_VERSION_2c;
  return pdu;
}

void add(netsnmp_pdu* pdu, const std::vector<oid>& name, u_char type, const void* value,
         std::size_t len) {
  ASSERT_NE(snmp_pdu_add_variable(pdu, name.data(), name.size(), type, value, len), nullptr);
}

void addLong(netsnmp_pdu* pdu, const std::vector<oid>& name, u_char type, long v) {
  add(pdu, name, type, &v, sizeof(v));
}

void addString(netsnmp_pdu* pdu, const std::vector<oid>& name, const std::string& s) {
  add(pdu, name, ASN_OCTET_STR, s.data(), s.size());
}

void addOid(netsnmp_pdu* pdu, const std::vector<oid>& name, const std::vector<oid>& value) {
  add(pdu, name, ASN_OBJECT_ID, value.data(), value.size() * sizeof(oid));
}

TEST(TrapPduTest, WellFormedV2TrapTakesUptimeAndOid) {
  auto pdu = v2Trap();
  addLong(pdu.get(), kSysUpTime, ASN_TIMETICKS, 4242);
  addOid(pdu.get(), kTrapOid, kColdStart);
  addString(pdu.get(), kOther, "Room 1");
  auto t = trapFromPdu(*pdu);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->version, 2);
  EXPECT_EQ(t->uptime_centiseconds, 4242);
  EXPECT_EQ(t->trap_oid, "1.3.6.1.6.3.1.1.5.1");
  ASSERT_EQ(t->varbinds.size(), 1u);
  EXPECT_EQ(t->varbinds[0].value, "Room 1");
}

TEST(TrapPduTest, MistypedSysUpTimeAndTrapOidAreOrdinaryVarbinds) {
  auto pdu = v2Trap();
  addString(pdu.get(), kSysUpTime, "not a number");  // the crash of the issue
  addLong(pdu.get(), kTrapOid, ASN_INTEGER, 5);
  auto t = trapFromPdu(*pdu);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->uptime_centiseconds, 0);
  EXPECT_EQ(t->trap_oid, "");
  ASSERT_EQ(t->varbinds.size(), 2u);
  EXPECT_EQ(t->varbinds[0].type, "string");
  EXPECT_EQ(t->varbinds[0].value, "not a number");
  EXPECT_EQ(t->varbinds[1].type, "integer");
  EXPECT_EQ(t->varbinds[1].value, "5");
}

TEST(TrapPduTest, OnlyTheFirstWellTypedOfEachIsTaken) {
  auto pdu = v2Trap();
  addString(pdu.get(), kOther, "first");
  addOid(pdu.get(), kTrapOid, kColdStart);
  addLong(pdu.get(), kSysUpTime, ASN_TIMETICKS, 7);
  addLong(pdu.get(), kSysUpTime, ASN_TIMETICKS, 8);
  addOid(pdu.get(), kTrapOid, kOther);
  auto t = trapFromPdu(*pdu);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->uptime_centiseconds, 7);
  EXPECT_EQ(t->trap_oid, "1.3.6.1.6.3.1.1.5.1");
  ASSERT_EQ(t->varbinds.size(), 3u);
  EXPECT_EQ(t->varbinds[1].value, "8");
  EXPECT_EQ(t->varbinds[2].value, "1.3.6.1.4.1.9.1");
}

TEST(TrapPduTest, EveryTypeAndImpossibleSizes) {
  auto pdu = v2Trap();
  addLong(pdu.get(), kOther, ASN_COUNTER, 0xffffffffL);
  addLong(pdu.get(), kOther, ASN_GAUGE, 12);
  struct counter64 c64 = {1, 2};
  add(pdu.get(), kOther, ASN_COUNTER64, &c64, sizeof(c64));
  const u_char ip4[4] = {192, 0, 2, 1};
  add(pdu.get(), kOther, ASN_IPADDRESS, ip4, 4);
  add(pdu.get(), kOther, ASN_NULL, nullptr, 0);
  add(pdu.get(), kOther, ASN_OPAQUE, "\x01\x02", 2);
  addOid(pdu.get(), kOther, {});
  add(pdu.get(), kOther, SNMP_NOSUCHOBJECT, nullptr, 0);
  auto t = trapFromPdu(*pdu);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->varbinds.size(), 8u);
  EXPECT_EQ(t->varbinds[0].value, "4294967295");
  EXPECT_EQ(t->varbinds[1].type, "gauge32");
  EXPECT_EQ(t->varbinds[2].value, std::to_string((1ull << 32) | 2));
  EXPECT_EQ(t->varbinds[3].value, "192.0.2.1");
  EXPECT_EQ(t->varbinds[4].type, "null");
  EXPECT_EQ(t->varbinds[5].value, "hex:0102");
  EXPECT_EQ(t->varbinds[6].value, "");
  EXPECT_EQ(t->varbinds[7].type, "no-such-object");

  // Sizes net-snmp would never parse, forced into the structure: nothing is read beyond them.
  netsnmp_variable_list v{};
  v.name = const_cast<oid*>(kOther.data());
  v.name_length = kOther.size();
  u_char three[3] = {10, 0, 1};
  v.type = ASN_IPADDRESS;
  v.val.string = three;
  v.val_len = 3;
  EXPECT_EQ(varbindFromNetSnmp(v).value, "hex:0a0001");
  v.type = ASN_COUNTER64;
  v.val.counter64 = nullptr;
  v.val_len = 0;
  EXPECT_EQ(varbindFromNetSnmp(v).value, "");
  v.type = ASN_INTEGER;
  v.val.integer = nullptr;
  EXPECT_EQ(varbindFromNetSnmp(v).value, "");
  v.type = ASN_TIMETICKS;
  long small = 5;
  v.val.integer = &small;
  v.val_len = 2;  // shorter than the long net-snmp keeps
  EXPECT_EQ(varbindFromNetSnmp(v).value, "");
  v.type = ASN_OCTET_STR;
  v.val.string = nullptr;
  v.val_len = 10;
  EXPECT_EQ(varbindFromNetSnmp(v).value, "");
  v.type = 0x78;  // an Opaque-wrapped float: the type only
  EXPECT_EQ(varbindFromNetSnmp(v).type, "asn-0x78");
  v.name = nullptr;
  EXPECT_EQ(varbindFromNetSnmp(v).oid, "");
}

TEST(TrapPduTest, V1TrapsAndOutOfRangeGenericTraps) {
  devices::initNetSnmp();
  PduPtr pdu(snmp_pdu_create(SNMP_MSG_TRAP));
  pdu->version = SNMP_VERSION_1;
  pdu->trap_type = 2;
  pdu->time = 777;
  auto t = trapFromPdu(*pdu);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->version, 1);
  EXPECT_EQ(t->trap_oid, "1.3.6.1.6.3.1.1.5.3");
  EXPECT_EQ(t->uptime_centiseconds, 777);
  pdu->trap_type = 6;
  pdu->specific_type = 4;
  EXPECT_EQ(trapFromPdu(*pdu)->trap_oid, ".0.4");     // no enterprise given
  pdu->trap_type = std::numeric_limits<long>::max();  // once an overflow on trap_type + 1
  EXPECT_EQ(trapFromPdu(*pdu)->trap_oid, "");
  pdu->trap_type = -1;
  EXPECT_EQ(trapFromPdu(*pdu)->trap_oid, "");
  // A v1 PDU's varbinds named sysUpTime.0 are ordinary varbinds.
  addString(pdu.get(), kSysUpTime, "x");
  EXPECT_EQ(trapFromPdu(*pdu)->varbinds.size(), 1u);
}

TEST(TrapPduTest, OtherCommandsAreNotNotifications) {
  devices::initNetSnmp();
  PduPtr pdu(snmp_pdu_create(SNMP_MSG_GET));
  EXPECT_FALSE(trapFromPdu(*pdu));
  pdu->command = SNMP_MSG_INFORM;
  pdu->version = SNMP_VERSION_3;
  auto t = trapFromPdu(*pdu);  // no security name set: empty, not a null read
  ASSERT_TRUE(t);
  EXPECT_EQ(t->version, 3);
  EXPECT_TRUE(t->inform);
  EXPECT_EQ(t->security_name, "");
}

TEST(TrapPduTest, MessageVersionOfRawBytes) {
  const std::uint8_t v2c[] = {0x30, 0x05, 0x02, 0x01, 0x01, 0x04, 0x00};
  EXPECT_EQ(snmpMessageVersion(v2c, sizeof(v2c)), 1);
  const std::uint8_t v3[] = {0x30, 0x03, 0x02, 0x01, 0x03};
  EXPECT_EQ(snmpMessageVersion(v3, sizeof(v3)), 3);
  const std::uint8_t junk[] = {0x30, 0x82, 0xff, 0xff, 0x02};
  EXPECT_FALSE(snmpMessageVersion(junk, sizeof(junk)));
  EXPECT_FALSE(snmpMessageVersion(nullptr, 0));
  const std::uint8_t not_int[] = {0x30, 0x03, 0x04, 0x01, 0x03};
  EXPECT_FALSE(snmpMessageVersion(not_int, sizeof(not_int)));
}

}  // namespace
}  // namespace atrium::ingest
