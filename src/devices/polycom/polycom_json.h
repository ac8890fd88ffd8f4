// The JSON documents of the Polycom Group Series / Poly VideoOS REST API that Atrium uses, both
// ways: what the driver sends and reads, and what the simulator serves. Unreadable documents are
// kInternal errors naming what was expected.
//
//   POST /rest/session          {"action":"Login","user":"admin","password":"..."}
//                               -> 200 {"success":true,"sessionId":"..."} + Set-Cookie
//   GET  /rest/system           {"systemName":..,"model":..,"serialNumber":..,
//                                "softwareVersion":..,"hardwareVersion":..,"uptime":<seconds>}
//   GET  /rest/system/status    {"state":"READY","inCall":false,"muted":false,
//                                "h323":{"state":"REGISTERED","server":..},"sip":{"state":..,"server":..}}
//                               (older software: [{"langtag":"gatekeeper"|"sip","stateList":[..]}])
//   GET  /rest/conferences      [{"id":0,"isActive":true,"connections":[{"id":1,"address":..,
//                                 "displayName":..,"protocol":"SIP","rate":1024,"state":"CONNECTED",
//                                 "incoming":false,"duration":12}]}]   ("isIncoming" also read)
//   POST /rest/conferences      {"address":"...","rate":1024,"dialType":"SIP"} -> {"id":0}
//   DELETE /rest/conferences/{id}                                   (hang up)
//   POST /rest/config           {"systemName":..,"h323Name":..,"h323Extension":..,"sipUri":..}
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "devices/driver.h"
#include "devices/types.h"

namespace atrium::devices::polycom {

// Names under /rest/config for the persistent settings.
inline constexpr std::string_view kConfigSystemName = "systemName";
inline constexpr std::string_view kConfigH323Name = "h323Name";
inline constexpr std::string_view kConfigE164 = "h323Extension";
inline constexpr std::string_view kConfigSipUri = "sipUri";

std::string loginBody(std::string_view user, std::string_view password);
// The session id a login answer carries in its body ("sessionId"), if any; an error when the
// body says {"success":false} (kUnauthorized) or is not JSON (kInternal).
Result<std::string> parseLoginAnswer(std::string_view body);

struct PolycomSystem {
  SystemIdentity identity;
  std::optional<std::chrono::seconds> uptime;
};
Result<PolycomSystem> parseSystem(std::string_view body);

struct PolycomRegistrations {
  Registration h323;
  Registration sip;
  std::optional<bool> muted;
};
Result<PolycomRegistrations> parseSystemStatus(std::string_view body);

// One CallInfo per connection; call_id is the conference id (what hang-up takes).
Result<std::vector<CallInfo>> parseConferences(std::string_view body);

std::string dialBody(const DialRequest& request);
// The conference id a dial answer names ("id" or "conferenceId"); empty when it names none.
Result<std::string> parseDialAnswer(std::string_view body);

// A JSON object with one member per non-empty setting; empty string when none is set.
std::string configBody(const PersistentSettings& settings);

// The simulator's side.
std::string buildSystemJson(const SystemIdentity& identity, std::chrono::seconds uptime);
std::string buildSystemStatusJson(const Registration& h323, const Registration& sip);
std::string buildConferencesJson(const std::vector<CallInfo>& calls);
// What a /rest/config body asks to change (names as above; others are refused).
Result<PersistentSettings> parseConfigBody(std::string_view body);

}  // namespace atrium::devices::polycom
