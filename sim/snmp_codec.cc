#include "sim/snmp_codec.h"

// net-snmp's headers must come first and in this order.
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/snmp_impl.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

namespace atrium::sim {
namespace {

std::once_flag g_init;

void initNetSnmp() {
  std::call_once(g_init, [] {
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_CONFIG_LOAD, 1);
    ::setenv("MIBS", "", 0);
    snmp_disable_log();
    init_snmp("atrium");
  });
}

struct PduDeleter {
  void operator()(netsnmp_pdu* pdu) const { snmp_free_pdu(pdu); }
};
using PduPtr = std::unique_ptr<netsnmp_pdu, PduDeleter>;

struct MallocDeleter {
  void operator()(u_char* p) const { std::free(p); }
};

std::vector<oid> toNetSnmp(const SnmpOid& in) { return {in.begin(), in.end()}; }

Status addBinding(netsnmp_pdu* pdu, const SnmpBinding& b) {
  const std::vector<oid> name = toNetSnmp(b.oid);
  netsnmp_variable_list* added = nullptr;
  switch (b.value.type) {
    case SnmpValue::Type::kInteger:
    case SnmpValue::Type::kTimeticks:
    case SnmpValue::Type::kGauge:
    case SnmpValue::Type::kCounter: {
      const long v = static_cast<long>(b.value.number);
      const u_char type = b.value.type == SnmpValue::Type::kInteger     ? ASN_INTEGER
                          : b.value.type == SnmpValue::Type::kTimeticks ? ASN_TIMETICKS
                          : b.value.type == SnmpValue::Type::kGauge     ? ASN_GAUGE
                                                                         : ASN_COUNTER;
      added = snmp_pdu_add_variable(pdu, name.data(), name.size(), type, &v, sizeof(v));
      break;
    }
    case SnmpValue::Type::kOctetString:
      added = snmp_pdu_add_variable(pdu, name.data(), name.size(), ASN_OCTET_STR,
                                    b.value.text.data(), b.value.text.size());
      break;
    case SnmpValue::Type::kOid: {
      const std::vector<oid> value = toNetSnmp(b.value.oid);
      added = snmp_pdu_add_variable(pdu, name.data(), name.size(), ASN_OBJECT_ID, value.data(),
                                    value.size() * sizeof(oid));
      break;
    }
    case SnmpValue::Type::kNull:
      added = snmp_pdu_add_variable(pdu, name.data(), name.size(), ASN_NULL, nullptr, 0);
      break;
    case SnmpValue::Type::kNoSuchObject:
      added = snmp_pdu_add_variable(pdu, name.data(), name.size(), SNMP_NOSUCHOBJECT, nullptr, 0);
      break;
    case SnmpValue::Type::kNoSuchInstance:
      added =
          snmp_pdu_add_variable(pdu, name.data(), name.size(), SNMP_NOSUCHINSTANCE, nullptr, 0);
      break;
    case SnmpValue::Type::kEndOfMibView:
      added = snmp_pdu_add_variable(pdu, name.data(), name.size(), SNMP_ENDOFMIBVIEW, nullptr, 0);
      break;
  }
  if (added == nullptr) return Error::internal("net-snmp could not add a variable");
  return okStatus();
}

Status setCommunity(netsnmp_pdu* pdu, const std::string& community) {
  auto* copy = static_cast<u_char*>(std::malloc(community.size() + 1));
  if (copy == nullptr) return Error::internal("out of memory");
  std::memcpy(copy, community.data(), community.size());
  copy[community.size()] = 0;
  pdu->community = copy;
  pdu->community_len = community.size();
  return okStatus();
}

Result<std::string> build(netsnmp_pdu* pdu) {
  netsnmp_session session;
  snmp_sess_init(&session);
  session.version = pdu->version;
  size_t size = 2048;
  size_t offset = 0;
  u_char* raw = static_cast<u_char*>(std::malloc(size));
  if (raw == nullptr) return Error::internal("out of memory");
  std::unique_ptr<u_char, MallocDeleter> guard(raw);
  u_char* packet = raw;
  const int rc = snmp_build(&packet, &size, &offset, &session, pdu);
  if (packet != raw) {  // net-snmp reallocated the buffer
    (void)guard.release();
    guard.reset(packet);
  }
  if (rc != 0) return Error::internal("net-snmp could not encode the PDU");
#ifdef NETSNMP_USE_REVERSE_ASNENCODING
  if (!(pdu->flags & UCD_MSG_FLAG_FORWARD_ENCODE)) {
    return std::string(reinterpret_cast<const char*>(packet + size - offset), offset);
  }
#endif
  return std::string(reinterpret_cast<const char*>(packet), offset);
}

}  // namespace

SnmpOid parseOid(std::string_view dotted) {
  SnmpOid out;
  if (!dotted.empty() && dotted.front() == '.') dotted.remove_prefix(1);
  std::uint64_t current = 0;
  bool digits = false;
  for (char c : dotted) {
    if (c == '.') {
      if (!digits) return {};
      out.push_back(static_cast<std::uint32_t>(current));
      current = 0;
      digits = false;
    } else if (c >= '0' && c <= '9') {
      current = current * 10 + static_cast<std::uint64_t>(c - '0');
      if (current > 0xffffffffu) return {};
      digits = true;
    } else {
      return {};
    }
  }
  if (!digits) return {};
  out.push_back(static_cast<std::uint32_t>(current));
  return out;
}

std::string oidText(const SnmpOid& o) {
  std::string out;
  for (std::size_t i = 0; i < o.size(); ++i) {
    if (i) out += '.';
    out += std::to_string(o[i]);
  }
  return out;
}

Result<SnmpRequest> decodeSnmpRequest(const std::uint8_t* data, std::size_t size) {
  initNetSnmp();
  if (size == 0 || size > 65535) return Error::invalid("SNMP message of impossible size");
  std::vector<u_char> copy(data, data + size);
  u_char community[256];
  size_t community_len = sizeof(community);
  long version = -1;
  size_t length = copy.size();
  u_char* rest = snmp_comstr_parse(copy.data(), &length, community, &community_len, &version);
  if (rest == nullptr) return Error::invalid("not an SNMP v1/v2c message");
  if (version != SNMP_VERSION_1 && version != SNMP_VERSION_2c) {
    return Error::invalid("SNMP version " + std::to_string(version) + " is not served");
  }
  PduPtr pdu(snmp_pdu_create(0));
  if (!pdu) return Error::internal("out of memory");
  pdu->version = version;
  if (snmp_pdu_parse(pdu.get(), rest, &length) != 0) return Error::invalid("malformed SNMP PDU");
  SnmpRequest request;
  request.version = version;
  request.community.assign(reinterpret_cast<const char*>(community), community_len);
  switch (pdu->command) {
    case SNMP_MSG_GET: request.command = SnmpCommand::kGet; break;
    case SNMP_MSG_GETNEXT: request.command = SnmpCommand::kGetNext; break;
    case SNMP_MSG_GETBULK: request.command = SnmpCommand::kGetBulk; break;
    case SNMP_MSG_SET: request.command = SnmpCommand::kSet; break;
    default: request.command = SnmpCommand::kOther; break;
  }
  request.request_id = pdu->reqid;
  request.bulk_non_repeaters = pdu->errstat;
  request.bulk_max_repetitions = pdu->errindex;
  for (const netsnmp_variable_list* v = pdu->variables; v != nullptr; v = v->next_variable) {
    request.oids.emplace_back(v->name, v->name + v->name_length);
  }
  return request;
}

Result<std::string> encodeSnmpResponse(const SnmpRequest& request,
                                       const std::vector<SnmpBinding>& bindings,
                                       long error_status, long error_index) {
  initNetSnmp();
  PduPtr pdu(snmp_pdu_create(SNMP_MSG_RESPONSE));
  if (!pdu) return Error::internal("out of memory");
  pdu->version = request.version;
  pdu->reqid = request.request_id;
  pdu->errstat = error_status;
  pdu->errindex = error_index;
  ATRIUM_TRY(setCommunity(pdu.get(), request.community));
  for (const SnmpBinding& b : bindings) ATRIUM_TRY(addBinding(pdu.get(), b));
  return build(pdu.get());
}

Result<std::string> encodeSnmpTrap(const std::string& community, std::int64_t uptime_centiseconds,
                                   const SnmpOid& trap_oid, const std::vector<SnmpBinding>& bindings,
                                   long request_id) {
  initNetSnmp();
  PduPtr pdu(snmp_pdu_create(SNMP_MSG_TRAP2));
  if (!pdu) return Error::internal("out of memory");
  pdu->version = SNMP_VERSION_2c;
  pdu->reqid = request_id;
  ATRIUM_TRY(setCommunity(pdu.get(), community));
  ATRIUM_TRY(addBinding(pdu.get(), {parseOid("1.3.6.1.2.1.1.3.0"),
                                    SnmpValue::timeticks(uptime_centiseconds)}));
  ATRIUM_TRY(addBinding(pdu.get(), {parseOid("1.3.6.1.6.3.1.1.4.1.0"), SnmpValue::objectId(trap_oid)}));
  for (const SnmpBinding& b : bindings) ATRIUM_TRY(addBinding(pdu.get(), b));
  return build(pdu.get());
}

Result<std::string> encodeSnmpV2Notification(const std::string& community,
                                             const std::vector<SnmpBinding>& bindings,
                                             long request_id) {
  initNetSnmp();
  PduPtr pdu(snmp_pdu_create(SNMP_MSG_TRAP2));
  if (!pdu) return Error::internal("out of memory");
  pdu->version = SNMP_VERSION_2c;
  pdu->reqid = request_id;
  ATRIUM_TRY(setCommunity(pdu.get(), community));
  for (const SnmpBinding& b : bindings) ATRIUM_TRY(addBinding(pdu.get(), b));
  return build(pdu.get());
}

}  // namespace atrium::sim
