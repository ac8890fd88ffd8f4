#include "devices/polycom/polycom_json.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include <nlohmann/json.hpp>

namespace atrium::devices::polycom {
namespace {

using nlohmann::json;

Result<json> parseJson(std::string_view body, std::string_view what) {
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error::internal(std::string(what) + ": not JSON");
  return doc;
}

std::string text(const json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  if (it == object.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  return {};
}

// Decimal digits only; nullopt when empty, not digits, or beyond long long.
std::optional<long long> digits(std::string_view s) {
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || s.front() == '-' || ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

// A whole number, as a JSON number or a string of digits; nullopt when it is neither or does
// not fit (a device's garbage is not worth a crash: 1e300, "99999999999999999999").
std::optional<long long> number(const json& object, std::string_view key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    const auto v = it->get<unsigned long long>();
    if (v > static_cast<unsigned long long>(std::numeric_limits<long long>::max())) return std::nullopt;
    return static_cast<long long>(v);
  }
  if (it->is_number_integer()) return it->get<long long>();
  if (it->is_number_float()) {
    const double d = it->get<double>();
    // 2^63 is exactly representable; anything at or beyond it does not convert.
    if (!std::isfinite(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0) return std::nullopt;
    return static_cast<long long>(d);
  }
  if (it->is_string()) return digits(it->get_ref<const std::string&>());
  return std::nullopt;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

RegistrationState registrationState(std::string_view word) {
  std::string w = lower(std::string(word));
  if (w == "registered" || w == "online" || w == "up") return RegistrationState::kRegistered;
  if (w == "registering") return RegistrationState::kRegistering;
  if (w == "failed" || w == "rejected" || w == "unregistered" || w == "down") {
    return RegistrationState::kFailed;
  }
  if (w == "disabled" || w == "off") return RegistrationState::kDisabled;
  if (w == "inactive" || w == "offline") return RegistrationState::kInactive;
  return RegistrationState::kUnknown;
}

std::string_view registrationWord(RegistrationState state) {
  switch (state) {
    case RegistrationState::kRegistered: return "registered";
    case RegistrationState::kRegistering: return "registering";
    case RegistrationState::kFailed: return "failed";
    case RegistrationState::kDisabled: return "disabled";
    case RegistrationState::kInactive: return "inactive";
    case RegistrationState::kUnknown: break;
  }
  return "unknown";
}

const std::map<std::string, CallState, std::less<>>& callStates() {
  static const std::map<std::string, CallState, std::less<>> kStates{
      {"CONNECTED", CallState::kConnected},     {"CONNECTING", CallState::kConnecting},
      {"RINGING", CallState::kRinging},         {"DIALING", CallState::kDialling},
      {"DISCONNECTING", CallState::kDisconnecting}, {"DISCONNECTED", CallState::kDisconnected},
      {"HELD", CallState::kOnHold},             {"INACTIVE", CallState::kIdle},
  };
  return kStates;
}

CallState callState(std::string_view word) {
  std::string upper(word);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  auto it = callStates().find(upper);
  return it == callStates().end() ? CallState::kUnknown : it->second;
}

std::string_view callStateWord(CallState state) {
  for (const auto& [word, s] : callStates()) {
    if (s == state) return word;
  }
  return "UNKNOWN";
}

}  // namespace

std::string loginBody(std::string_view user, std::string_view password) {
  return json{{"action", "Login"}, {"user", user}, {"password", password}}.dump();
}

Result<std::string> parseLoginAnswer(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::string();
  auto doc = parseJson(body, "login answer");
  if (!doc.ok()) return doc.error();
  if (doc->is_object()) {
    auto success = doc->find("success");
    if (success != doc->end() && success->is_boolean() && !success->get<bool>()) {
      return Error{ErrorCode::kUnauthorized, "login refused", {}};
    }
  }
  return text(*doc, "sessionId");
}

Result<PolycomSystem> parseSystem(std::string_view body) {
  auto doc = parseJson(body, "system document");
  if (!doc.ok()) return doc.error();
  if (!doc->is_object()) return Error::internal("system document: expected a JSON object");
  PolycomSystem out;
  SystemIdentity& id = out.identity;
  id.system_name = text(*doc, "systemName");
  id.product = text(*doc, "model");
  id.serial_number = text(*doc, "serialNumber");
  id.software_version = text(*doc, "softwareVersion");
  id.product_type = "Polycom";
  if (auto up = number(*doc, "uptime")) out.uptime = std::chrono::seconds(*up);
  if (id.product.empty() && id.serial_number.empty() && id.software_version.empty()) {
    return Error::internal("system document: no model, serialNumber or softwareVersion");
  }
  return out;
}

Result<PolycomRegistrations> parseSystemStatus(std::string_view body) {
  auto doc = parseJson(body, "system status");
  if (!doc.ok()) return doc.error();
  PolycomRegistrations out;
  auto setState = [](Registration& reg, std::string word) {
    reg.status = std::move(word);
    reg.state = registrationState(reg.status);
  };
  if (doc->is_object()) {
    for (auto [key, reg] : {std::pair{"h323", &out.h323}, std::pair{"sip", &out.sip}}) {
      auto it = doc->find(key);
      if (it == doc->end() || !it->is_object()) continue;
      setState(*reg, text(*it, "state"));
      reg->server = text(*it, "server");
      reg->uri = text(*it, "uri");
    }
    auto muted = doc->find("muted");
    if (muted != doc->end() && muted->is_boolean()) out.muted = muted->get<bool>();
    return out;
  }
  if (!doc->is_array()) return Error::internal("system status: expected a JSON object");
  for (const json& item : *doc) {
    std::string tag = lower(text(item, "langtag"));
    Registration* reg = nullptr;
    if (tag == "gatekeeper" || tag == "h323") reg = &out.h323;
    if (tag == "sip" || tag == "sipregistrar") reg = &out.sip;
    if (!reg) continue;
    auto states = item.find("stateList");
    if (states != item.end() && states->is_array() && !states->empty() &&
        states->front().is_string()) {
      setState(*reg, states->front().get<std::string>());
    }
  }
  return out;
}

Result<std::vector<CallInfo>> parseConferences(std::string_view body) {
  auto doc = parseJson(body, "conference list");
  if (!doc.ok()) return doc.error();
  if (!doc->is_array()) return Error::internal("conference list: expected a JSON array");
  std::vector<CallInfo> calls;
  for (const json& conference : *doc) {
    if (!conference.is_object()) return Error::internal("conference list: expected objects");
    std::string id = text(conference, "id");
    auto connections = conference.find("connections");
    if (connections == conference.end() || !connections->is_array()) continue;
    for (const json& connection : *connections) {
      CallInfo call;
      call.call_id = id;
      call.remote_number = text(connection, "address");
      call.display_name = text(connection, "displayName");
      call.protocol = text(connection, "protocol");
      call.rate_kbps = callRateKbps(number(connection, "rate").value_or(0));
      call.state = callState(text(connection, "state"));
      call.duration = callDuration(number(connection, "duration").value_or(0));
      auto incoming = connection.find("incoming");
      if (incoming == connection.end()) incoming = connection.find("isIncoming");
      if (incoming != connection.end() && incoming->is_boolean()) {
        call.direction = incoming->get<bool>() ? CallDirection::kIncoming : CallDirection::kOutgoing;
      }
      calls.push_back(std::move(call));
    }
  }
  return calls;
}

std::string dialBody(const DialRequest& request) {
  json body{{"address", request.number}};
  if (request.call_rate_kbps > 0) body["rate"] = request.call_rate_kbps;
  if (!request.protocol.empty()) body["dialType"] = request.protocol;
  return body.dump();
}

Result<std::string> parseDialAnswer(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::string();
  auto doc = parseJson(body, "dial answer");
  if (!doc.ok()) return doc.error();
  std::string id = text(*doc, "id");
  if (id.empty()) id = text(*doc, "conferenceId");
  return id;
}

std::string configBody(const PersistentSettings& settings) {
  json body = json::object();
  auto add = [&body](std::string_view name, const std::string& value) {
    if (!value.empty()) body[std::string(name)] = value;
  };
  add(kConfigSystemName, settings.system_name);
  add(kConfigH323Name, settings.h323_id);
  add(kConfigE164, settings.e164_alias);
  add(kConfigSipUri, settings.sip_uri);
  if (body.empty()) return {};
  return body.dump();
}

std::string buildSystemJson(const SystemIdentity& identity, std::chrono::seconds uptime) {
  return json{{"systemName", identity.system_name},
              {"model", identity.product},
              {"serialNumber", identity.serial_number},
              {"softwareVersion", identity.software_version},
              {"hardwareVersion", "1"},
              {"uptime", uptime.count()}}
      .dump();
}

std::string buildSystemStatusJson(const Registration& h323, const Registration& sip) {
  auto word = [](const Registration& r) {
    std::string w(registrationWord(r.state));
    std::transform(w.begin(), w.end(), w.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return w;
  };
  return json{{"state", "READY"},
              {"h323", {{"state", word(h323)}, {"server", h323.server}}},
              {"sip", {{"state", word(sip)}, {"server", sip.server}, {"uri", sip.uri}}}}
      .dump();
}

std::string buildConferencesJson(const std::vector<CallInfo>& calls) {
  json out = json::array();
  std::map<std::string, std::size_t> by_id;
  for (const CallInfo& call : calls) {
    auto [it, added] = by_id.try_emplace(call.call_id, out.size());
    if (added) {
      json conference{{"isActive", true}, {"connections", json::array()}};
      auto numeric = digits(call.call_id);
      conference["id"] = numeric ? json(*numeric) : json(call.call_id);
      out.push_back(std::move(conference));
    }
    out[it->second]["connections"].push_back(
        {{"id", out[it->second]["connections"].size()},
         {"address", call.remote_number},
         {"displayName", call.display_name},
         {"protocol", call.protocol},
         {"rate", call.rate_kbps},
         {"state", callStateWord(call.state)},
         {"incoming", call.direction == CallDirection::kIncoming},
         {"duration", call.duration.count()}});
  }
  return out.dump();
}

Result<PersistentSettings> parseConfigBody(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Error::invalid("expected a JSON object of settings");
  }
  PersistentSettings out;
  for (const auto& [name, value] : doc.items()) {
    if (!value.is_string()) return Error::invalid("setting " + name + " must be a string", name);
    std::string v = value.get<std::string>();
    if (name == kConfigSystemName) {
      out.system_name = v;
    } else if (name == kConfigH323Name) {
      out.h323_id = v;
    } else if (name == kConfigE164) {
      out.e164_alias = v;
    } else if (name == kConfigSipUri) {
      out.sip_uri = v;
    } else {
      return Error::invalid("unknown setting \"" + name + "\"", name);
    }
  }
  return out;
}

}  // namespace atrium::devices::polycom
