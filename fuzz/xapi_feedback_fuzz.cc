// Feeds arbitrary bytes to the Cisco xAPI document parsers: HTTP feedback posts, status.xml,
// configuration.xml, getxml and putxml answers, putxml requests (the simulator's side). Each must
// answer a value or a clear error, never crash; what parses must also survive the simulator's
// builders and parse again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "devices/cisco_xapi/configuration_document.h"
#include "devices/cisco_xapi/document_builder.h"
#include "devices/cisco_xapi/feedback_document.h"
#include "devices/cisco_xapi/putxml.h"
#include "devices/cisco_xapi/status_document.h"
#include "devices/cisco_xapi/xapi_tree.h"

namespace {

template <typename T>
void check(const atrium::Result<T>& r) {
  if (r.ok()) return;
  auto code = r.error().code;
  if (code != atrium::ErrorCode::kInvalidArgument && code != atrium::ErrorCode::kNotFound &&
      code != atrium::ErrorCode::kPayloadTooLarge) {
    std::abort();
  }
  if (r.error().message.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace xapi = atrium::devices::cisco_xapi;
  std::string_view body(reinterpret_cast<const char*>(data), size);

  auto events = xapi::parseFeedbackXml(body, "fuzz");
  check(events);
  if (events.ok()) {
    for (const auto& e : *events) {
      if (e.idempotency_key.size() != 64) std::abort();
    }
  }

  auto status = xapi::parseStatusXml(body);
  check(status);
  if (status.ok()) {
    // The simulator serves what it is given: a parsed status must build and read back.
    auto again = xapi::parseStatusXml(xapi::buildStatusXml(*status));
    if (!again.ok()) std::abort();
  }

  auto config = xapi::parseConfigurationXml(body);
  check(config);
  if (config.ok()) {
    auto built = xapi::buildConfigurationXml(config->values, {});
    if (!built.ok()) std::abort();
    auto again = xapi::parseConfigurationXml(*built);
    if (!again.ok()) std::abort();
  }

  check(xapi::parseGetxml(body));
  check(xapi::parseCommandResult(body));
  check(xapi::parsePutxmlRequest(body));
  return 0;
}
