// A Polycom Group Series system as its REST API shows it: a session login that sets a
// session_id cookie, /rest/system, /rest/system/status, /rest/config and /rest/conferences.
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/sim_fleet.h"

namespace atrium::sim {
namespace {

namespace http = boost::beast::http;
using devices::CallState;
using nlohmann::json;

constexpr std::size_t kMaxSessions = 16;
constexpr const char* kCookie = "session_id";

HttpReply jsonReply(const net::Request& request, unsigned status, const json& body) {
  return {makeResponse(request, status, body.dump(), "application/json"), {}, false};
}

HttpReply errorReply(const net::Request& request, unsigned status, std::string_view message) {
  return jsonReply(request, status, json{{"success", false}, {"reason", message}});
}

std::string sessionCookie(const net::Request& request) {
  auto it = request.find(http::field::cookie);
  if (it == request.end()) return {};
  std::string_view cookies(it->value().data(), it->value().size());
  while (!cookies.empty()) {
    const auto semi = cookies.find(';');
    std::string_view pair = cookies.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == kCookie) return std::string(pair.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    cookies.remove_prefix(semi + 1);
  }
  return {};
}

std::string stateWord(CallState state) {
  return state == CallState::kConnected ? "CONNECTED" : "CONNECTING";
}

// Config names the simulator knows, with the identity field each one is.
const std::vector<std::string>& configNames() {
  static const std::vector<std::string> names = {"systemName", "h323Name", "h323Extension", "sipUri",
                                                 "sipProxyServer", "gatekeeperAddress", "snmpTrapTarget"};
  return names;
}

}  // namespace

void SimFleet::initPolycom(SimSystem& sys) {
  sys.polycom = std::make_unique<PolycomState>();
  sys.polycom->config = {{"systemName", sys.identity.system_name},
                         {"h323Name", sys.identity.h323_id},
                         {"h323Extension", sys.identity.e164},
                         {"sipUri", sys.identity.sip_uri},
                         {"sipProxyServer", "cucm.sim.example.com"},
                         {"gatekeeperAddress", "gk.sim.example.com"},
                         {"snmpTrapTarget", options_.trap_target}};
}

HttpReply SimFleet::handlePolycom(SimSystem& sys, const net::Request& request) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string path(target.substr(0, target.find('?')));
  PolycomState& state = *sys.polycom;
  if (path == "/rest/session") {
    if (request.method() == http::verb::delete_) {
      std::erase(state.sessions, sessionCookie(request));
      return jsonReply(request, 200, json{{"success", true}});
    }
    if (request.method() != http::verb::post) return errorReply(request, 405, "method not allowed");
    const json body = json::parse(request.body(), nullptr, false);
    if (!body.is_object() || !body.contains("action") || !body["action"].is_string()) {
      return errorReply(request, 400, "expected {\"action\":\"Login\",\"user\":...,\"password\":...}");
    }
    const std::string action = body["action"].get<std::string>();
    if (action == "Logout") {
      std::erase(state.sessions, sessionCookie(request));
      return jsonReply(request, 200, json{{"success", true}});
    }
    if (action != "Login") return errorReply(request, 400, "unknown action");
    const std::string user = body.value("user", "");
    const std::string password = body.value("password", "");
    if (sys.fault == Fault::kWrongCredentials || user != sys.info.username || password != sys.info.password) {
      return errorReply(request, 401, "Invalid user name or password");
    }
    const std::string token = fmt::format("{:016x}{:016x}", rng_(), rng_());
    state.sessions.push_back(token);
    if (state.sessions.size() > kMaxSessions) state.sessions.erase(state.sessions.begin());
    HttpReply reply = jsonReply(request, 200, json{{"success", true}, {"sessionId", token}, {"userName", user},
                                                   {"roles", json::array({"ADMIN"})}});
    reply.response.set(http::field::set_cookie, fmt::format("{}={}; Path=/; HttpOnly", kCookie, token));
    return reply;
  }
  if (path.rfind("/rest/", 0) != 0) return errorReply(request, 404, "not found");
  const std::string cookie = sessionCookie(request);
  if (sys.fault == Fault::kWrongCredentials || cookie.empty() ||
      std::find(state.sessions.begin(), state.sessions.end(), cookie) == state.sessions.end()) {
    return errorReply(request, 401, "session required: POST /rest/session first");
  }
  const bool get = request.method() == http::verb::get;
  const bool post = request.method() == http::verb::post;
  if (get && path == "/rest/system") {
    return jsonReply(request, 200,
                     json{{"model", sys.info.model},
                          {"serialNumber", sys.info.serial_number},
                          {"softwareVersion", sys.info.software_version},
                          {"systemName", sys.identity.system_name},
                          {"macAddress", sys.info.mac_address},
                          {"ipAddress", sys.info.address},
                          {"hardwareVersion", "8"},
                          {"buildType", "release"},
                          {"state", "READY"},
                          {"uptime", uptime(sys).count()},
                          {"rebootNeeded", false}});
  }
  if (get && path == "/rest/system/status") {
    const bool in_call = !sys.calls.empty();
    return jsonReply(request, 200,
                     json{{"state", in_call ? "INCALL" : "READY"},
                          {"inCall", in_call},
                          {"muted", sys.muted},
                          {"uptime", uptime(sys).count()},
                          {"h323", {{"state", "REGISTERED"}, {"server", "gk.sim.example.com"}, {"name", sys.identity.h323_id},
                                    {"extension", sys.identity.e164}}},
                          {"sip", {{"state", "REGISTERED"}, {"server", "cucm.sim.example.com"}, {"uri", sys.identity.sip_uri}}}});
  }
  if (path == "/rest/config" && (get || post)) {
    if (post) {
      const json body = json::parse(request.body(), nullptr, false);
      if (!body.is_object()) return errorReply(request, 400, "expected a JSON object of settings");
      for (const auto& [key, value] : body.items()) {
        if (std::find(configNames().begin(), configNames().end(), key) == configNames().end()) {
          return errorReply(request, 400, "unknown setting " + key);
        }
        if (!value.is_string() || value.get<std::string>().size() > 255) {
          return errorReply(request, 400, "setting " + key + " must be a string of at most 255 characters");
        }
      }
      for (const auto& [key, value] : body.items()) {
        const std::string v = value.get<std::string>();
        state.config[key] = v;
        if (key == "systemName") sys.identity.system_name = v;
        if (key == "h323Name") sys.identity.h323_id = v;
        if (key == "h323Extension") sys.identity.e164 = v;
        if (key == "sipUri") sys.identity.sip_uri = v;
      }
    }
    return jsonReply(request, 200, json(state.config));
  }
  const auto conferenceJson = [this](const SimCall& c) {
    const devices::CallInfo info = callInfoOf(c);
    return json{{"id", c.id},
                {"state", stateWord(c.state)},
                {"isActive", true},
                {"duration", info.duration.count()},
                {"connections", json::array({json{{"id", 0},
                                                  {"address", c.remote},
                                                  {"state", stateWord(c.state)},
                                                  {"callType", "VIDEO"},
                                                  {"rate", c.rate_kbps},
                                                  {"incoming", c.direction == devices::CallDirection::kIncoming},
                                                  {"protocol", c.protocol}}})}};
  };
  if (path == "/rest/conferences") {
    if (get) {
      json list = json::array();
      for (const SimCall& c : sys.calls) list.push_back(conferenceJson(c));
      return jsonReply(request, 200, list);
    }
    if (post) {
      const json body = json::parse(request.body(), nullptr, false);
      if (!body.is_object() || !body.contains("address") || !body["address"].is_string() ||
          body["address"].get<std::string>().empty()) {
        return errorReply(request, 400, "expected {\"address\":...,\"rate\":...}");
      }
      int rate = 1920;
      if (body.contains("rate")) {
        if (!body["rate"].is_number_integer()) return errorReply(request, 400, "rate must be an integer");
        rate = body["rate"].get<int>();
        if (rate < 64 || rate > 6144) return errorReply(request, 400, "rate out of range");
      }
      if (sys.calls.size() >= 3) return errorReply(request, 409, "maximum number of calls reached");
      const int id = startCall(sys, devices::CallDirection::kOutgoing, body["address"].get<std::string>(), "SIP", rate);
      json created = conferenceJson(sys.calls.back());
      created["id"] = id;
      return jsonReply(request, 200, created);
    }
    return errorReply(request, 405, "method not allowed");
  }
  if (path.rfind("/rest/conferences/", 0) == 0) {
    const std::string id_text = path.substr(std::string("/rest/conferences/").size());
    int id = -1;
    try {
      std::size_t used = 0;
      id = std::stoi(id_text, &used);
      if (used != id_text.size()) id = -1;
    } catch (const std::exception&) {
      id = -1;
    }
    auto it = std::find_if(sys.calls.begin(), sys.calls.end(), [id](const SimCall& c) { return c.id == id; });
    if (it == sys.calls.end()) return errorReply(request, 404, "no such conference");
    if (get) return jsonReply(request, 200, conferenceJson(*it));
    if (post) {
      const json body = json::parse(request.body(), nullptr, false);
      if (!body.is_object() || body.value("action", "") != "hangup") {
        return errorReply(request, 400, "expected {\"action\":\"hangup\"}");
      }
    } else if (request.method() != http::verb::delete_) {
      return errorReply(request, 405, "method not allowed");
    }
    (void)endCall(sys, id, true);
    return {makeResponse(request, 204, "", ""), {}, false};
  }
  if (post && path == "/rest/system/reboot") {
    auto timer = std::make_shared<boost::asio::steady_timer>(ioc_, std::chrono::milliseconds(100));
    timer->async_wait([this, timer, index = sys.info.index](boost::system::error_code ec) {
      if (!ec) rebootNow(*systems_[static_cast<std::size_t>(index)]);
    });
    return jsonReply(request, 202, json{{"success", true}});
  }
  return errorReply(request, 404, "not found");
}

}  // namespace atrium::sim
