// Feeds arbitrary bytes to the simulator's SNMP request decoder (net-snmp's own PDU parser behind
// it) and dotted OIDs to parseOid. A datagram must decode or give an error that says why, never
// crash; what decodes must answer (encodeSnmpResponse) and the answer must decode again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sim/snmp_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sim = atrium::sim;
  (void)sim::oidText(sim::parseOid(std::string_view(reinterpret_cast<const char*>(data), size)));

  auto request = sim::decodeSnmpRequest(data, size);
  if (!request.ok()) {
    if (request.error().message.empty()) std::abort();
    return 0;
  }
  std::vector<sim::SnmpBinding> bindings;
  for (const auto& oid : request->oids) {
    if (oid.size() >= 2 && oid.size() <= 128) bindings.push_back({oid, sim::SnmpValue::integer(1)});
  }
  auto answer = sim::encodeSnmpResponse(*request, bindings);
  if (!answer.ok()) {
    if (answer.error().message.empty()) std::abort();
    return 0;
  }
  // A response is not a request the agent serves, but it must parse as a message again.
  auto again = sim::decodeSnmpRequest(reinterpret_cast<const std::uint8_t*>(answer->data()), answer->size());
  if (!again.ok() || again->community != request->community) std::abort();
  return 0;
}
