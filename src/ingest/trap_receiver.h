// Receives SNMP traps and informs with net-snmp, confined to one thread of its own (net-snmp is
// not thread-safe). Each notification is checked (community for v1/v2c), translated into an
// SnmpTrap (trap_pdu.h) and handed to the sink on that thread; an inform is answered only after
// the sink accepted it, i.e. after the event is durable. SNMPv3 is not supported yet: every v3
// message is refused before net-snmp's USM sees it, and counted. Nothing a datagram or the sink
// does can stop the thread: an unexpected exception is logged, counted and the next datagram
// read.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "ingest/snmp_trap.h"

namespace atrium::ingest {

struct TrapReceiverOptions {
  std::string host = "0.0.0.0";  // IPv4 or IPv6 literal
  std::uint16_t port = 162;      // 0: any free port (see TrapReceiver::port())
  // Accepted communities for v1/v2c; a notification with another one is dropped and counted.
  std::vector<std::string> communities = {"public"};
  // Kernel receive buffer for the socket: a burst of traps waits here while the receiver makes
  // the ones before it durable. The kernel caps it at net.core.rmem_max unless run as root.
  int receive_buffer_bytes = 8 << 20;
};

struct TrapReceiverStats {
  std::uint64_t received = 0;           // notifications decoded
  std::uint64_t accepted = 0;           // taken by the sink
  std::uint64_t rejected_community = 0;
  std::uint64_t rejected_v3 = 0;        // SNMPv3 messages, all refused until v3 is supported
  std::uint64_t sink_failures = 0;      // the sink could not make it durable
  std::uint64_t internal_errors = 0;    // an unexpected exception while handling one PDU
};

class TrapReceiver {
 public:
  // Returns OK when the trap is durable (stored or spooled); an error makes the receiver count
  // it as failed and leave an inform unanswered, so the sender retries.
  using Sink = std::function<Status(const SnmpTrap&)>;

  // `clock` paces the rate-limited log lines (nullptr: the system clock).
  TrapReceiver(TrapReceiverOptions options, Sink sink, const Clock* clock = nullptr);
  TrapReceiver(const TrapReceiver&) = delete;
  TrapReceiver& operator=(const TrapReceiver&) = delete;
  ~TrapReceiver();

  // Opens the UDP socket and starts the thread. Fails with a clear message if the port is taken.
  Result<std::uint16_t> start();
  void stop();
  std::uint16_t port() const { return port_; }
  TrapReceiverStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

}  // namespace atrium::ingest
