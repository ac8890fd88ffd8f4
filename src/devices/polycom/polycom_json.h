// The JSON documents of the Polycom Group Series / Poly VideoOS REST API that Atrium uses, both
// ways: what the driver sends and reads, and what the simulator serves. Unreadable documents are
// kInternal errors naming what was expected.
//
//   POST /rest/session          {"action":"Login","user":"admin","password":"..."}
//                               -> 200 {"success":true,"sessionId":"..."} + Set-Cookie
//   GET  /rest/system           {"systemName":..,"model":..,"serialNumber":..,
//                                "softwareVersion":..,"hardwareVersion":..,"uptime":<seconds>}
//   GET  /rest/system/status    [{"langtag":"gatekeeper"|"sip","name":..,"stateList":["registered"]}, ...]
//   GET  /rest/conferences      [{"id":0,"isActive":true,"connections":[{"id":1,"address":..,
//                                 "displayName":..,"protocol":"SIP","rate":1024,"state":"CONNECTED",
//                                 "isIncoming":false,"duration":12}]}]
//   POST /rest/conferences      {"address":"...","rate":1024,"dialType":"SIP"} -> {"id":0}
//   DELETE /rest/conferences/{id}                                   (hang up)
//   POST /rest/config           {"configList":[{"name":"comm.nameplate.sitename","value":"..."}]}
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
inline constexpr std::string_view kConfigSystemName = "comm.nameplate.sitename";
inline constexpr std::string_view kConfigH323Name = "comm.h323.h323name";
inline constexpr std::string_view kConfigE164 = "comm.h323.e164ext";
inline constexpr std::string_view kConfigSipUri = "comm.sip.uri";

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
};
Result<PolycomRegistrations> parseSystemStatus(std::string_view body);

// One CallInfo per connection; call_id is the conference id (what hang-up takes).
Result<std::vector<CallInfo>> parseConferences(std::string_view body);

std::string dialBody(const DialRequest& request);
// The conference id a dial answer names ("id" or "conferenceId"); empty when it names none.
Result<std::string> parseDialAnswer(std::string_view body);

// {"configList":[...]} with one entry per non-empty setting; empty string when none is set.
std::string configBody(const PersistentSettings& settings);

// The simulator's side.
std::string buildSystemJson(const SystemIdentity& identity, std::chrono::seconds uptime);
std::string buildSystemStatusJson(const Registration& h323, const Registration& sip);
std::string buildConferencesJson(const std::vector<CallInfo>& calls);
// What a configList body asks to change (names as above).
Result<PersistentSettings> parseConfigBody(std::string_view body);

}  // namespace atrium::devices::polycom
