// Feeds arbitrary bytes to every Polycom REST JSON parser (login and dial answers, /rest/system,
// /rest/system/status, /rest/conferences, and the /rest/config body the simulator reads). Each
// must answer a value or an error that says what went wrong, never crash; what parses must build
// and parse again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "devices/polycom/polycom_json.h"

namespace {

template <typename T>
void check(const atrium::Result<T>& r) {
  if (!r.ok() && r.error().message.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace polycom = atrium::devices::polycom;
  std::string_view body(reinterpret_cast<const char*>(data), size);

  check(polycom::parseLoginAnswer(body));
  check(polycom::parseDialAnswer(body));

  auto system = polycom::parseSystem(body);
  check(system);
  if (system.ok()) {
    auto again = polycom::parseSystem(polycom::buildSystemJson(
        system->identity, system->uptime.value_or(std::chrono::seconds(0))));
    if (!again.ok() || again->identity.software_version != system->identity.software_version) std::abort();
  }

  auto status = polycom::parseSystemStatus(body);
  check(status);
  if (status.ok()) check(polycom::parseSystemStatus(polycom::buildSystemStatusJson(status->h323, status->sip)));

  auto conferences = polycom::parseConferences(body);
  check(conferences);
  if (conferences.ok()) {
    auto again = polycom::parseConferences(polycom::buildConferencesJson(*conferences));
    if (!again.ok() || again->size() != conferences->size()) std::abort();
  }

  auto config = polycom::parseConfigBody(body);
  check(config);
  if (config.ok()) {
    const std::string rebuilt = polycom::configBody(*config);
    if (!rebuilt.empty()) {
      auto again = polycom::parseConfigBody(rebuilt);
      if (!again.ok() || again->sip_uri != config->sip_uri) std::abort();
    }
  }
  return 0;
}
