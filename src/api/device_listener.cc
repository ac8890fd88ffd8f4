#include "api/device_listener.h"

#include <utility>

namespace atrium::api {

bool servedToDevices(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path.rfind("/feedback/", 0) == 0 || path == "/healthz" || path == "/readyz";
}

void DeviceListenerHandler::handle(net::Request request, const net::RequestInfo& info,
                                   net::Respond respond) {
  if (servedToDevices(request.target())) {
    api_.handle(std::move(request), info, std::move(respond));
    return;
  }
  net::Response res{boost::beast::http::status::not_found, request.version()};
  res.set(boost::beast::http::field::content_type, "application/json");
  res.body() = net::jsonErrorBody(
      "not_found",
      "this listener (api.device_listen) serves only what systems send; the API is on api.listen");
  respond(std::move(res));
}

}  // namespace atrium::api
