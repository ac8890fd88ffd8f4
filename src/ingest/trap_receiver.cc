#include "ingest/trap_receiver.h"

// net-snmp's headers must come first and in this order.
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/snmp_transport.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "common/log.h"
#include "devices/snmp/net_snmp.h"

namespace atrium::ingest {
namespace {

std::string oidText(const oid* name, size_t len) {
  std::string out;
  for (size_t i = 0; i < len; ++i) {
    if (i) out += '.';
    out += std::to_string(name[i]);
  }
  return out;
}

SnmpVarbind varbindOf(const netsnmp_variable_list* v) {
  SnmpVarbind b;
  b.oid = oidText(v->name, v->name_length);
  switch (v->type) {
    case ASN_INTEGER:
      b.type = "integer";
      b.value = std::to_string(*v->val.integer);
      break;
    case ASN_OCTET_STR:
      b.type = "string";
      b.value.assign(reinterpret_cast<const char*>(v->val.string), v->val_len);
      break;
    case ASN_OBJECT_ID:
      b.type = "oid";
      b.value = oidText(v->val.objid, v->val_len / sizeof(oid));
      break;
    case ASN_TIMETICKS:
      b.type = "timeticks";
      b.value = std::to_string(static_cast<unsigned long>(*v->val.integer));
      break;
    case ASN_COUNTER:
      b.type = "counter32";
      b.value = std::to_string(static_cast<unsigned long>(*v->val.integer));
      break;
    case ASN_GAUGE:
      b.type = "gauge32";
      b.value = std::to_string(static_cast<unsigned long>(*v->val.integer));
      break;
    case ASN_COUNTER64:
      b.type = "counter64";
      b.value = std::to_string((static_cast<unsigned long long>(v->val.counter64->high) << 32) |
                               v->val.counter64->low);
      break;
    case ASN_IPADDRESS: {
      b.type = "ipaddress";
      if (v->val_len == 4) {
        const unsigned char* p = v->val.string;
        b.value = fmt::format("{}.{}.{}.{}", p[0], p[1], p[2], p[3]);
      }
      break;
    }
    case ASN_NULL:
      b.type = "null";
      break;
    default:
      b.type = fmt::format("asn-0x{:02x}", static_cast<unsigned>(v->type));
      break;
  }
  return b;
}

void sourceOf(const netsnmp_pdu* pdu, SnmpTrap& trap) {
  if (pdu->transport_data == nullptr || pdu->transport_data_length < static_cast<int>(sizeof(netsnmp_sockaddr_storage))) {
    return;
  }
  const auto* pair = static_cast<const netsnmp_indexed_addr_pair*>(pdu->transport_data);
  char buf[INET6_ADDRSTRLEN] = {};
  if (pair->remote_addr.sa.sa_family == AF_INET) {
    inet_ntop(AF_INET, &pair->remote_addr.sin.sin_addr, buf, sizeof(buf));
    trap.source_port = ntohs(pair->remote_addr.sin.sin_port);
  } else if (pair->remote_addr.sa.sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &pair->remote_addr.sin6.sin6_addr, buf, sizeof(buf));
    trap.source_port = ntohs(pair->remote_addr.sin6.sin6_port);
  }
  trap.source_address = buf;
}

// RFC 3584 section 3.1: the v2 notification OID of a v1 trap.
std::string v1TrapOid(const netsnmp_pdu* pdu) {
  if (pdu->trap_type != SNMP_TRAP_ENTERPRISESPECIFIC) {
    return fmt::format("1.3.6.1.6.3.1.1.5.{}", pdu->trap_type + 1);
  }
  return fmt::format("{}.0.{}", oidText(pdu->enterprise, pdu->enterprise_length), pdu->specific_type);
}

constexpr const char* kSysUpTime = "1.3.6.1.2.1.1.3.0";
constexpr const char* kSnmpTrapOid = "1.3.6.1.6.3.1.1.4.1.0";

}  // namespace

struct TrapReceiver::Impl {
  TrapReceiverOptions options;
  Sink sink;
  void* session = nullptr;  // net-snmp single-session handle, used only on `thread`
  int wake_pipe[2] = {-1, -1};
  std::thread thread;
  std::atomic<bool> stopping{false};
  mutable std::mutex stats_mu;
  TrapReceiverStats stats;

  static int onPdu(int op, netsnmp_session* /*session*/, int /*reqid*/, netsnmp_pdu* pdu, void* magic) {
    if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE) return 1;
    static_cast<Impl*>(magic)->handle(pdu);
    return 1;
  }

  void count(std::uint64_t TrapReceiverStats::*field) {
    std::lock_guard lock(stats_mu);
    ++(stats.*field);
  }

  void handle(netsnmp_pdu* pdu) {
    if (pdu->command != SNMP_MSG_TRAP && pdu->command != SNMP_MSG_TRAP2 && pdu->command != SNMP_MSG_INFORM) return;
    SnmpTrap trap;
    sourceOf(pdu, trap);
    trap.inform = pdu->command == SNMP_MSG_INFORM;
    trap.version = pdu->version == SNMP_VERSION_1 ? 1 : pdu->version == SNMP_VERSION_3 ? 3 : 2;
    if (trap.version == 3) {
      trap.security_name.assign(pdu->securityName != nullptr ? pdu->securityName : "", pdu->securityNameLen);
    } else {
      trap.security_name.assign(reinterpret_cast<const char*>(pdu->community), pdu->community_len);
    }
    count(&TrapReceiverStats::received);
    if (trap.version != 3 &&
        std::find(options.communities.begin(), options.communities.end(), trap.security_name) == options.communities.end()) {
      count(&TrapReceiverStats::rejected_community);
      log::debug("snmp.trap_rejected", {{"source", trap.source_address}, {"reason", "unknown community"}});
      return;
    }
    if (pdu->command == SNMP_MSG_TRAP) {
      trap.trap_oid = v1TrapOid(pdu);
      trap.uptime_centiseconds = static_cast<std::int64_t>(pdu->time);
      if (pdu->agent_addr[0] || pdu->agent_addr[1] || pdu->agent_addr[2] || pdu->agent_addr[3]) {
        trap.agent_address = fmt::format("{}.{}.{}.{}", pdu->agent_addr[0], pdu->agent_addr[1], pdu->agent_addr[2],
                                         pdu->agent_addr[3]);
      }
    }
    for (const netsnmp_variable_list* v = pdu->variables; v != nullptr; v = v->next_variable) {
      auto b = varbindOf(v);
      if (pdu->command != SNMP_MSG_TRAP && b.oid == kSysUpTime) {
        trap.uptime_centiseconds = std::stoll(b.value.empty() ? "0" : b.value);
      } else if (pdu->command != SNMP_MSG_TRAP && b.oid == kSnmpTrapOid) {
        trap.trap_oid = b.value;
      } else {
        trap.varbinds.push_back(std::move(b));
      }
    }
    Status accepted = sink ? sink(trap) : okStatus();
    if (!accepted) {
      count(&TrapReceiverStats::sink_failures);
      log::warn("snmp.trap_not_stored", {{"source", trap.source_address}, {"reason", accepted.error().message}});
      return;
    }
    count(&TrapReceiverStats::accepted);
    if (trap.inform) {
      netsnmp_pdu* reply = snmp_clone_pdu(pdu);
      if (reply != nullptr) {
        reply->command = SNMP_MSG_RESPONSE;
        reply->errstat = 0;
        reply->errindex = 0;
        if (snmp_sess_send(session, reply) == 0) snmp_free_pdu(reply);
      }
    }
  }

  void run() {
    while (!stopping.load()) {
      fd_set fds;
      FD_ZERO(&fds);
      int numfds = 0;
      int block = 1;
      timeval tv{1, 0};
      snmp_sess_select_info(session, &numfds, &fds, &tv, &block);
      FD_SET(wake_pipe[0], &fds);
      numfds = std::max(numfds, wake_pipe[0] + 1);
      timeval wait{1, 0};
      int n = select(numfds, &fds, nullptr, nullptr, &wait);
      if (n > 0) {
        if (FD_ISSET(wake_pipe[0], &fds)) break;
        snmp_sess_read(session, &fds);
      } else if (n == 0) {
        snmp_sess_timeout(session);
      } else if (errno != EINTR) {
        log::error("snmp.select_failed", {{"error", std::strerror(errno)}});
        break;
      }
    }
  }
};

TrapReceiver::TrapReceiver(TrapReceiverOptions options, Sink sink) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->sink = std::move(sink);
}

TrapReceiver::~TrapReceiver() { stop(); }

Result<std::uint16_t> TrapReceiver::start() {
  devices::initNetSnmp();
  const auto& o = impl_->options;
  const bool v6 = o.host.find(':') != std::string::npos;
  const std::string spec = v6 ? fmt::format("udp6:[{}]:{}", o.host, o.port) : fmt::format("udp:{}:{}", o.host, o.port);
  netsnmp_transport* transport = netsnmp_transport_open_server("snmptrap", spec.c_str());
  if (transport == nullptr) {
    return Error::invalid(fmt::format("cannot listen for SNMP traps on {}: the address is invalid or the port is "
                                      "in use (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
                                      spec));
  }
  if (o.receive_buffer_bytes > 0) {
    const int size = o.receive_buffer_bytes;
    // SO_RCVBUFFORCE passes net.core.rmem_max where the process may (root, CAP_NET_ADMIN);
    // otherwise the ordinary option gets what the kernel allows.
    if (setsockopt(transport->sock, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0) {
      setsockopt(transport->sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    }
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  if (getsockname(transport->sock, reinterpret_cast<sockaddr*>(&bound), &len) == 0) {
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  netsnmp_session session;
  snmp_sess_init(&session);
  session.peername = SNMP_DEFAULT_PEERNAME;
  session.version = SNMP_DEFAULT_VERSION;
  session.community_len = SNMP_DEFAULT_COMMUNITY_LEN;
  session.retries = SNMP_DEFAULT_RETRIES;
  session.timeout = SNMP_DEFAULT_TIMEOUT;
  session.callback = &Impl::onPdu;
  session.callback_magic = impl_.get();
  session.isAuthoritative = SNMP_SESS_UNKNOWNAUTH;
  impl_->session = snmp_sess_add(&session, transport, nullptr, nullptr);
  if (impl_->session == nullptr) {
    return Error::internal(fmt::format("cannot open an SNMP session on {}", spec));
  }
  if (pipe2(impl_->wake_pipe, O_CLOEXEC) != 0) return Error::internal("cannot create a pipe");
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
  log::info("snmp.listening", {{"address", spec}, {"port", port_}});
  return port_;
}

void TrapReceiver::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->stopping = true;
  char c = 'x';
  [[maybe_unused]] auto n = ::write(impl_->wake_pipe[1], &c, 1);
  impl_->thread.join();
  snmp_sess_close(impl_->session);
  impl_->session = nullptr;
  ::close(impl_->wake_pipe[0]);
  ::close(impl_->wake_pipe[1]);
}

TrapReceiverStats TrapReceiver::stats() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->stats;
}

}  // namespace atrium::ingest
