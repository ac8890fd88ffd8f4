// The Fleet implementation. Every system's state lives on the fleet's single io thread: HTTP and
// SNMP handlers, timers and posts run there, and the public methods hand their work to it and
// wait, so no state is shared between threads and net-snmp is only ever called from that thread.
// The per-family protocol handlers live in xapi_endpoint.cc, mcu_bridge.cc, polycom_system.cc
// and snmp_agent.cc.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "sim/fleet.h"
#include "sim/http_listener.h"
#include "sim/snmp_codec.h"

namespace atrium::sim {

using SteadyTime = std::chrono::steady_clock::time_point;

struct SimCall {
  int id = 0;
  devices::CallDirection direction = devices::CallDirection::kOutgoing;
  std::string remote;
  std::string protocol = "SIP";
  int rate_kbps = 6000;
  devices::CallState state = devices::CallState::kConnecting;
  SteadyTime connected_at{};
};

struct SimFeedbackSlot {
  bool registered = false;
  std::string url;
  std::vector<std::string> expressions;
  std::string format = "XML";
  bool failed = false;
  int failures = 0;
  std::uint64_t generation = 0;  // bumped on (de)registration: stale completions are ignored
  std::deque<std::string> queue;  // documents waiting, the front one in flight
  bool in_flight = false;
};

struct SimParticipant {
  std::string name;
  std::string address;
  std::string protocol = "sip";
  devices::CallState state = devices::CallState::kConnecting;
  SteadyTime connected_at{};
};

struct SimConference {
  std::string name;
  std::string numeric_id;
  int unique_id = 0;
  std::vector<SimParticipant> participants;
};

struct McuReceiver {
  int index = 0;
  std::string uri;
  std::string source_identifier;
};

struct McuState {
  std::vector<SimConference> conferences;
  std::vector<McuReceiver> receivers;
  int next_unique_id = 1;
  int next_participant = 1;
  std::int32_t sequence = 0;
};

struct PolycomState {
  std::vector<std::string> sessions;  // valid session cookies, newest last
  std::map<std::string, std::string> config;
};

struct SimSystem {
  SimulatedSystem info;
  devices::SystemIdentity identity;
  std::string product_type;
  Fault fault = Fault::kNone;
  std::chrono::milliseconds fault_delay{0};
  SteadyTime booted_at{};
  std::vector<SimCall> calls;
  int next_call_id = 1;
  bool muted = false;
  int if_oper_status = 1;  // up(1), down(2)
  // cisco-xapi
  std::unique_ptr<std::map<std::string, std::string>> configuration;
  std::unique_ptr<std::array<SimFeedbackSlot, 4>> slots;
  // cisco-mcu / polycom
  std::unique_ptr<McuState> mcu;
  std::unique_ptr<PolycomState> polycom;
  // sockets
  std::unique_ptr<HttpListener> http;
  std::unique_ptr<boost::asio::ip::udp::socket> snmp;
};

class SimFleet final : public Fleet {
 public:
  explicit SimFleet(FleetOptions options);
  ~SimFleet() override;

  Status startAll();

  const std::vector<SimulatedSystem>& systems() const override { return infos_; }
  Status dial(int index, const std::string& number) override;
  Status incomingCall(int index, const std::string& from) override;
  Status hangUp(int index) override;
  Status reboot(int index) override;
  Status sendTrap(int index, const std::string& trap_oid) override;
  Status setFault(int index, Fault fault, std::chrono::milliseconds delay) override;
  Result<devices::DeviceStatus> status(int index) const override;
  Result<devices::PersistentSettings> settings(int index) const override;
  Result<std::vector<devices::ConferenceInfo>> conferences(int index) const override;
  void stop() override;

 private:
  // Runs `fn` on the io thread and waits for its result.
  template <typename Fn>
  auto onIo(Fn fn) const -> decltype(fn());
  Result<SimSystem*> find(int index) const;

  void createSystem(int index, const std::string& family, std::uint32_t address);
  Status openSockets(SimSystem& sys);
  std::chrono::seconds uptime(const SimSystem& sys) const;
  devices::DeviceStatus statusOf(const SimSystem& sys) const;
  std::vector<devices::CallInfo> callsOf(const SimSystem& sys) const;
  devices::CallInfo callInfoOf(const SimCall& call) const;

  // Calls, every family.
  int startCall(SimSystem& sys, devices::CallDirection direction, const std::string& remote,
                const std::string& protocol, int rate_kbps);
  void connectCall(int index, int call_id);
  Status endCall(SimSystem& sys, int call_id, bool local);
  void rebootNow(SimSystem& sys);
  void applyFault(SimSystem& sys, Fault fault, std::chrono::milliseconds delay);

  // HTTP front door shared by the families: faults first, then the family's handler.
  HttpReply handleHttp(int index, const net::Request& request);

  // cisco-xapi (xapi_endpoint.cc)
  void initXapi(SimSystem& sys);
  HttpReply handleXapi(SimSystem& sys, const net::Request& request);
  HttpReply xapiPutxml(SimSystem& sys, const net::Request& request);
  HttpReply xapiGetxml(SimSystem& sys, const net::Request& request);
  void xapiFeedback(SimSystem& sys, const std::string& path, const std::function<std::string()>& build);
  void xapiPostNext(SimSystem& sys, int slot);
  void xapiCallChanged(SimSystem& sys, const SimCall& call, bool ended, bool local);

  // cisco-mcu (mcu_bridge.cc)
  void initMcu(SimSystem& sys);
  HttpReply handleMcu(SimSystem& sys, const net::Request& request);
  void mcuNotify(SimSystem& sys, const std::vector<std::string>& events);
  void connectParticipant(int index, const std::string& conference, const std::string& name);

  // polycom (polycom_system.cc)
  void initPolycom(SimSystem& sys);
  HttpReply handlePolycom(SimSystem& sys, const net::Request& request);

  // SNMP agent and traps (snmp_agent.cc)
  void snmpWait(int index);
  void snmpReceive(int index);
  std::vector<SnmpBinding> mibOf(const SimSystem& sys) const;
  void trap(SimSystem& sys, const SnmpOid& trap_oid, std::vector<SnmpBinding> bindings);

  FleetOptions options_;
  SystemClock clock_;
  mutable boost::asio::io_context ioc_;
  std::optional<boost::asio::ip::udp::endpoint> trap_target_;
  std::vector<std::unique_ptr<SimSystem>> systems_;
  std::vector<SimulatedSystem> infos_;
  std::vector<std::uint8_t> snmp_buffer_;  // shared: only the io thread receives
  long trap_request_id_ = 1;
  std::mt19937_64 rng_;  // session cookies
  std::thread thread_;
  bool stopped_ = false;
};

template <typename Fn>
auto SimFleet::onIo(Fn fn) const -> decltype(fn()) {
  using R = decltype(fn());
  if (stopped_) return Error::unavailable("the fleet is stopped");
  if (ioc_.get_executor().running_in_this_thread()) return fn();
  std::packaged_task<R()> task(std::move(fn));
  auto future = task.get_future();
  boost::asio::post(ioc_, [&task] { task(); });
  return future.get();
}

// Helpers shared by the family files.
std::string lowerAscii(std::string_view s);
// "user:password" from an "Authorization: Basic ..." header, if any.
std::optional<std::string> basicCredentials(const net::Request& request);
// The first half of a document: what a "malformed" system answers.
std::string truncated(const std::string& body);

}  // namespace atrium::sim
