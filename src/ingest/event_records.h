// Events as the ingest pipeline stores them: what a feedback post or a trap becomes
// (store::StoredEvent with a JSON payload), the call-record changes those events imply, and the
// spool's record format for a batch.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "devices/types.h"
#include "ingest/snmp_trap.h"
#include "store/device_types.h"

namespace atrium::ingest {

// Where an event came from, as the receiving node saw it.
struct Reception {
  std::optional<std::string> system_id;
  std::string node;
  std::string source_address;  // the peer's IP
  store::TimePoint received_at;
};

// A parsed device event (feedback or bridge notification). Payload:
// {"values":[[path,value],...], "identity":{...non-empty fields}, "call":{...}, "cause_value",
//  "cause_string"} (the last three for call events).
store::StoredEvent storedDeviceEvent(const devices::DeviceEvent& event, std::string source,
                                     const Reception& reception);

// A trap: kind from classifyTrap, payload {"trap_oid","uptime","version","varbinds":[...]} and
// an idempotency key over (source address, trap OID, uptime, varbinds).
store::StoredEvent storedTrapEvent(const SnmpTrap& trap, const Reception& reception);
std::string trapIdempotencyKey(const SnmpTrap& trap);

// The call records the events of a batch open or close: feedback call-connected /
// call-disconnected, Polycom call-up / call-down traps. Events without a system imply nothing.
std::vector<store::CallUpdate> callUpdatesFor(const std::vector<store::StoredEvent>& events);

// One spool record per batch (JSON), and back.
std::string encodeBatch(const std::vector<store::StoredEvent>& events);
Result<std::vector<store::StoredEvent>> decodeBatch(std::string_view record);

}  // namespace atrium::ingest
