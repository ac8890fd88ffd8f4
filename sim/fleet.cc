#include "sim/fleet.h"

#include <sys/resource.h>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/field.hpp>
#include <fmt/format.h>

#include "common/log.h"
#include "devices/cisco_mcu/xmlrpc.h"
#include "devices/cisco_xapi/document_builder.h"
#include "sim/sim_fleet.h"

namespace atrium::sim {
namespace {

namespace asio = boost::asio;
using devices::CallDirection;
using devices::CallState;

constexpr const char* kColdStart = "1.3.6.1.6.3.1.1.5.1";
constexpr const char* kPolycomCallUp = "1.3.6.1.4.1.2684.1.1.0.4";
constexpr const char* kPolycomCallDown = "1.3.6.1.4.1.2684.1.1.0.5";

std::uint32_t mix(std::uint32_t seed, std::uint32_t index) {
  std::uint64_t z = (static_cast<std::uint64_t>(seed) << 32 | index) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<std::uint32_t>(z ^ (z >> 31));
}

struct FamilyLook {
  std::vector<std::string> models;
  std::string software;
  std::string product_type;
  std::string serial_prefix;
  std::string oui;
  std::string short_name;
};

const FamilyLook& lookOf(const std::string& family) {
  static const FamilyLook xapi{{"Cisco TelePresence SX20", "Cisco Webex Room Kit",
                                "Cisco TelePresence SX80", "Cisco Webex Codec Plus"},
                               "ce9.15.3.17 a0b5d1c6a8f", "Cisco Codec", "FTT", "00:50:60",
                               "xapi"};
  static const FamilyLook mcu{{"Cisco TelePresence MCU 5320", "Cisco TelePresence Server 7010"},
                              "4.5(1.85)", "Cisco MCU", "SM", "00:0d:7c", "mcu"};
  static const FamilyLook polycom{{"Group 500", "Group 310", "Group 700"}, "6.2.2.1-600045",
                                  "Polycom Group Series", "82", "00:e0:db", "polycom"};
  static const FamilyLook snmp{{"Cisco 2911 ISR", "Polycom RMX 1800", "Radvision Scopia Gateway"},
                               "15.7(3)M5", "SNMP device", "SN", "02:00:5e", "snmp"};
  if (family == "cisco-xapi") return xapi;
  if (family == "cisco-mcu") return mcu;
  if (family == "polycom") return polycom;
  return snmp;
}

}  // namespace

std::string_view faultName(Fault fault) {
  switch (fault) {
    case Fault::kNone: return "none";
    case Fault::kUnreachable: return "unreachable";
    case Fault::kSlow: return "slow";
    case Fault::kWrongCredentials: return "wrong-credentials";
    case Fault::kMalformed: return "malformed";
  }
  return "none";
}

Result<Fault> parseFault(std::string_view name) {
  for (Fault f : {Fault::kNone, Fault::kUnreachable, Fault::kSlow, Fault::kWrongCredentials,
                  Fault::kMalformed}) {
    if (faultName(f) == name) return f;
  }
  return Error::invalid("unknown fault \"" + std::string(name.substr(0, 32)) +
                            "\" (none, unreachable, slow, wrong-credentials, malformed)",
                        "fault");
}

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string> basicCredentials(const net::Request& request) {
  auto it = request.find(boost::beast::http::field::authorization);
  if (it == request.end()) return std::nullopt;
  std::string_view value(it->value().data(), it->value().size());
  if (value.size() < 6 || lowerAscii(value.substr(0, 6)) != "basic ") return std::nullopt;
  auto decoded = devices::cisco_mcu::decodeBase64(value.substr(6));
  if (!decoded.ok()) return std::nullopt;
  return *decoded;
}

std::string truncated(const std::string& body) { return body.substr(0, body.size() / 2); }

Result<std::unique_ptr<Fleet>> Fleet::start(const FleetOptions& options) {
  auto fleet = std::make_unique<SimFleet>(options);
  ATRIUM_TRY(fleet->startAll());
  return std::unique_ptr<Fleet>(std::move(fleet));
}

SimFleet::SimFleet(FleetOptions options)
    : options_(std::move(options)), snmp_buffer_(65536), rng_(std::random_device{}() ^ options_.seed) {}

SimFleet::~SimFleet() { stop(); }

Status SimFleet::startAll() {
  const FleetOptions& o = options_;
  if (o.cisco_xapi < 0 || o.cisco_mcu < 0 || o.polycom < 0 || o.snmp < 0) {
    return Error::invalid("system counts cannot be negative");
  }
  const long total = static_cast<long>(o.cisco_xapi) + o.cisco_mcu + o.polycom + o.snmp;
  boost::system::error_code ec;
  const auto base = asio::ip::make_address_v4(o.base_address, ec);
  if (ec) return Error::invalid("base address must be an IPv4 literal: " + o.base_address, "base_address");
  if (static_cast<std::uint64_t>(base.to_uint()) + static_cast<std::uint64_t>(total) > 0xffffffffull) {
    return Error::invalid("too many systems for base address " + o.base_address, "base_address");
  }
  if (!o.trap_target.empty()) {
    const auto colon = o.trap_target.rfind(':');
    if (colon == std::string::npos) return Error::invalid("trap target must be host:port", "trap_target");
    std::string host = o.trap_target.substr(0, colon);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    const auto ip = asio::ip::make_address(host, ec);
    int port = 0;
    try {
      port = std::stoi(o.trap_target.substr(colon + 1));
    } catch (const std::exception&) {
      port = 0;
    }
    if (ec || port <= 0 || port > 65535) {
      return Error::invalid("trap target must be an IP literal and a port: " + o.trap_target, "trap_target");
    }
    trap_target_ = asio::ip::udp::endpoint(ip, static_cast<std::uint16_t>(port));
  }
  // Two descriptors per system (HTTP acceptor, SNMP socket) and room for connections.
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    const rlim_t wanted = static_cast<rlim_t>(total) * 2 + 512;
    if (limit.rlim_cur < wanted && limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = std::min(wanted, limit.rlim_max);
      setrlimit(RLIMIT_NOFILE, &limit);
    }
  }
  const std::pair<const char*, int> families[] = {
      {"cisco-xapi", o.cisco_xapi}, {"cisco-mcu", o.cisco_mcu}, {"polycom", o.polycom}, {"snmp", o.snmp}};
  int index = 0;
  systems_.reserve(static_cast<std::size_t>(total));
  for (const auto& [family, count] : families) {
    for (int i = 0; i < count; ++i, ++index) {
      createSystem(index, family, base.to_uint() + static_cast<std::uint32_t>(index));
      Status opened = openSockets(*systems_.back());
      if (!opened.ok()) {
        systems_.clear();
        return opened;
      }
    }
  }
  infos_.reserve(systems_.size());
  for (const auto& sys : systems_) infos_.push_back(sys->info);
  thread_ = std::thread([this] { ioc_.run(); });
  log::info("sim.started", {{"systems", total}, {"base_address", o.base_address},
                            {"http_port", o.http_port}, {"snmp_port", o.snmp_port},
                            {"trap_target", o.trap_target}});
  return okStatus();
}

void SimFleet::createSystem(int index, const std::string& family, std::uint32_t address) {
  const FamilyLook& look = lookOf(family);
  const std::uint32_t h = mix(options_.seed, static_cast<std::uint32_t>(index));
  auto sys = std::make_unique<SimSystem>();
  SimulatedSystem& info = sys->info;
  info.index = index;
  info.family = family;
  info.name = fmt::format("{}-{}-{:04}", options_.name_prefix, look.short_name, index + 1);
  info.model = look.models[h % look.models.size()];
  info.address = asio::ip::address_v4(address).to_string();
  info.http_port = family == "snmp" ? 0 : options_.http_port;
  info.snmp_port = options_.snmp_port;
  info.username = options_.username;
  info.password = options_.password;
  info.snmp_community = options_.snmp_community;
  info.serial_number = fmt::format("{}{:08}", look.serial_prefix, h % 100000000u);
  info.software_version = look.software;
  const std::uint32_t low = (static_cast<std::uint32_t>(index) + options_.seed * 7919u) & 0xffffffu;
  info.mac_address = fmt::format("{}:{:02x}:{:02x}:{:02x}", look.oui, (low >> 16) & 0xff,
                                 (low >> 8) & 0xff, low & 0xff);
  sys->product_type = look.product_type;
  devices::SystemIdentity& id = sys->identity;
  id.system_name = info.name;
  id.product = info.model;
  id.product_type = look.product_type;
  id.software_version = info.software_version;
  id.serial_number = info.serial_number;
  id.mac_address = info.mac_address;
  id.ipv4_address = info.address;
  id.h323_id = info.name;
  id.e164 = fmt::format("{}", 100000 + index + 1);
  id.sip_uri = lowerAscii(info.name) + "@sim.example.com";
  sys->booted_at = clock_.monotonic();
  if (family == "cisco-xapi") initXapi(*sys);
  if (family == "cisco-mcu") initMcu(*sys);
  if (family == "polycom") initPolycom(*sys);
  systems_.push_back(std::move(sys));
}

Status SimFleet::openSockets(SimSystem& sys) {
  const int index = sys.info.index;
  if (sys.info.http_port != 0) {
    sys.http = std::make_unique<HttpListener>(
        ioc_, [this, index](const net::Request& request) { return handleHttp(index, request); });
    ATRIUM_TRY(sys.http->listen(sys.info.address, sys.info.http_port));
  }
  boost::system::error_code ec;
  sys.snmp = std::make_unique<asio::ip::udp::socket>(ioc_);
  const asio::ip::udp::endpoint endpoint(asio::ip::make_address(sys.info.address), sys.info.snmp_port);
  sys.snmp->open(endpoint.protocol(), ec);
  if (!ec) sys.snmp->bind(endpoint, ec);
  if (!ec) sys.snmp->non_blocking(true, ec);
  if (ec) {
    return Error::unavailable(fmt::format("cannot bind SNMP on {}:{}: {}", sys.info.address,
                                          sys.info.snmp_port, ec.message()));
  }
  snmpWait(index);
  return okStatus();
}

void SimFleet::stop() {
  if (stopped_) return;
  if (thread_.joinable()) {
    asio::post(ioc_, [this] {
      for (auto& sys : systems_) {
        if (sys->http) sys->http->close();
        boost::system::error_code ignored;
        if (sys->snmp) sys->snmp->close(ignored);
      }
      ioc_.stop();
    });
    thread_.join();
  }
  stopped_ = true;
  systems_.clear();
  log::info("sim.stopped", {{"systems", infos_.size()}});
}

Result<SimSystem*> SimFleet::find(int index) const {
  if (index < 0 || static_cast<std::size_t>(index) >= systems_.size()) {
    return Error::notFound(fmt::format("no simulated system {}", index));
  }
  return systems_[static_cast<std::size_t>(index)].get();
}

std::chrono::seconds SimFleet::uptime(const SimSystem& sys) const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.monotonic() - sys.booted_at);
}

std::vector<devices::CallInfo> SimFleet::callsOf(const SimSystem& sys) const {
  std::vector<devices::CallInfo> out;
  for (const SimCall& c : sys.calls) out.push_back(callInfoOf(c));
  return out;
}

devices::CallInfo SimFleet::callInfoOf(const SimCall& c) const {
  {
    devices::CallInfo info;
    info.call_id = std::to_string(c.id);
    info.direction = c.direction;
    info.remote_number = c.remote;
    info.display_name = c.remote.substr(0, c.remote.find('@'));
    info.protocol = c.protocol;
    info.rate_kbps = c.rate_kbps;
    info.state = c.state;
    if (c.state == CallState::kConnected) {
      info.duration = std::chrono::duration_cast<std::chrono::seconds>(clock_.monotonic() - c.connected_at);
    }
    return info;
  }
}

devices::DeviceStatus SimFleet::statusOf(const SimSystem& sys) const {
  devices::DeviceStatus s;
  s.identity = sys.identity;
  s.calls = callsOf(sys);
  s.uptime = uptime(sys);
  if (sys.info.family == "cisco-xapi" || sys.info.family == "polycom") {
    s.muted = sys.muted;
    s.h323 = {devices::RegistrationState::kRegistered, "Registered", "", "gk.sim.example.com", ""};
    s.sip = {devices::RegistrationState::kRegistered, "Registered", "", "cucm.sim.example.com",
             sys.identity.sip_uri};
  }
  if (sys.slots) {
    for (std::size_t i = 0; i < sys.slots->size(); ++i) {
      const SimFeedbackSlot& slot = (*sys.slots)[i];
      if (!slot.registered) continue;
      s.feedback_slots.push_back({static_cast<int>(i + 1), slot.url, slot.expressions, slot.format,
                                  slot.failed ? "Failed" : "OK"});
    }
  }
  return s;
}

int SimFleet::startCall(SimSystem& sys, CallDirection direction, const std::string& remote,
                        const std::string& protocol, int rate_kbps) {
  SimCall call;
  call.id = sys.next_call_id++;
  call.direction = direction;
  call.remote = remote;
  call.protocol = protocol;
  call.rate_kbps = rate_kbps;
  call.state = CallState::kConnecting;
  sys.calls.push_back(call);
  if (sys.slots) xapiCallChanged(sys, call, false, true);
  auto timer = std::make_shared<asio::steady_timer>(ioc_, options_.connect_delay);
  timer->async_wait([this, timer, index = sys.info.index, id = call.id](boost::system::error_code ec) {
    if (!ec) connectCall(index, id);
  });
  return call.id;
}

void SimFleet::connectCall(int index, int call_id) {
  SimSystem& sys = *systems_[static_cast<std::size_t>(index)];
  for (SimCall& call : sys.calls) {
    if (call.id != call_id || call.state != CallState::kConnecting) continue;
    call.state = CallState::kConnected;
    call.connected_at = clock_.monotonic();
    if (sys.slots) xapiCallChanged(sys, call, false, true);
    if (sys.info.family == "polycom") {
      trap(sys, parseOid(kPolycomCallUp), {{parseOid("1.3.6.1.2.1.1.5.0"), SnmpValue::string(sys.identity.system_name)}});
    }
    return;
  }
}

Status SimFleet::endCall(SimSystem& sys, int call_id, bool local) {
  for (auto it = sys.calls.begin(); it != sys.calls.end(); ++it) {
    if (it->id != call_id) continue;
    SimCall call = *it;
    sys.calls.erase(it);
    if (sys.slots) xapiCallChanged(sys, call, true, local);
    if (sys.info.family == "polycom") {
      trap(sys, parseOid(kPolycomCallDown), {{parseOid("1.3.6.1.2.1.1.5.0"), SnmpValue::string(sys.identity.system_name)}});
    }
    return okStatus();
  }
  return Error::notFound(fmt::format("no call {}", call_id));
}

Status SimFleet::dial(int index, const std::string& number) {
  return onIo([&]() -> Status {
    auto sys = find(index);
    if (!sys.ok()) return sys.error();
    if (number.empty()) return Error::invalid("a number is needed", "number");
    SimSystem& s = **sys;
    if (s.info.family == "snmp") return Error::invalid("SNMP systems cannot dial");
    if (s.mcu) {
      if (s.mcu->conferences.empty()) {
        s.mcu->conferences.push_back({"Sim Conference", "8000", s.mcu->next_unique_id++, {}});
        mcuNotify(s, {"conferenceStarted"});
      }
      SimConference& c = s.mcu->conferences.front();
      const std::string name = fmt::format("participant{}", s.mcu->next_participant++);
      c.participants.push_back({name, number, "sip", CallState::kConnecting, {}});
      connectParticipant(index, c.name, name);
      return okStatus();
    }
    startCall(s, CallDirection::kOutgoing, number, s.slots ? "Sip" : "SIP", 6000);
    return okStatus();
  });
}

Status SimFleet::incomingCall(int index, const std::string& from) {
  return onIo([&]() -> Status {
    auto sys = find(index);
    if (!sys.ok()) return sys.error();
    if (from.empty()) return Error::invalid("a caller is needed", "from");
    SimSystem& s = **sys;
    if (s.info.family == "snmp") return Error::invalid("SNMP systems take no calls");
    if (s.mcu) {
      if (s.mcu->conferences.empty()) {
        s.mcu->conferences.push_back({"Sim Conference", "8000", s.mcu->next_unique_id++, {}});
        mcuNotify(s, {"conferenceStarted"});
      }
      SimConference& c = s.mcu->conferences.front();
      const std::string name = fmt::format("participant{}", s.mcu->next_participant++);
      c.participants.push_back({name, from, "sip", CallState::kConnecting, {}});
      connectParticipant(index, c.name, name);
      return okStatus();
    }
    startCall(s, CallDirection::kIncoming, from, s.slots ? "Sip" : "SIP", 6000);
    return okStatus();
  });
}

Status SimFleet::hangUp(int index) {
  return onIo([&]() -> Status {
    auto sys = find(index);
    if (!sys.ok()) return sys.error();
    SimSystem& s = **sys;
    if (s.mcu) {
      bool any = false;
      for (SimConference& c : s.mcu->conferences) {
        any = any || !c.participants.empty();
        c.participants.clear();
      }
      if (any) mcuNotify(s, {"participantLeft"});
      return okStatus();
    }
    while (!s.calls.empty()) ATRIUM_TRY(endCall(s, s.calls.front().id, true));
    return okStatus();
  });
}

void SimFleet::rebootNow(SimSystem& sys) {
  sys.calls.clear();
  sys.booted_at = clock_.monotonic();
  sys.if_oper_status = 1;
  sys.muted = false;
  if (sys.polycom) sys.polycom->sessions.clear();
  if (sys.mcu) {
    sys.mcu->conferences.clear();
    mcuNotify(sys, {"restart"});
  }
  if (sys.slots) {
    xapiFeedback(sys, "/Event/BootEvent", [&sys] {
      return devices::cisco_xapi::buildBootFeedback(sys.identity);
    });
  }
  trap(sys, parseOid(kColdStart), {});
  log::info("sim.rebooted", {{"system", sys.info.name}, {"address", sys.info.address}});
}

Status SimFleet::reboot(int index) {
  return onIo([&]() -> Status {
    auto sys = find(index);
    if (!sys.ok()) return sys.error();
    rebootNow(**sys);
    return okStatus();
  });
}

Status SimFleet::sendTrap(int index, const std::string& trap_oid) {
  return onIo([&]() -> Status {
    auto sys = find(index);
    if (!sys.ok()) return sys.error();
    SnmpOid oid = parseOid(trap_oid);
    if (oid.size() < 2) return Error::invalid("not a numeric OID: " + trap_oid.substr(0, 64), "oid");
    if (!trap_target_) return Error::invalid("the fleet has no trap target", "trap_target");
    SimSystem& s = **sys;
    std::vector<SnmpBinding> bindings;
    const std::string text = oidText(oid);
    if (text == "1.3.6.1.6.3.1.1.5.3" || text == "1.3.6.1.6.3.1.1.5.4") {  // linkDown / linkUp
      s.if_oper_status = text.back() == '3' ? 2 : 1;
      bindings.push_back({parseOid("1.3.6.1.2.1.2.2.1.1.1"), SnmpValue::integer(1)});
      bindings.push_back({parseOid("1.3.6.1.2.1.2.2.1.7.1"), SnmpValue::integer(1)});
      bindings.push_back({parseOid("1.3.6.1.2.1.2.2.1.8.1"), SnmpValue::integer(s.if_oper_status)});
    } else if (text == kPolycomCallUp || text == kPolycomCallDown) {
      bindings.push_back({parseOid("1.3.6.1.2.1.1.5.0"), SnmpValue::string(s.identity.system_name)});
    }
    trap(s, oid, std::move(bindings));
    return okStatus();
  });
}

void SimFleet::applyFault(SimSystem& sys, Fault fault, std::chrono::milliseconds delay) {
  sys.fault = fault;
  sys.fault_delay = delay;
  if (!sys.http) return;
  if (fault == Fault::kUnreachable) {
    sys.http->close();
  } else if (!sys.http->listening()) {
    Status reopened = sys.http->listen(sys.info.address, sys.info.http_port);
    if (!reopened.ok()) {
      log::warn("sim.listen_failed", {{"system", sys.info.name}, {"error", reopened.error().message}});
    }
  }
}

Status SimFleet::setFault(int index, Fault fault, std::chrono::milliseconds delay) {
  return onIo([&]() -> Status {
    auto sys = find(index);
    if (!sys.ok()) return sys.error();
    if (delay.count() < 0) return Error::invalid("delay cannot be negative", "delay_ms");
    applyFault(**sys, fault, fault == Fault::kSlow && delay.count() == 0 ? std::chrono::milliseconds(2000) : delay);
    return okStatus();
  });
}

Result<devices::DeviceStatus> SimFleet::status(int index) const {
  return onIo([&]() -> Result<devices::DeviceStatus> {
    auto sys = find(index);
    if (!sys.ok()) return sys.error();
    return statusOf(**sys);
  });
}

Result<devices::PersistentSettings> SimFleet::settings(int index) const {
  return onIo([&]() -> Result<devices::PersistentSettings> {
    auto sys = find(index);
    if (!sys.ok()) return sys.error();
    const devices::SystemIdentity& id = (*sys)->identity;
    return devices::PersistentSettings{id.system_name, id.h323_id, id.e164, id.sip_uri};
  });
}

Result<std::vector<devices::ConferenceInfo>> SimFleet::conferences(int index) const {
  return onIo([&]() -> Result<std::vector<devices::ConferenceInfo>> {
    auto sys = find(index);
    if (!sys.ok()) return sys.error();
    const SimSystem& s = **sys;
    if (!s.mcu) return Error::invalid(s.info.name + " is not a bridge");
    std::vector<devices::ConferenceInfo> out;
    for (const SimConference& c : s.mcu->conferences) {
      out.push_back({c.name, c.numeric_id, static_cast<int>(c.participants.size()), true});
    }
    return out;
  });
}

HttpReply SimFleet::handleHttp(int index, const net::Request& request) {
  SimSystem& sys = *systems_[static_cast<std::size_t>(index)];
  if (sys.fault == Fault::kUnreachable) return HttpReply{{}, {}, true};
  HttpReply reply = sys.info.family == "cisco-xapi" ? handleXapi(sys, request)
                    : sys.info.family == "cisco-mcu" ? handleMcu(sys, request)
                                                     : handlePolycom(sys, request);
  if (sys.fault == Fault::kMalformed && reply.response.result_int() == 200) {
    reply.response.body() = truncated(reply.response.body());
    reply.response.prepare_payload();
  }
  if (sys.fault == Fault::kSlow) reply.delay = sys.fault_delay;
  return reply;
}

}  // namespace atrium::sim
