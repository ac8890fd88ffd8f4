// The handler of api.device_listen: a plain-HTTP listener for what systems send. It passes
// POST /feedback/{secret} and the /healthz and /readyz probes to the API's handler and answers
// 404 to everything else, so that people never use the API over it.
#pragma once

#include <string_view>

#include "net/http_server.h"

namespace atrium::api {

// Whether `target` (path and query) is served on the device listener.
bool servedToDevices(std::string_view target);

class DeviceListenerHandler final : public net::HttpHandler {
 public:
  explicit DeviceListenerHandler(net::HttpHandler& api) : api_(api) {}
  void handle(net::Request request, const net::RequestInfo& info, net::Respond respond) override;

 private:
  net::HttpHandler& api_;
};

}  // namespace atrium::api
