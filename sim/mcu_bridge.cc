// A Cisco TelePresence MCU / TelePresence Server as its XML-RPC API shows it: POST /RPC2,
// credentials in the first struct of every call, conferences and participants with enumerateID
// paging, device.query, feedback receivers and eventNotification calls.
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/verb.hpp>
#include <fmt/format.h>

#include "common/log.h"
#include "devices/cisco_mcu/xmlrpc.h"
#include "sim/http_poster.h"
#include "sim/sim_fleet.h"

namespace atrium::sim {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using devices::CallState;
using devices::cisco_mcu::XmlRpcArray;
using devices::cisco_mcu::XmlRpcFault;
using devices::cisco_mcu::XmlRpcStruct;
using devices::cisco_mcu::XmlRpcValue;

constexpr int kPageSize = 10;
constexpr std::size_t kMaxReceivers = 20;

HttpReply rpc(const net::Request& request, std::string body) {
  return {makeResponse(request, 200, std::move(body), "text/xml"), {}, false};
}

HttpReply fault(const net::Request& request, std::int32_t code, std::string message) {
  return rpc(request, devices::cisco_mcu::encodeFault(XmlRpcFault{code, std::move(message)}));
}

HttpReply result(const net::Request& request, XmlRpcStruct value) {
  return rpc(request, devices::cisco_mcu::encodeMethodResponse(XmlRpcValue(std::move(value))));
}

std::string stringMember(const XmlRpcValue& params, std::string_view name) {
  const XmlRpcValue* v = params.member(name);
  return v && v->asString() ? *v->asString() : std::string();
}

std::string callStateWord(CallState state) {
  return state == CallState::kConnected ? "connected" : "connecting";
}

std::string iso8601(std::chrono::system_clock::time_point t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}{:02}{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// Reads enumerateID: the offset of the next page. -1 when it is not one we gave out.
int enumerateOffset(const XmlRpcValue& params, std::size_t total) {
  const XmlRpcValue* id = params.member("enumerateID");
  if (!id) return 0;
  std::optional<std::int32_t> n = id->asInt();
  if (!n && id->asString()) {
    try {
      n = std::stoi(*id->asString());
    } catch (const std::exception&) {
      n.reset();
    }
  }
  if (!n || *n < 0 || static_cast<std::size_t>(*n) > total) return -1;
  return *n;
}

}  // namespace

void SimFleet::initMcu(SimSystem& sys) { sys.mcu = std::make_unique<McuState>(); }

HttpReply SimFleet::handleMcu(SimSystem& sys, const net::Request& request) {
  const std::string_view target(request.target().data(), request.target().size());
  if (target != "/RPC2" && target != "/RPC2/") {
    return {makeResponse(request, 404, "Not Found\n", "text/plain"), {}, false};
  }
  if (request.method() != http::verb::post) {
    return {makeResponse(request, 405, "Method Not Allowed\n", "text/plain"), {}, false};
  }
  auto call = devices::cisco_mcu::decodeMethodCall(request.body());
  if (!call.ok()) return fault(request, 103, "malformed request: " + call.error().message);
  if (call->params.empty() || !call->params.front().asStruct()) {
    return fault(request, 101, "missing parameter");
  }
  const XmlRpcValue& params = call->params.front();
  if (sys.fault == Fault::kWrongCredentials ||
      stringMember(params, "authenticationUser") != sys.info.username ||
      stringMember(params, "authenticationPassword") != sys.info.password) {
    return fault(request, 34, "Authorization failed");
  }
  McuState& mcu = *sys.mcu;
  const std::string& method = call->method;
  const auto findConference = [&mcu](const std::string& name) -> SimConference* {
    for (SimConference& c : mcu.conferences) {
      if (c.name == name) return &c;
    }
    return nullptr;
  };

  if (method == "device.query") {
    const auto now = clock_.now();
    return result(request, {{"currentTime", devices::cisco_mcu::XmlRpcDateTime{iso8601(now)}},
                            {"restartTime", devices::cisco_mcu::XmlRpcDateTime{iso8601(now - uptime(sys))}},
                            {"uptime", static_cast<std::int32_t>(uptime(sys).count())},
                            {"serial", sys.info.serial_number},
                            {"softwareVersion", sys.info.software_version},
                            {"buildVersion", "4.5(1.85)"},
                            {"model", sys.info.model},
                            {"name", sys.identity.system_name},
                            {"macAddress", sys.info.mac_address},
                            {"apiVersion", "2.9"},
                            {"activatedFeatures", XmlRpcArray{}},
                            {"totalVideoPorts", static_cast<std::int32_t>(40)},
                            {"totalAudioOnlyPorts", static_cast<std::int32_t>(40)},
                            {"maxConferenceSizeVideo", static_cast<std::int32_t>(40)},
                            {"clusterType", "notClustered"}});
  }
  if (method == "conference.create") {
    const std::string name = stringMember(params, "conferenceName");
    if (name.empty()) return fault(request, 8, "no conference name or auto attendant id supplied");
    if (findConference(name)) return fault(request, 2, "duplicate conference name");
    const std::string numeric = stringMember(params, "numericId");
    if (!numeric.empty()) {
      for (const SimConference& c : mcu.conferences) {
        if (c.numeric_id == numeric) return fault(request, 18, "duplicate numeric ID");
      }
    }
    if (mcu.conferences.size() >= 200) return fault(request, 6, "too many conferences");
    mcu.conferences.push_back({name, numeric, mcu.next_unique_id++, {}});
    mcuNotify(sys, {"conferenceStarted"});
    return result(request, {{"status", "operation successful"}, {"conferenceName", name}});
  }
  if (method == "conference.destroy") {
    const std::string name = stringMember(params, "conferenceName");
    if (name.empty()) return fault(request, 8, "no conference name or auto attendant id supplied");
    auto it = std::find_if(mcu.conferences.begin(), mcu.conferences.end(),
                           [&](const SimConference& c) { return c.name == name; });
    if (it == mcu.conferences.end()) return fault(request, 4, "no such conference or auto attendant");
    mcu.conferences.erase(it);
    mcuNotify(sys, {"conferenceFinished"});
    return result(request, {{"status", "operation successful"}});
  }
  if (method == "conference.enumerate") {
    const int offset = enumerateOffset(params, mcu.conferences.size());
    if (offset < 0) return fault(request, 16, "invalid enumerateID");
    XmlRpcArray items;
    const std::size_t end = std::min(mcu.conferences.size(), static_cast<std::size_t>(offset + kPageSize));
    for (std::size_t i = static_cast<std::size_t>(offset); i < end; ++i) {
      const SimConference& c = mcu.conferences[i];
      items.push_back(XmlRpcStruct{{"conferenceName", c.name},
                                   {"conferenceType", "adHoc"},
                                   {"uniqueId", static_cast<std::int32_t>(c.unique_id)},
                                   {"numericId", c.numeric_id},
                                   {"conferenceActive", true},
                                   {"active", true},
                                   {"locked", false},
                                   {"activeParticipants", static_cast<std::int32_t>(c.participants.size())}});
    }
    XmlRpcStruct out{{"conferences", std::move(items)}};
    if (end < mcu.conferences.size()) out.push_back({"enumerateID", static_cast<std::int32_t>(end)});
    return result(request, std::move(out));
  }
  if (method == "participant.enumerate") {
    const std::string only = stringMember(params, "conferenceName");
    std::vector<std::pair<const SimConference*, const SimParticipant*>> all;
    for (const SimConference& c : mcu.conferences) {
      if (!only.empty() && c.name != only) continue;
      for (const SimParticipant& p : c.participants) all.emplace_back(&c, &p);
    }
    if (!only.empty() && !findConference(only)) return fault(request, 4, "no such conference or auto attendant");
    const int offset = enumerateOffset(params, all.size());
    if (offset < 0) return fault(request, 16, "invalid enumerateID");
    XmlRpcArray items;
    const std::size_t end = std::min(all.size(), static_cast<std::size_t>(offset + kPageSize));
    for (std::size_t i = static_cast<std::size_t>(offset); i < end; ++i) {
      const auto& [c, p] = all[i];
      items.push_back(XmlRpcStruct{
          {"conferenceName", c->name},
          {"participantName", p->name},
          {"participantType", "by_address"},
          {"participantProtocol", p->protocol},
          {"address", p->address},
          {"callState", callStateWord(p->state)},
          {"currentState", XmlRpcStruct{{"address", p->address}, {"callState", callStateWord(p->state)},
                                        {"displayName", p->address}}}});
    }
    XmlRpcStruct out{{"participants", std::move(items)}};
    if (end < all.size()) out.push_back({"enumerateID", static_cast<std::int32_t>(end)});
    return result(request, std::move(out));
  }
  if (method == "participant.add") {
    const std::string conference = stringMember(params, "conferenceName");
    if (conference.empty()) return fault(request, 8, "no conference name or auto attendant id supplied");
    SimConference* c = findConference(conference);
    if (!c) return fault(request, 4, "no such conference or auto attendant");
    const std::string address = stringMember(params, "address");
    if (address.empty()) return fault(request, 10, "no participant address supplied");
    std::string name = stringMember(params, "participantName");
    if (name.empty()) name = fmt::format("participant{}", mcu.next_participant++);
    for (const SimParticipant& p : c->participants) {
      if (p.name == name) return fault(request, 3, "duplicate participant name");
    }
    if (c->participants.size() >= 40) return fault(request, 7, "too many participants");
    std::string protocol = stringMember(params, "participantProtocol");
    c->participants.push_back({name, address, protocol.empty() ? "sip" : protocol, CallState::kConnecting, {}});
    connectParticipant(sys.info.index, conference, name);
    return result(request, {{"status", "operation successful"}, {"participantName", name}});
  }
  if (method == "participant.remove") {
    SimConference* c = findConference(stringMember(params, "conferenceName"));
    if (!c) return fault(request, 4, "no such conference or auto attendant");
    const std::string name = stringMember(params, "participantName");
    if (name.empty()) return fault(request, 9, "no participant name supplied");
    auto it = std::find_if(c->participants.begin(), c->participants.end(),
                           [&](const SimParticipant& p) { return p.name == name; });
    if (it == c->participants.end()) return fault(request, 5, "no such participant");
    c->participants.erase(it);
    mcuNotify(sys, {"participantLeft"});
    return result(request, {{"status", "operation successful"}});
  }
  if (method == "feedbackReceiver.configure") {
    const std::string uri = stringMember(params, "receiverURI");
    if (uri.empty()) return fault(request, 101, "missing parameter: receiverURI");
    if (!parseHttpUrl(uri).ok()) return fault(request, 102, "invalid parameter: receiverURI");
    std::string source = stringMember(params, "sourceIdentifier");
    if (source.empty()) source = sys.info.mac_address;
    int index = -1;
    if (const XmlRpcValue* v = params.member("receiverIndex"); v && v->asInt()) index = *v->asInt();
    if (index == -1) {
      index = 1;
      while (std::any_of(mcu.receivers.begin(), mcu.receivers.end(),
                         [&](const McuReceiver& r) { return r.index == index && r.uri != uri; })) {
        ++index;
      }
      for (const McuReceiver& r : mcu.receivers) {
        if (r.uri == uri) index = r.index;
      }
    }
    if (index < 1 || index > static_cast<int>(kMaxReceivers)) {
      return fault(request, 102, "invalid parameter: receiverIndex");
    }
    auto it = std::find_if(mcu.receivers.begin(), mcu.receivers.end(),
                           [&](const McuReceiver& r) { return r.index == index; });
    if (it != mcu.receivers.end()) {
      *it = {index, uri, source};
    } else {
      mcu.receivers.push_back({index, uri, source});
    }
    log::info("sim.feedback_receiver", {{"system", sys.info.name}, {"index", index}, {"uri", uri}});
    mcuNotify(sys, {"configureAck"});
    return result(request, {{"status", "operation successful"}, {"receiverIndex", static_cast<std::int32_t>(index)}});
  }
  if (method == "feedbackReceiver.query") {
    XmlRpcArray items;
    for (const McuReceiver& r : mcu.receivers) {
      items.push_back(XmlRpcStruct{{"receiverURI", r.uri},
                                   {"sourceIdentifier", r.source_identifier},
                                   {"receiverIndex", static_cast<std::int32_t>(r.index)}});
    }
    return result(request, {{"receivers", std::move(items)}});
  }
  return fault(request, 1, "Method not supported");
}

void SimFleet::connectParticipant(int index, const std::string& conference, const std::string& name) {
  auto timer = std::make_shared<asio::steady_timer>(ioc_, options_.connect_delay);
  timer->async_wait([this, timer, index, conference, name](boost::system::error_code ec) {
    if (ec) return;
    SimSystem& sys = *systems_[static_cast<std::size_t>(index)];
    for (SimConference& c : sys.mcu->conferences) {
      if (c.name != conference) continue;
      for (SimParticipant& p : c.participants) {
        if (p.name == name && p.state == CallState::kConnecting) {
          p.state = CallState::kConnected;
          p.connected_at = clock_.monotonic();
          mcuNotify(sys, {"participantJoined"});
        }
      }
    }
  });
}

void SimFleet::mcuNotify(SimSystem& sys, const std::vector<std::string>& events) {
  if (!sys.mcu) return;
  for (const McuReceiver& r : sys.mcu->receivers) {
    XmlRpcArray names;
    for (const std::string& e : events) names.emplace_back(e);
    devices::cisco_mcu::MethodCall call{
        "eventNotification",
        {XmlRpcValue(XmlRpcStruct{{"sourceIdentifier", r.source_identifier},
                                  {"events", std::move(names)},
                                  {"seqNum", ++sys.mcu->sequence}})}};
    HttpPoster::post(ioc_, sys.info.address, r.uri, devices::cisco_mcu::encodeMethodCall(call),
                     "text/xml", options_.post_timeout,
                     [name = sys.info.name, uri = r.uri](Result<unsigned> posted) {
                       if (!posted.ok() || *posted >= 300) {
                         log::debug("sim.notification_failed",
                                    {{"system", name}, {"uri", uri},
                                     {"error", posted.ok() ? fmt::format("HTTP {}", *posted)
                                                           : posted.error().message}});
                       }
                     });
  }
}

}  // namespace atrium::sim
