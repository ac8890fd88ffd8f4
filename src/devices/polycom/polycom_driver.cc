#include "devices/polycom/polycom_driver.h"

#include <algorithm>
#include <cctype>

#include "devices/driver_http.h"
#include "devices/polycom/polycom_json.h"

namespace atrium::devices::polycom {
namespace {

template <typename T>
Result<T> logged(Result<T> result, std::string_view event, const DriverTarget& target) {
  if (!result.ok()) logDriverFailure(event, PolycomDriver::kFamily, target, result.error());
  return result;
}

Status loggedStatus(Status status, std::string_view event, const DriverTarget& target) {
  if (!status.ok()) logDriverFailure(event, PolycomDriver::kFamily, target, status.error());
  return status;
}

bool isSuccess(unsigned status) { return status >= 200 && status <= 299; }

// Conference ids go into a path: letters, digits, '-' and '_' only.
bool isPathSafe(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';
  });
}

}  // namespace

Capabilities PolycomDriver::capabilities() const {
  return Capability::kPolling | Capability::kDialOut | Capability::kConfigurationPush |
         Capability::kSnmpTraps;
}

std::size_t PolycomDriver::logins() const {
  std::lock_guard lock(mu_);
  return logins_;
}

std::string PolycomDriver::sessionKey(const DriverTarget& target) {
  return target.address + "|" + std::to_string(target.port) + "|" + (target.tls ? "s" : "") + "|" +
         target.username;
}

Result<std::string> PolycomDriver::login(const DriverTarget& target) {
  DriverHttp http(kFamily, target);
  auto response = http.send("POST", "/rest/session", loginBody(target.username, target.password));
  if (!response.ok()) return response.error();
  if (!isSuccess(response->status)) return http.httpStatusError(*response, "login");
  auto session_id = parseLoginAnswer(response->body);
  if (!session_id.ok()) {
    if (session_id.error().code == ErrorCode::kUnauthorized) {
      return http.unauthorized("credentials rejected at login");
    }
    return http.malformed("expected a JSON login answer: " + session_id.error().message);
  }
  std::string cookie = net::cookiesFrom(*response);
  if (cookie.empty() && !session_id->empty()) cookie = "session_id=" + *session_id;
  if (cookie.empty()) return http.malformed("login answered without a session cookie");
  std::lock_guard lock(mu_);
  ++logins_;
  cookies_[sessionKey(target)] = cookie;
  return cookie;
}

Result<net::HttpResponse> PolycomDriver::request(const DriverTarget& target,
                                                 std::string_view method, std::string_view path,
                                                 std::string_view body) {
  DriverHttp http(kFamily, target);
  std::string key = sessionKey(target);
  std::string cookie;
  {
    std::lock_guard lock(mu_);
    if (auto it = cookies_.find(key); it != cookies_.end()) cookie = it->second;
  }
  bool fresh = false;
  if (cookie.empty()) {
    auto made = login(target);
    if (!made.ok()) return made.error();
    cookie = std::move(*made);
    fresh = true;
  }
  std::string what = std::string(method) + " " + std::string(path);
  for (int attempt = 0;; ++attempt) {
    net::Headers headers{{"Cookie", cookie}};
    auto response = http.send(method, path, body, headers);
    bool expired = !response.ok() && response.error().code == ErrorCode::kUnauthorized;
    if (expired && !fresh && attempt == 0) {
      // The session has expired (or the system rebooted): log in again, once.
      {
        std::lock_guard lock(mu_);
        cookies_.erase(key);
      }
      auto made = login(target);
      if (!made.ok()) return made.error();
      cookie = std::move(*made);
      fresh = true;
      continue;
    }
    if (!response.ok()) return response.error();
    if (!isSuccess(response->status)) return http.httpStatusError(*response, what);
    return response;
  }
}

Result<DeviceStatus> PolycomDriver::poll(const DriverTarget& target) {
  auto run = [&]() -> Result<DeviceStatus> {
    DriverHttp http(kFamily, target);
    auto system = request(target, "GET", "/rest/system");
    if (!system.ok()) return system.error();
    auto parsed = parseSystem(system->body);
    if (!parsed.ok()) return http.malformed("GET /rest/system: " + parsed.error().message);
    DeviceStatus status;
    status.identity = std::move(parsed->identity);
    status.uptime = parsed->uptime;

    auto state = request(target, "GET", "/rest/system/status");
    if (!state.ok()) return state.error();
    auto registrations = parseSystemStatus(state->body);
    if (!registrations.ok()) {
      return http.malformed("GET /rest/system/status: " + registrations.error().message);
    }
    status.h323 = std::move(registrations->h323);
    status.sip = std::move(registrations->sip);
    status.muted = registrations->muted;

    auto conferences = request(target, "GET", "/rest/conferences");
    if (!conferences.ok()) return conferences.error();
    auto calls = parseConferences(conferences->body);
    if (!calls.ok()) return http.malformed("GET /rest/conferences: " + calls.error().message);
    status.calls = std::move(*calls);
    return status;
  };
  return logged(run(), "driver.poll_failed", target);
}

Status PolycomDriver::applySettings(const DriverTarget& target,
                                    const PersistentSettings& settings) {
  std::string body = configBody(settings);
  if (body.empty()) return okStatus();
  auto response = request(target, "POST", "/rest/config", body);
  if (!response.ok()) {
    return loggedStatus(response.error(), "driver.apply_settings_failed", target);
  }
  return okStatus();
}

Result<std::string> PolycomDriver::dial(const DriverTarget& target, const DialRequest& request) {
  if (request.number.empty()) return Error::invalid("a number to dial is required", "number");
  auto run = [&]() -> Result<std::string> {
    auto response = this->request(target, "POST", "/rest/conferences", dialBody(request));
    if (!response.ok()) return response.error();
    auto id = parseDialAnswer(response->body);
    if (!id.ok()) {
      return DriverHttp(kFamily, target).malformed("POST /rest/conferences: " + id.error().message);
    }
    return id;
  };
  return logged(run(), "driver.dial_failed", target);
}

Status PolycomDriver::disconnect(const DriverTarget& target, const std::string& call_id) {
  if (!call_id.empty() && !isPathSafe(call_id)) {
    return Error::invalid("invalid call id \"" + call_id.substr(0, 64) + "\"", "call_id");
  }
  auto run = [&]() -> Status {
    std::vector<std::string> ids;
    if (!call_id.empty()) {
      ids.push_back(call_id);
    } else {
      auto list = request(target, "GET", "/rest/conferences");
      if (!list.ok()) return list.error();
      auto calls = parseConferences(list->body);
      if (!calls.ok()) {
        return DriverHttp(kFamily, target)
            .malformed("GET /rest/conferences: " + calls.error().message);
      }
      for (const CallInfo& call : *calls) {
        if (!call.call_id.empty() && std::find(ids.begin(), ids.end(), call.call_id) == ids.end()) {
          ids.push_back(call.call_id);
        }
      }
    }
    for (const std::string& id : ids) {
      if (!isPathSafe(id)) {
        return DriverHttp(kFamily, target).malformed("conference id \"" + id.substr(0, 64) +
                                                     "\" is not a plain identifier");
      }
      auto response = request(target, "DELETE", "/rest/conferences/" + id);
      if (!response.ok()) return response.error();
    }
    return okStatus();
  };
  return loggedStatus(run(), "driver.disconnect_failed", target);
}

}  // namespace atrium::devices::polycom
