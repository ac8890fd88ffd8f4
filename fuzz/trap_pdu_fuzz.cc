// The trap receiver's path from bytes to a stored event: trapFromPdu (ingest/trap_pdu.h), then
// storedTrapEvent, the call updates and the spool record. The first byte picks how the PDU is
// made:
//   even: the rest is a raw datagram, parsed by net-snmp as the receiver's session does
//         (snmp_comstr_parse + snmp_pdu_parse for v1/v2c; snmpMessageVersion for every message);
//   odd:  the rest chooses a PDU built structurally with snmp_pdu_add_variable: version, command,
//         v1 fields, community, and varbinds of every type (sysUpTime.0 and snmpTrapOID.0 in any
//         position with any type), some with lengths cut below what their type holds; the PDU is
//         then encoded and parsed again as a datagram.
// Nothing may crash; what converts must become an event whose payload is JSON and whose spool
// record decodes again.
// net-snmp's headers must come first and in this order.
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "devices/snmp/net_snmp.h"
#include "ingest/event_records.h"
#include "ingest/trap_pdu.h"

namespace {

using namespace atrium;

struct PduDeleter {
  void operator()(netsnmp_pdu* p) const { snmp_free_pdu(p); }
};
using PduPtr = std::unique_ptr<netsnmp_pdu, PduDeleter>;

// Reads the fuzz bytes front to back; zeros once they run out.
class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | u8();
    return v;
  }
  std::string bytes(std::size_t n) {
    n = std::min(n, size_ - std::min(pos_, size_));
    std::string out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }
  std::vector<oid> oidOf(std::size_t max_len) {
    std::vector<oid> out(u8() % (max_len + 1));
    for (auto& o : out) o = (u8() & 0x80) ? static_cast<oid>(u64() & 0xffffffff) : u8();
    return out;
  }
  bool done() const { return pos_ >= size_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

void setCommunity(netsnmp_pdu* pdu, const std::string& c) {
  auto* copy = static_cast<u_char*>(std::malloc(c.size() + 1));
  if (copy == nullptr) return;
  std::memcpy(copy, c.data(), c.size());
  copy[c.size()] = 0;
  std::free(pdu->community);
  pdu->community = copy;
  pdu->community_len = c.size();
}

void toEvent(const netsnmp_pdu& pdu) {
  auto trap = ingest::trapFromPdu(pdu);
  if (!trap) return;
  trap->source_address = "127.0.0.1";
  ingest::Reception reception{std::string("system-1"), "node-1", "127.0.0.1", {}};
  auto event = ingest::storedTrapEvent(*trap, reception);
  if (nlohmann::json::parse(event.payload, nullptr, false).is_discarded()) std::abort();
  (void)ingest::callUpdatesFor({event});
  auto again = ingest::decodeBatch(ingest::encodeBatch({event}));
  if (!again.ok() || again->size() != 1 || (*again)[0].payload != event.payload) std::abort();
}

// The receiver's parse of a datagram: v3 is refused on its version alone; v1/v2c parse.
void fromDatagram(const std::uint8_t* data, std::size_t size) {
  auto version = ingest::snmpMessageVersion(data, size);
  if (version && *version == SNMP_VERSION_3) return;
  if (size == 0 || size > 65535) return;
  std::vector<u_char> copy(data, data + size);
  u_char community[256];
  size_t community_len = sizeof(community);
  long parsed_version = -1;
  size_t length = copy.size();
  u_char* rest =
      snmp_comstr_parse(copy.data(), &length, community, &community_len, &parsed_version);
  if (rest == nullptr) return;
  PduPtr pdu(snmp_pdu_create(0));
  if (!pdu) return;
  pdu->version = parsed_version;
  if (snmp_pdu_parse(pdu.get(), rest, &length) != 0) return;
  setCommunity(pdu.get(), std::string(reinterpret_cast<const char*>(community), community_len));
  toEvent(*pdu);
}

constexpr u_char kTypes[] = {
    ASN_INTEGER,       ASN_OCTET_STR,       ASN_OBJECT_ID,     ASN_TIMETICKS,
    ASN_COUNTER,       ASN_GAUGE,           ASN_COUNTER64,     ASN_IPADDRESS,
    ASN_NULL,          ASN_OPAQUE,          ASN_BIT_STR,       ASN_UINTEGER,
    SNMP_NOSUCHOBJECT, SNMP_NOSUCHINSTANCE, SNMP_ENDOFMIBVIEW, ASN_OPAQUE_FLOAT,
    ASN_OPAQUE_DOUBLE, ASN_OPAQUE_I64,      ASN_OPAQUE_U64,    ASN_OPAQUE_COUNTER64,
    ASN_BOOLEAN,
};

const std::vector<oid> kSysUpTime = {1, 3, 6, 1, 2, 1, 1, 3, 0};
const std::vector<oid> kTrapOid = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};

// Returns whether the value's length was cut.
bool addVarbind(netsnmp_pdu* pdu, Bytes& in) {
  const std::uint8_t which = in.u8();
  std::vector<oid> name = which % 4 == 0 ? kSysUpTime : which % 4 == 1 ? kTrapOid : in.oidOf(24);
  if (name.empty()) name = {0, 0};
  const std::uint8_t t = in.u8();
  const u_char type = t < 0xe0 ? kTypes[t % sizeof(kTypes)] : t;  // sometimes any byte
  const std::uint8_t len_byte = in.u8();
  netsnmp_variable_list* added = nullptr;
  switch (type) {
    case ASN_INTEGER:
    case ASN_TIMETICKS:
    case ASN_COUNTER:
    case ASN_GAUGE:
    case ASN_UINTEGER: {
      long v = static_cast<long>(in.u64());
      added = snmp_pdu_add_variable(pdu, name.data(), name.size(), type, &v, sizeof(v));
      break;
    }
    case ASN_COUNTER64:
    case ASN_OPAQUE_COUNTER64:
    case ASN_OPAQUE_I64:
    case ASN_OPAQUE_U64: {
      struct counter64 c {};
      c.high = in.u64() & 0xffffffff;
      c.low = in.u64() & 0xffffffff;
      added = snmp_pdu_add_variable(pdu, name.data(), name.size(), type, &c, sizeof(c));
      break;
    }
    case ASN_OBJECT_ID: {
      auto value = in.oidOf(MAX_OID_LEN);
      added = snmp_pdu_add_variable(pdu, name.data(), name.size(), type, value.data(),
                                    value.size() * sizeof(oid));
      break;
    }
    case ASN_OPAQUE_FLOAT: {
      float f = 0;
      auto raw = in.bytes(sizeof(f));
      std::memcpy(&f, raw.data(), raw.size());
      added = snmp_pdu_add_variable(pdu, name.data(), name.size(), type, &f, sizeof(f));
      break;
    }
    case ASN_OPAQUE_DOUBLE: {
      double d = 0;
      auto raw = in.bytes(sizeof(d));
      std::memcpy(&d, raw.data(), raw.size());
      added = snmp_pdu_add_variable(pdu, name.data(), name.size(), type, &d, sizeof(d));
      break;
    }
    case ASN_NULL:
    case SNMP_NOSUCHOBJECT:
    case SNMP_NOSUCHINSTANCE:
    case SNMP_ENDOFMIBVIEW:
      added = snmp_pdu_add_variable(pdu, name.data(), name.size(), type, nullptr, 0);
      break;
    default: {  // strings, addresses, opaque, bits and unknown types: bytes of any length
      auto value = in.bytes(len_byte);
      added =
          snmp_pdu_add_variable(pdu, name.data(), name.size(), type, value.data(), value.size());
      break;
    }
  }
  // Lengths cut below what the type holds (never above: that would be a lie about the
  // allocation, which net-snmp never tells).
  if (added != nullptr && (len_byte & 0xc0) == 0xc0) {
    added->val_len = len_byte % (added->val_len + 1);
    return true;
  }
  return false;
}

PduPtr structuralPdu(Bytes& in, bool& cut) {
  constexpr int kCommands[] = {SNMP_MSG_TRAP, SNMP_MSG_TRAP2, SNMP_MSG_INFORM, SNMP_MSG_GET,
                               SNMP_MSG_RESPONSE};
  constexpr long kVersions[] = {SNMP_VERSION_1, SNMP_VERSION_2c, SNMP_VERSION_3};
  PduPtr pdu(snmp_pdu_create(kCommands[in.u8() % 5]));
  if (!pdu) return pdu;
  pdu->version = kVersions[in.u8() % 3];
  pdu->reqid = static_cast<long>(in.u64() & 0x7fffffff);
  if (pdu->command == SNMP_MSG_TRAP) {
    pdu->trap_type = static_cast<long>(in.u64());
    pdu->specific_type = static_cast<long>(in.u64());
    pdu->time = static_cast<u_long>(in.u64());
    for (auto& a : pdu->agent_addr) a = in.u8();
    auto enterprise = in.oidOf(MAX_OID_LEN);
    if (!enterprise.empty()) {
      pdu->enterprise = static_cast<oid*>(std::malloc(enterprise.size() * sizeof(oid)));
      if (pdu->enterprise != nullptr) {
        std::memcpy(pdu->enterprise, enterprise.data(), enterprise.size() * sizeof(oid));
        pdu->enterprise_length = enterprise.size();
      }
    }
  }
  const std::string name = in.bytes(in.u8() % 64);
  if (pdu->version == SNMP_VERSION_3) {
    pdu->securityName = static_cast<char*>(std::malloc(name.size() + 1));
    if (pdu->securityName != nullptr) {
      std::memcpy(pdu->securityName, name.data(), name.size());
      pdu->securityName[name.size()] = 0;
      pdu->securityNameLen = name.size();
    }
  } else {
    setCommunity(pdu.get(), name);
  }
  const int count = in.u8() % 17;
  for (int i = 0; i < count && !in.done(); ++i) cut = addVarbind(pdu.get(), in) || cut;
  return pdu;
}

// Encodes a v1/v2c PDU as net-snmp would send it; empty when it cannot.
std::string encode(netsnmp_pdu* pdu) {
  if (pdu->version == SNMP_VERSION_3 || pdu->command == SNMP_MSG_GET) return {};
  netsnmp_session session;
  snmp_sess_init(&session);
  session.version = pdu->version;
  size_t size = 4096;
  size_t offset = 0;
  auto* raw = static_cast<u_char*>(std::malloc(size));
  if (raw == nullptr) return {};
  u_char* packet = raw;
  const int rc = snmp_build(&packet, &size, &offset, &session, pdu);
  std::string out;
  if (rc == 0) {
#ifdef NETSNMP_USE_REVERSE_ASNENCODING
    if (!(pdu->flags & UCD_MSG_FLAG_FORWARD_ENCODE)) {
      out.assign(reinterpret_cast<const char*>(packet + size - offset), offset);
    } else {
      out.assign(reinterpret_cast<const char*>(packet), offset);
    }
#else
    out.assign(reinterpret_cast<const char*>(packet), offset);
#endif
  }
  std::free(packet);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    devices::initNetSnmp();
    snmp_disable_log();  // net-snmp's complaints about the odd values, on every input otherwise
    return true;
  }();
  (void)quiet;
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    fromDatagram(data + 1, size - 1);
    return 0;
  }
  Bytes in(data + 1, size - 1);
  bool cut = false;
  PduPtr pdu = structuralPdu(in, cut);
  if (!pdu) return 0;
  toEvent(*pdu);
  // Cut lengths would encode what net-snmp itself never sends: only whole PDUs go round.
  const std::string wire = cut ? std::string() : encode(pdu.get());
  if (!wire.empty()) fromDatagram(reinterpret_cast<const std::uint8_t*>(wire.data()), wire.size());
  return 0;
}
