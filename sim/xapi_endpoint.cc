// A Cisco TelePresence endpoint (CE software) as its HTTP xAPI shows it: Basic auth,
// status.xml, configuration.xml, getxml, putxml (configuration and commands) and HttpFeedback
// slots with Cisco's retry-then-Failed behaviour.
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/field.hpp>
#include <fmt/format.h>
#include <pugixml.hpp>

#include "common/log.h"
#include "devices/cisco_xapi/document_builder.h"
#include "devices/cisco_xapi/putxml.h"
#include "devices/cisco_xapi/xapi_words.h"
#include "devices/xml_tree.h"
#include "sim/http_poster.h"
#include "sim/sim_fleet.h"

namespace atrium::sim {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace xapi = devices::cisco_xapi;
using devices::CallState;

constexpr std::size_t kMaxQueuedPosts = 100;
constexpr std::size_t kMaxExpressions = 15;

HttpReply xml(const net::Request& request, std::string body) {
  return {makeResponse(request, 200, std::move(body), "text/xml"), {}, false};
}

// <XmlDoc resultId="" status="Error"><Reason/><XPath/></XmlDoc>, as CE answers a request it
// cannot place.
HttpReply xmlDocError(const net::Request& request, std::string_view reason, std::string_view xpath) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("XmlDoc");
  root.append_attribute("resultId").set_value("");
  root.append_attribute("status").set_value("Error");
  root.append_child("Reason").text().set(std::string(reason).c_str());
  if (!xpath.empty()) root.append_child("XPath").text().set(std::string(xpath).c_str());
  return xml(request, devices::serializeXml(doc, true));
}

// <Configuration><Result status="Error"><Reason/><XPath/></Result></Configuration>
HttpReply configurationError(const net::Request& request, std::string_view reason,
                             std::string_view path) {
  pugi::xml_document doc;
  pugi::xml_node result = doc.append_child("Configuration").append_child("Result");
  result.append_attribute("status").set_value("Error");
  result.append_child("Reason").text().set(std::string(reason).c_str());
  result.append_child("XPath").text().set(("/Configuration/" + std::string(path)).c_str());
  return xml(request, devices::serializeXml(doc, true));
}

HttpReply commandResult(const net::Request& request, std::string_view name, std::string_view status,
                        const std::vector<devices::PathValue>& values) {
  auto body = xapi::buildCommandResult(name, status, values);
  if (!body.ok()) return xmlDocError(request, body.error().message, "");
  return xml(request, std::move(*body));
}

std::string percentDecode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      const std::string hex(in.substr(i + 1, 2));
      char* end = nullptr;
      const long v = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += in[i] == '+' ? ' ' : in[i];
  }
  return out;
}

std::string queryParameter(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? "" : percentDecode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

// Keeps under `node` only the chain that matches `segments` from position i; false if nothing does.
bool prune(pugi::xml_node node, const std::vector<devices::PathSegment>& segments, std::size_t i) {
  if (i == segments.size()) return true;
  bool any = false;
  pugi::xml_node child = node.first_child();
  while (child) {
    pugi::xml_node next = child.next_sibling();
    const bool match = child.type() == pugi::node_element &&
                       lowerAscii(devices::localName(child)) == lowerAscii(segments[i].name) &&
                       (segments[i].item == 0 || devices::itemNumber(child) == segments[i].item) &&
                       prune(child, segments, i + 1);
    if (match) {
      any = true;
    } else {
      node.remove_child(child);
    }
    child = next;
  }
  return any;
}

// Feedback expressions match a change when one is a prefix of the other, path segment by path
// segment, ignoring case and item indexes ("/Status/Call" matches "/Status/Call[2]/Status").
std::string normalizedPath(std::string_view path) {
  std::string out;
  bool in_index = false;
  for (char c : path) {
    if (c == '[') in_index = true;
    if (!in_index) out += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    if (c == ']') in_index = false;
  }
  if (out.empty() || out.front() != '/') out.insert(out.begin(), '/');
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool expressionMatches(std::string_view expression, std::string_view path) {
  const std::string e = normalizedPath(expression);
  const std::string p = normalizedPath(path);
  if (e == p || e == "/") return true;
  const auto prefixOf = [](const std::string& a, const std::string& b) {
    return b.size() > a.size() && b.compare(0, a.size(), a) == 0 && b[a.size()] == '/';
  };
  return prefixOf(e, p) || prefixOf(p, e);
}

const std::vector<std::string>& configurationRoots() {
  static const std::vector<std::string> roots = {
      "audio", "bluetooth", "cameras", "conference", "facilityservice", "h323", "httpclient",
      "httpfeedback", "logging", "macros", "network", "networkservices", "peripherals",
      "phonebook", "provisioning", "proximity", "roomanalytics", "rooms", "security",
      "serialport", "sip", "standby", "systemunit", "time", "userinterface", "userManagement",
      "video", "webengine", "experimental"};
  return roots;
}

std::string argument(const std::vector<xapi::CommandArgument>& args, std::string_view name) {
  for (const auto& a : args) {
    if (lowerAscii(a.name) == lowerAscii(name)) return a.value;
  }
  return {};
}

bool isNumber(std::string_view s) {
  return !s.empty() && s.size() < 10 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

void SimFleet::initXapi(SimSystem& sys) {
  sys.configuration = std::make_unique<std::map<std::string, std::string>>(
      xapi::defaultConfiguration(sys.identity));
  sys.slots = std::make_unique<std::array<SimFeedbackSlot, 4>>();
}

HttpReply SimFleet::handleXapi(SimSystem& sys, const net::Request& request) {
  const auto credentials = basicCredentials(request);
  if (sys.fault == Fault::kWrongCredentials || !credentials ||
      *credentials != sys.info.username + ":" + sys.info.password) {
    HttpReply reply{makeResponse(request, 401,
                                 "<html><head><title>401 Unauthorized</title></head>"
                                 "<body>Authorization required</body></html>\n",
                                 "text/html"),
                    {}, false};
    reply.response.set(http::field::www_authenticate, "Basic realm=\"/\"");
    return reply;
  }
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const bool get = request.method() == http::verb::get;
  if (get && path == "/status.xml") return xml(request, xapi::buildStatusXml(statusOf(sys)));
  if (get && path == "/configuration.xml") {
    auto body = xapi::buildConfigurationXml(*sys.configuration, sys.identity);
    if (!body.ok()) return {makeResponse(request, 500, body.error().message, "text/plain"), {}, false};
    return xml(request, std::move(*body));
  }
  if (get && path == "/getxml") return xapiGetxml(sys, request);
  if (path == "/putxml") {
    if (request.method() != http::verb::post) {
      return {makeResponse(request, 405, "Method Not Allowed\n", "text/plain"), {}, false};
    }
    return xapiPutxml(sys, request);
  }
  return {makeResponse(request, 404, "Not Found\n", "text/plain"), {}, false};
}

HttpReply SimFleet::xapiGetxml(SimSystem& sys, const net::Request& request) {
  const std::string_view target(request.target().data(), request.target().size());
  std::string location = queryParameter(target, "location");
  if (location.empty()) return xmlDocError(request, "Missing location parameter", "");
  std::string_view rest(location);
  while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
  const auto slash = rest.find('/');
  const std::string top = lowerAscii(rest.substr(0, slash));
  std::string document;
  if (top == "status") {
    document = xapi::buildStatusXml(statusOf(sys));
  } else if (top == "configuration") {
    auto body = xapi::buildConfigurationXml(*sys.configuration, sys.identity);
    if (!body.ok()) return xmlDocError(request, body.error().message, location);
    document = std::move(*body);
  } else {
    return xmlDocError(request, "No match on address expression", location);
  }
  if (slash == std::string_view::npos || slash + 1 >= rest.size()) return xml(request, document);
  auto segments = devices::splitXmlPath(rest.substr(slash + 1));
  if (!segments.ok()) return xmlDocError(request, "No match on address expression", location);
  pugi::xml_document doc;
  if (!doc.load_string(document.c_str())) return xmlDocError(request, "Internal error", location);
  if (!prune(doc.document_element(), *segments, 0)) {
    return xmlDocError(request, "No match on address expression", location);
  }
  return xml(request, devices::serializeXml(doc, true));
}

HttpReply SimFleet::xapiPutxml(SimSystem& sys, const net::Request& request) {
  auto parsed = xapi::parsePutxmlRequest(request.body());
  if (!parsed.ok()) return xmlDocError(request, "Parse error: " + parsed.error().message, "");
  const xapi::PutxmlRequest& put = *parsed;
  if (!put.isCommand()) {
    if (put.settings.empty()) return xmlDocError(request, "No configuration given", "/Configuration");
    std::vector<std::pair<std::string, std::string>> changes;
    for (const auto& [setting, value] : put.settings) {
      const std::string key_lower = lowerAscii(setting);
      std::string key = setting;
      for (const auto& entry : *sys.configuration) {
        if (lowerAscii(entry.first) == key_lower) key = entry.first;
      }
      const std::string root = key_lower.substr(0, key_lower.find_first_of("/["));
      const auto& roots = configurationRoots();
      if (!sys.configuration->count(key) &&
          std::find_if(roots.begin(), roots.end(), [&](const std::string& r) {
            return lowerAscii(r) == root;
          }) == roots.end()) {
        return configurationError(request, "No match on address expression", setting);
      }
      if (key == "Conference/DefaultCall/Rate") {
        const long rate = isNumber(value) ? std::stol(value) : -1;
        if (rate < 64 || rate > 6000) return configurationError(request, "Illegal value", key);
      }
      if (value.size() > 255) return configurationError(request, "Illegal value", key);
      changes.emplace_back(key, value);
    }
    for (const auto& [key, value] : changes) {
      (*sys.configuration)[key] = value;
      if (key == "SystemUnit/Name") sys.identity.system_name = value;
      if (key == "H323/H323Alias/ID") sys.identity.h323_id = value;
      if (key == "H323/H323Alias/E164") sys.identity.e164 = value;
      if (key == "SIP/URI") sys.identity.sip_uri = value;
    }
    for (const auto& [key, value] : changes) {
      xapiFeedback(sys, "/Configuration/" + key, [&sys, &changes] {
        auto body = xapi::buildConfigurationFeedback(sys.identity, changes);
        return body.ok() ? *body : std::string();
      });
      break;  // one post carries every change; match it on the first path
    }
    return xml(request, "<?xml version=\"1.0\"?>\n<Configuration>\n  <Success/>\n</Configuration>\n");
  }

  const std::string command = lowerAscii(put.command);
  const auto& args = put.arguments;
  if (command == "dial") {
    const std::string number = argument(args, "Number");
    if (number.empty()) {
      return commandResult(request, "DialResult", "ParameterError",
                           {{"Reason", "Invalid or missing parameters"}, {"Parameter", "Number"}});
    }
    std::string protocol = lowerAscii(argument(args, "Protocol"));
    if (protocol.empty() || protocol == "auto") protocol = lowerAscii((*sys.configuration)["Conference/DefaultCall/Protocol"]);
    if (protocol != "sip" && protocol != "h323" && protocol != "spark") {
      return commandResult(request, "DialResult", "ParameterError",
                           {{"Reason", "Invalid or missing parameters"}, {"Parameter", "Protocol"}});
    }
    const std::string rate_text = argument(args, "CallRate");
    int rate = 6000;
    if (!rate_text.empty()) {
      rate = isNumber(rate_text) ? std::stoi(rate_text) : -1;
      if (rate < 64 || rate > 6000) {
        return commandResult(request, "DialResult", "ParameterError",
                             {{"Reason", "Invalid or missing parameters"}, {"Parameter", "CallRate"}});
      }
    }
    if (sys.calls.size() >= 3) {
      return commandResult(request, "DialResult", "Error", {{"Reason", "Maximum number of active calls reached"}});
    }
    const std::string spelled = protocol == "sip" ? "Sip" : protocol == "h323" ? "H323" : "Spark";
    const int id = startCall(sys, devices::CallDirection::kOutgoing, number, spelled, rate);
    return commandResult(request, "DialResult", "OK",
                         {{"CallId", std::to_string(id)}, {"ConferenceId", std::to_string(id + 1)}});
  }
  if (command == "call disconnect") {
    const std::string call_id = argument(args, "CallId");
    if (call_id.empty()) {
      if (sys.calls.empty()) {
        return commandResult(request, "CallDisconnectResult", "Error", {{"Reason", "No active call"}});
      }
      while (!sys.calls.empty()) (void)endCall(sys, sys.calls.front().id, true);
      return commandResult(request, "CallDisconnectResult", "OK", {});
    }
    if (!isNumber(call_id) || !endCall(sys, std::stoi(call_id), true).ok()) {
      return commandResult(request, "CallDisconnectResult", "Error",
                           {{"Reason", "No active call with CallId " + call_id}});
    }
    return commandResult(request, "CallDisconnectResult", "OK", {});
  }
  if (command == "httpfeedback register" || command == "httpfeedback deregister") {
    const bool registering = command == "httpfeedback register";
    const std::string name = registering ? "FeedbackRegisterResult" : "FeedbackDeregisterResult";
    const std::string slot_text = argument(args, "FeedbackSlot");
    const int slot = isNumber(slot_text) ? std::stoi(slot_text) : 0;
    if (slot < 1 || slot > 4) {
      return commandResult(request, name, "ParameterError",
                           {{"Reason", "Invalid or missing parameters"}, {"Parameter", "FeedbackSlot"}});
    }
    SimFeedbackSlot& s = (*sys.slots)[static_cast<std::size_t>(slot - 1)];
    SimFeedbackSlot fresh;
    fresh.generation = s.generation + 1;
    if (registering) {
      fresh.url = argument(args, "ServerUrl");
      if (fresh.url.empty() || fresh.url.size() > 2048) {
        return commandResult(request, name, "ParameterError",
                             {{"Reason", "Invalid or missing parameters"}, {"Parameter", "ServerUrl"}});
      }
      for (const auto& a : args) {
        if (lowerAscii(a.name) == "expression") fresh.expressions.push_back(a.value);
      }
      if (fresh.expressions.size() > kMaxExpressions) {
        return commandResult(request, name, "ParameterError",
                             {{"Reason", "Invalid or missing parameters"}, {"Parameter", "Expression"}});
      }
      const std::string format = argument(args, "Format");
      if (!format.empty()) fresh.format = lowerAscii(format) == "json" ? "JSON" : "XML";
      fresh.registered = true;
    }
    s = std::move(fresh);
    log::info("sim.feedback_registered", {{"system", sys.info.name}, {"slot", slot},
                                          {"registered", registering}});
    return commandResult(request, name, "OK", {{"FeedbackSlot", std::to_string(slot)}});
  }
  if (command == "systemunit boot") {
    auto timer = std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds(100));
    timer->async_wait([this, timer, index = sys.info.index](boost::system::error_code ec) {
      if (!ec) rebootNow(*systems_[static_cast<std::size_t>(index)]);
    });
    return commandResult(request, "SystemUnitBootResult", "OK", {});
  }
  if (command == "audio microphones mute" || command == "audio microphones unmute") {
    const bool mute = command == "audio microphones mute";
    if (sys.muted != mute) {
      sys.muted = mute;
      xapiFeedback(sys, "/Status/Audio/Microphones/Mute", [&sys] {
        auto body = xapi::buildStatusFeedback(sys.identity, {{"Audio/Microphones/Mute", sys.muted ? "On" : "Off"}});
        return body.ok() ? *body : std::string();
      });
    }
    return commandResult(request, mute ? "MuteResult" : "UnmuteResult", "OK", {});
  }
  std::string xpath = "/" + put.command;
  std::replace(xpath.begin(), xpath.end(), ' ', '/');
  return commandResult(request, "Result", "Error", {{"Reason", "Unknown command"}, {"XPath", xpath}});
}

void SimFleet::xapiCallChanged(SimSystem& sys, const SimCall& call, bool ended, bool local) {
  const devices::CallInfo info = callInfoOf(call);
  const std::string item = fmt::format("Call[{}]", call.id);
  xapiFeedback(sys, "/Status/Call", [&] {
    std::vector<devices::PathValue> changes;
    if (ended) {
      changes.emplace_back(item + "/ghost", "True");
    } else {
      changes.emplace_back(item + "/Direction", std::string(xapi::callDirectionToXapi(info.direction)));
      changes.emplace_back(item + "/Protocol", info.protocol);
      changes.emplace_back(item + "/RemoteNumber", info.remote_number);
      changes.emplace_back(item + "/Status", std::string(xapi::callStateToXapi(info.state)));
    }
    auto body = xapi::buildStatusFeedback(sys.identity, changes);
    return body.ok() ? *body : std::string();
  });
  if (!ended && call.state == CallState::kConnected) {
    xapiFeedback(sys, "/Event/CallSuccessful", [&] {
      return xapi::buildCallSuccessfulFeedback(sys.identity, info);
    });
  }
  if (ended) {
    devices::CallInfo last = info;
    if (call.state == CallState::kConnected) {
      last.duration = std::chrono::duration_cast<std::chrono::seconds>(clock_.monotonic() - call.connected_at);
    }
    xapiFeedback(sys, "/Event/CallDisconnect", [&] {
      return xapi::buildCallDisconnectFeedback(sys.identity, last, "1",
                                               local ? "LocalDisconnect" : "RemoteDisconnect",
                                               "Normal");
    });
  }
}

void SimFleet::xapiFeedback(SimSystem& sys, const std::string& path,
                            const std::function<std::string()>& build) {
  if (!sys.slots) return;
  std::string document;
  for (std::size_t i = 0; i < sys.slots->size(); ++i) {
    SimFeedbackSlot& slot = (*sys.slots)[i];
    if (!slot.registered || slot.failed) continue;
    const bool wanted = std::any_of(slot.expressions.begin(), slot.expressions.end(),
                                    [&](const std::string& e) { return expressionMatches(e, path); });
    if (!wanted) continue;
    if (document.empty()) document = build();
    if (document.empty()) return;
    if (slot.queue.size() >= kMaxQueuedPosts) slot.queue.pop_front();
    slot.queue.push_back(document);
    if (!slot.in_flight) xapiPostNext(sys, static_cast<int>(i));
  }
}

void SimFleet::xapiPostNext(SimSystem& sys, int slot_index) {
  SimFeedbackSlot& slot = (*sys.slots)[static_cast<std::size_t>(slot_index)];
  if (slot.queue.empty() || slot.failed || !slot.registered) {
    slot.in_flight = false;
    return;
  }
  slot.in_flight = true;
  const std::uint64_t generation = slot.generation;
  const int index = sys.info.index;
  HttpPoster::post(
      ioc_, sys.info.address, slot.url, slot.queue.front(), "text/xml", options_.post_timeout,
      [this, index, slot_index, generation](Result<unsigned> result) {
        SimSystem& s = *systems_[static_cast<std::size_t>(index)];
        SimFeedbackSlot& sl = (*s.slots)[static_cast<std::size_t>(slot_index)];
        if (sl.generation != generation) return;  // re-registered meanwhile
        if (result.ok() && *result >= 200 && *result < 300) {
          sl.failures = 0;
          sl.queue.pop_front();
          xapiPostNext(s, slot_index);
          return;
        }
        ++sl.failures;
        if (sl.failures >= options_.feedback_max_failures) {
          sl.failed = true;
          sl.in_flight = false;
          sl.queue.clear();
          log::warn("sim.feedback_slot_failed",
                    {{"system", s.info.name}, {"slot", slot_index + 1}, {"url", sl.url},
                     {"failures", sl.failures},
                     {"last_error", result.ok() ? fmt::format("HTTP {}", *result) : result.error().message}});
          return;
        }
        auto timer = std::make_shared<asio::steady_timer>(ioc_, options_.feedback_retry_interval);
        timer->async_wait([this, timer, index, slot_index, generation](boost::system::error_code ec) {
          if (ec) return;
          SimSystem& again = *systems_[static_cast<std::size_t>(index)];
          if ((*again.slots)[static_cast<std::size_t>(slot_index)].generation != generation) return;
          xapiPostNext(again, slot_index);
        });
      });
}

}  // namespace atrium::sim
