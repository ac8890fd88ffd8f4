#include "devices/cisco_xapi/xapi_driver.h"

#include "devices/cisco_xapi/configuration_document.h"
#include "devices/cisco_xapi/putxml.h"
#include "devices/cisco_xapi/status_document.h"
#include "devices/cisco_xapi/xapi_reply.h"
#include "devices/driver_http.h"

namespace atrium::devices::cisco_xapi {
namespace {

// One exchange with an endpoint: authentication, HTTP status, and the document checks that
// separate an answer we cannot read (kInternal) from a refusal (kInvalidArgument).
class XapiSession {
 public:
  explicit XapiSession(const DriverTarget& target)
      : http_(XapiDriver::kFamily, target),
        auth_{{"Authorization", net::basicAuthorization(target.username, target.password)}} {}

  // GETs `path` and returns the body of a well-formed document that is not an error reply.
  Result<std::string> get(std::string_view path) {
    auto response = http_.send("GET", path, {}, auth_);
    if (!response.ok()) return response.error();
    return checked(*response, "GET " + std::string(path));
  }

  // POSTs a putxml body and reads the command result.
  Result<CommandResult> putxml(const std::string& body, std::string_view what) {
    net::Headers headers = auth_;
    headers.emplace_back("Content-Type", "text/xml");
    auto response = http_.send("POST", "/putxml", body, headers);
    if (!response.ok()) return response.error();
    auto text = checked(*response, what);
    if (!text.ok()) return text.error();
    // An empty answer to a configuration change is a success on some software.
    if (text->find_first_not_of(" \t\r\n") == std::string::npos) return CommandResult{};
    auto result = parseCommandResult(*text);
    if (!result.ok()) return http_.malformed(std::string(what) + ": " + result.error().message);
    return result;
  }

  DriverHttp& http() { return http_; }

 private:
  Result<std::string> checked(net::HttpResponse& response, std::string_view what) {
    if (response.status < 200 || response.status > 299) {
      return http_.httpStatusError(response, what);
    }
    if (response.body.find_first_not_of(" \t\r\n") == std::string::npos) {
      return std::move(response.body);
    }
    auto doc = XmlDocument::parse(response.body, what);
    if (!doc.ok()) {
      return http_.malformed("expected an XML document in answer to " + std::string(what) + ": " +
                             doc.error().message);
    }
    Status reply = checkXapiReply(doc->root(), what);
    if (!reply.ok()) return http_.labelled(reply.error());
    return std::move(response.body);
  }

  DriverHttp http_;
  net::Headers auth_;
};

std::string xapiProtocol(std::string_view protocol) {
  if (protocol == "SIP" || protocol == "sip") return "Sip";
  if (protocol == "H323" || protocol == "h323" || protocol == "H.323") return "H323";
  return std::string(protocol);
}

template <typename T>
Result<T> logged(Result<T> result, std::string_view event, const DriverTarget& target) {
  if (!result.ok()) logDriverFailure(event, XapiDriver::kFamily, target, result.error());
  return result;
}

Status loggedStatus(Status status, std::string_view event, const DriverTarget& target) {
  if (!status.ok()) logDriverFailure(event, XapiDriver::kFamily, target, status.error());
  return status;
}

Result<DeviceStatus> pollOnce(const DriverTarget& target) {
  XapiSession session(target);
  auto status_body = session.get("/status.xml");
  if (!status_body.ok()) return status_body.error();
  auto status = parseStatusXml(*status_body);
  if (!status.ok()) {
    return session.http().malformed("expected a <Status> document from GET /status.xml: " +
                                    status.error().message);
  }
  auto config_body = session.get("/configuration.xml");
  if (!config_body.ok()) return config_body.error();
  auto config = parseConfigurationXml(*config_body);
  if (!config.ok()) {
    return session.http().malformed(
        "expected a <Configuration> document from GET /configuration.xml: " +
        config.error().message);
  }
  config->applyTo(status->identity);
  if (status->identity.software_version.empty()) {
    status->identity.software_version = config->software_version;
  }
  if (status->identity.product_type.empty()) status->identity.product_type = config->product_type;
  // TC software lists HttpFeedback under Configuration, CE under Status.
  if (status->feedback_slots.empty()) status->feedback_slots = config->feedback_slots;
  return std::move(*status);
}

}  // namespace

Capabilities XapiDriver::capabilities() const {
  return Capability::kPolling | Capability::kHttpFeedback | Capability::kDialOut |
         Capability::kConfigurationPush;
}

Result<DeviceStatus> XapiDriver::poll(const DriverTarget& target) {
  return logged(pollOnce(target), "driver.poll_failed", target);
}

Status XapiDriver::applySettings(const DriverTarget& target, const PersistentSettings& settings) {
  std::vector<PathValue> values;
  if (!settings.system_name.empty()) values.emplace_back("SystemUnit/Name", settings.system_name);
  if (!settings.h323_id.empty()) values.emplace_back("H323/H323Alias/ID", settings.h323_id);
  if (!settings.e164_alias.empty()) values.emplace_back("H323/H323Alias/E164", settings.e164_alias);
  if (!settings.sip_uri.empty()) values.emplace_back("SIP/URI", settings.sip_uri);
  if (values.empty()) return okStatus();
  auto body = buildConfigurationPutxml(values);
  if (!body.ok()) return body.error();
  XapiSession session(target);
  auto result = session.putxml(*body, "configuration putxml");
  if (!result.ok()) return loggedStatus(result.error(), "driver.apply_settings_failed", target);
  return okStatus();
}

Status XapiDriver::registerFeedback(const DriverTarget& target,
                                    const FeedbackRegistration& registration) {
  FeedbackSlot slot;
  slot.slot = registration.slot;
  slot.url = registration.url;
  slot.expressions = registration.expressions;
  auto body = httpFeedbackRegisterCommand(slot);
  if (!body.ok()) return body.error();
  XapiSession session(target);
  auto result = session.putxml(*body, "HttpFeedback Register");
  if (!result.ok()) return loggedStatus(result.error(), "driver.feedback_register_failed", target);
  return okStatus();
}

Status XapiDriver::deregisterFeedback(const DriverTarget& target, int slot) {
  auto body = httpFeedbackDeregisterCommand(slot);
  if (!body.ok()) return body.error();
  XapiSession session(target);
  auto result = session.putxml(*body, "HttpFeedback Deregister");
  if (!result.ok()) {
    return loggedStatus(result.error(), "driver.feedback_deregister_failed", target);
  }
  return okStatus();
}

Result<std::string> XapiDriver::dial(const DriverTarget& target, const DialRequest& request) {
  auto body = dialCommand(request.number, xapiProtocol(request.protocol), request.call_rate_kbps);
  if (!body.ok()) return body.error();
  XapiSession session(target);
  auto result = session.putxml(*body, "Dial");
  if (!result.ok()) return logged<std::string>(result.error(), "driver.dial_failed", target);
  return result->value("CallId");
}

Status XapiDriver::disconnect(const DriverTarget& target, const std::string& call_id) {
  std::vector<std::string> ids;
  if (!call_id.empty()) {
    ids.push_back(call_id);
  } else {
    // Every call: read them first (TC and CE differ in how they spell "all calls").
    auto status = poll(target);
    if (!status.ok()) return status.error();
    for (const CallInfo& call : status->calls) {
      if (!call.call_id.empty()) ids.push_back(call.call_id);
    }
  }
  XapiSession session(target);
  for (const std::string& id : ids) {
    auto body = callDisconnectCommand(id);
    if (!body.ok()) return body.error();
    auto result = session.putxml(*body, "Call Disconnect");
    if (!result.ok()) return loggedStatus(result.error(), "driver.disconnect_failed", target);
  }
  return okStatus();
}

}  // namespace atrium::devices::cisco_xapi
