#include "ingest/trap_receiver.h"

// net-snmp's headers must come first and in this order.
// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/library/snmp_transport.h>
// clang-format on

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "common/log.h"
#include "devices/snmp/net_snmp.h"
#include "ingest/log_throttle.h"
#include "ingest/trap_pdu.h"

namespace atrium::ingest {
namespace {

constexpr auto kLogInterval = std::chrono::seconds(60);

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

  const Clock* clock = nullptr;
  LogThrottle v3_log{kLogInterval};
  LogThrottle community_log{kLogInterval};
  LogThrottle error_log{kLogInterval};

  static int onPdu(int op, netsnmp_session* /*session*/, int /*reqid*/, netsnmp_pdu* pdu,
                   void* magic) {
    if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE) return 1;
    auto* impl = static_cast<Impl*>(magic);
    // The boundary of one PDU's work (translation and sink): net-snmp's C frames are below this
    // callback, so nothing may unwind through them, and one datagram must not stop the thread.
    try {
      impl->handle(pdu);
    } catch (const std::exception& e) {
      impl->internalError(pdu, e.what());
    } catch (...) {
      impl->internalError(pdu, "an exception of unknown type");
    }
    return 1;
  }

  // net-snmp's parse step, replaced so that SNMPv3 messages are refused before its USM code
  // processes them (an unknown user would be dropped there unseen, an empty one let through).
  static int parse(netsnmp_session* sp, netsnmp_pdu* pdu, u_char* data, size_t length) {
    auto* impl = static_cast<Impl*>(sp->callback_magic);
    try {
      auto version = snmpMessageVersion(data, length);
      if (version && *version == SNMP_VERSION_3) {
        impl->refuseV3(pdu);
        return SNMPERR_BAD_VERSION;
      }
    } catch (const std::exception& e) {
      impl->internalError(pdu, e.what());
      return SNMPERR_GENERR;
    } catch (...) {
      impl->internalError(pdu, "an exception of unknown type");
      return SNMPERR_GENERR;
    }
    return snmp_parse(static_cast<struct session_list*>(impl->session), sp, pdu, data, length);
  }

  void count(std::uint64_t TrapReceiverStats::*field) {
    std::lock_guard lock(stats_mu);
    ++(stats.*field);
  }

  static std::string sourceText(const netsnmp_pdu* pdu) {
    SnmpTrap t;
    if (pdu != nullptr) sourceOf(pdu, t);
    return t.source_address;
  }

  void refuseV3(const netsnmp_pdu* pdu) {
    count(&TrapReceiverStats::rejected_v3);
    if (auto n = v3_log.note(clock->monotonic())) {
      log::warn("snmp.v3_refused", {{"count", n},
                                    {"last_source", sourceText(pdu)},
                                    {"reason", "SNMPv3 notifications are not supported yet"}});
    }
  }

  void internalError(const netsnmp_pdu* pdu, std::string_view what) noexcept {
    try {
      count(&TrapReceiverStats::internal_errors);
      if (auto n = error_log.note(clock->monotonic())) {
        log::error("snmp.trap_failed",
                   {{"count", n}, {"last_source", sourceText(pdu)}, {"error", std::string(what)}});
      }
    } catch (const std::exception&) {
      // Logging itself failed (out of memory): the counter above is what remains.
    }
  }

  void handle(netsnmp_pdu* pdu) {
    std::optional<SnmpTrap> converted = trapFromPdu(*pdu);
    if (!converted) return;  // not a notification
    SnmpTrap& trap = *converted;
    sourceOf(pdu, trap);
    if (trap.version == 3) {  // the parse hook refuses these first; kept as a second check
      refuseV3(pdu);
      return;
    }
    count(&TrapReceiverStats::received);
    if (std::find(options.communities.begin(), options.communities.end(), trap.security_name) ==
        options.communities.end()) {
      count(&TrapReceiverStats::rejected_community);
      if (auto n = community_log.note(clock->monotonic())) {
        log::warn(
            "snmp.trap_rejected",
            {{"count", n}, {"last_source", trap.source_address}, {"reason", "unknown community"}});
      }
      return;
    }
    Status accepted = sink ? sink(trap) : okStatus();
    if (!accepted) {
      count(&TrapReceiverStats::sink_failures);
      log::warn("snmp.trap_not_stored",
                {{"source", trap.source_address}, {"reason", accepted.error().message}});
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

TrapReceiver::TrapReceiver(TrapReceiverOptions options, Sink sink, const Clock* clock)
    : impl_(std::make_unique<Impl>()) {
  static const SystemClock system_clock;
  impl_->options = std::move(options);
  impl_->sink = std::move(sink);
  impl_->clock = clock != nullptr ? clock : &system_clock;
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
  impl_->session = snmp_sess_add_ex(&session, transport, nullptr, &Impl::parse, nullptr, nullptr,
                                    nullptr, nullptr, nullptr);
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
