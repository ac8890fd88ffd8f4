#include "devices/snmp/snmp_driver.h"

// net-snmp's headers must come first and in this order.
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <vector>

#include "devices/driver_http.h"
#include "devices/snmp/net_snmp.h"

namespace atrium::devices::snmp {
namespace {

struct SessionCloser {
  void operator()(void* session) const { snmp_sess_close(session); }
};
using SessionHandle = std::unique_ptr<void, SessionCloser>;

struct PduFree {
  void operator()(netsnmp_pdu* pdu) const { snmp_free_pdu(pdu); }
};
using PduHandle = std::unique_ptr<netsnmp_pdu, PduFree>;

struct CFree {
  void operator()(char* p) const { std::free(p); }
};

// The OIDs read, numeric (no MIBs are loaded).
const oid kSysDescr[] = {1, 3, 6, 1, 2, 1, 1, 1, 0};
const oid kSysObjectId[] = {1, 3, 6, 1, 2, 1, 1, 2, 0};
const oid kSysUpTime[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
const oid kSysName[] = {1, 3, 6, 1, 2, 1, 1, 5, 0};
const oid kIfOperStatus1[] = {1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 1};

template <std::size_t N>
bool is(const netsnmp_variable_list* v, const oid (&name)[N]) {
  return snmp_oid_compare(v->name, v->name_length, name, N) == 0;
}

std::string stringOf(const netsnmp_variable_list* v) {
  if (v->type != ASN_OCTET_STR || v->val.string == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(v->val.string), v->val_len);
}

std::string oidOf(const netsnmp_variable_list* v) {
  if (v->type != ASN_OBJECT_ID || v->val.objid == nullptr) return {};
  std::string out;
  for (std::size_t i = 0; i < v->val_len / sizeof(oid); ++i) {
    if (i) out += '.';
    out += std::to_string(v->val.objid[i]);
  }
  return out;
}

// The software version sysDescr names after the word "version" or "software", any case:
// "Polycom HDX 8000, Version 3.1.5" or "Cisco Codec SX20, software ce9.1.4" -> "3.1.5", "ce9.1.4".
// Empty when it names none.
std::string versionIn(std::string_view descr) {
  std::string folded(descr);
  for (char& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view keyword : {"version", "software"}) {
    for (std::size_t at = folded.find(keyword); at != std::string::npos;
         at = folded.find(keyword, at + 1)) {
      bool starts_word = at == 0 || !std::isalnum(static_cast<unsigned char>(folded[at - 1]));
      std::size_t start = at + keyword.size();
      if (!starts_word || start >= descr.size() || (descr[start] != ' ' && descr[start] != ':')) {
        continue;
      }
      while (start < descr.size() && (descr[start] == ' ' || descr[start] == ':')) ++start;
      std::size_t end = descr.find_first_of(" ,;\r\n", start);
      if (end == std::string_view::npos) end = descr.size();
      if (end > start) return std::string(descr.substr(start, end - start));
    }
  }
  return {};
}

std::string peerName(const DriverTarget& target) {
  std::uint16_t port = target.port != 0 ? target.port : 161;
  if (target.address.find(':') != std::string::npos) {
    return "udp6:[" + target.address + "]:" + std::to_string(port);
  }
  return "udp:" + target.address + ":" + std::to_string(port);
}

Error snmpError(ErrorCode code, const DriverTarget& target, std::string_view what) {
  return driverError(code, SnmpDriver::kFamily, target, what);
}

std::string sessionErrorText(void* session) {
  int liberr = 0;
  int syserr = 0;
  char* raw = nullptr;
  snmp_sess_error(session, &liberr, &syserr, &raw);
  std::unique_ptr<char, CFree> text(raw);
  return text ? std::string(text.get()) : "unknown net-snmp error";
}

Result<DeviceStatus> pollOnce(const DriverTarget& target) {
  initNetSnmp();
  netsnmp_session settings;
  snmp_sess_init(&settings);
  std::string peer = peerName(target);
  std::string community = target.snmp_community;
  settings.version = SNMP_VERSION_2c;
  settings.peername = peer.data();
  settings.community = reinterpret_cast<u_char*>(community.data());
  settings.community_len = community.size();
  // One retry: UDP may lose a datagram; both tries together stay within the target's timeout.
  settings.retries = 1;
  long per_try_us = static_cast<long>(target.timeout.count()) * 1000 / 2;
  settings.timeout = per_try_us > 0 ? per_try_us : 1000;

  SessionHandle session(snmp_sess_open(&settings));
  if (!session) {
    int liberr = 0;
    int syserr = 0;
    char* raw = nullptr;
    snmp_error(&settings, &liberr, &syserr, &raw);
    std::unique_ptr<char, CFree> text(raw);
    return snmpError(ErrorCode::kUnavailable, target,
                     "cannot open an SNMP session: " +
                         std::string(text ? text.get() : "unknown net-snmp error"));
  }

  PduHandle request(snmp_pdu_create(SNMP_MSG_GET));
  snmp_add_null_var(request.get(), kSysDescr, std::size(kSysDescr));
  snmp_add_null_var(request.get(), kSysObjectId, std::size(kSysObjectId));
  snmp_add_null_var(request.get(), kSysUpTime, std::size(kSysUpTime));
  snmp_add_null_var(request.get(), kSysName, std::size(kSysName));
  snmp_add_null_var(request.get(), kIfOperStatus1, std::size(kIfOperStatus1));

  netsnmp_pdu* raw_response = nullptr;
  // The library takes the request PDU (it frees it whether or not it could be sent).
  int status = snmp_sess_synch_response(session.get(), request.release(), &raw_response);
  PduHandle response(raw_response);
  if (status == STAT_TIMEOUT) {
    return snmpError(ErrorCode::kUnavailable, target,
                     "no SNMP answer within " + std::to_string(target.timeout.count()) +
                         " ms (unreachable, or the community is wrong)");
  }
  if (status != STAT_SUCCESS || !response) {
    return snmpError(ErrorCode::kUnavailable, target,
                     "SNMP GET failed: " + sessionErrorText(session.get()));
  }
  if (response->errstat != SNMP_ERR_NOERROR) {
    return snmpError(ErrorCode::kInvalidArgument, target,
                     std::string("the agent answered ") + snmp_errstring(response->errstat));
  }

  DeviceStatus out;
  bool any = false;
  for (netsnmp_variable_list* v = response->variables; v != nullptr; v = v->next_variable) {
    if (v->type == SNMP_NOSUCHOBJECT || v->type == SNMP_NOSUCHINSTANCE ||
        v->type == SNMP_ENDOFMIBVIEW) {
      continue;
    }
    if (is(v, kSysDescr)) {
      out.identity.product = stringOf(v);
      out.identity.software_version = versionIn(out.identity.product);
      any = true;
    } else if (is(v, kSysObjectId)) {
      out.identity.product_type = oidOf(v);
    } else if (is(v, kSysUpTime) && v->type == ASN_TIMETICKS && v->val.integer) {
      out.uptime = std::chrono::seconds(static_cast<unsigned long>(*v->val.integer) / 100);
    } else if (is(v, kSysName)) {
      out.identity.system_name = stringOf(v);
      any = true;
    } else if (is(v, kIfOperStatus1) && v->type == ASN_INTEGER && v->val.integer) {
      out.interface_up = *v->val.integer == 1;
    }
  }
  if (!any) {
    return snmpError(ErrorCode::kInternal, target,
                     "expected sysDescr or sysName in the SNMP answer, got neither");
  }
  return out;
}

}  // namespace

SnmpDriver::SnmpDriver() { initNetSnmp(); }

Capabilities SnmpDriver::capabilities() const {
  return Capability::kPolling | Capability::kSnmpTraps;
}

Result<DeviceStatus> SnmpDriver::poll(const DriverTarget& target) {
  auto result = pollOnce(target);
  if (!result.ok()) logDriverFailure("driver.poll_failed", kFamily, target, result.error());
  return result;
}

}  // namespace atrium::devices::snmp
