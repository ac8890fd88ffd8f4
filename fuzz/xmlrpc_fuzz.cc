// Feeds arbitrary bytes to the XML-RPC decoders (calls, responses, MCU eventNotification). Each
// must answer a value or a clear error, never crash; what decodes must encode and decode again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "devices/cisco_mcu/mcu_api.h"
#include "devices/cisco_mcu/xmlrpc.h"

namespace {

template <typename T>
void check(const atrium::Result<T>& r) {
  // Decoding errors are invalid-argument or payload-too-large, faults map to their own codes:
  // whatever the code, an error must say what went wrong.
  if (!r.ok() && r.error().message.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace mcu = atrium::devices::cisco_mcu;
  std::string_view body(reinterpret_cast<const char*>(data), size);

  auto call = mcu::decodeMethodCall(body);
  check(call);
  if (call.ok()) {
    auto again = mcu::decodeMethodCall(mcu::encodeMethodCall(*call));
    if (!again.ok() || again->method != call->method ||
        again->params.size() != call->params.size()) {
      std::abort();
    }
    auto notification = mcu::parseEventNotification(*call);
    check(notification);
    if (notification.ok()) (void)mcu::notificationEvents(*notification, "fuzz");
  }

  auto response = mcu::decodeMethodResponse(body);
  check(response);
  if (response.ok()) {
    std::string encoded = response->fault ? mcu::encodeFault(*response->fault)
                                          : mcu::encodeMethodResponse(response->result);
    auto again = mcu::decodeMethodResponse(encoded);
    if (!again.ok() || again->fault.has_value() != response->fault.has_value()) std::abort();
    if (!response->fault) {
      check(mcu::parseEnumeratePage(response->result, "conferences"));
    }
  }
  check(mcu::decodeMethodResult(body));
  return 0;
}
