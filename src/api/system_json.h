// Systems as the API reads and writes them. Parsing and validation are pure functions so that
// the fuzz target and the unit tests call them without a server.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "store/types.h"

namespace atrium::api {

// POST /api/v1/systems. Required: name, family, addresses. Optional: model, folder_id (UUID or
// null), connectivity (default reachable-lan), serial_number (or null), software_version,
// credentials {"username","password"}. Read-only fields (id, status, ...) and unknown fields are
// rejected by name.
Result<store::System> parseSystemCreate(std::string_view body);

// PATCH /api/v1/systems/{id}: the same fields, all optional; null clears folder_id,
// serial_number and (as "credentials": null) both credentials.
Result<store::SystemPatch> parseSystemPatch(std::string_view body);

// POST /api/v1/systems/{id}/move: {"folder_id": "<uuid>" | null}. Returns the target folder
// (nullopt: unfiled).
Result<std::optional<std::string>> parseSystemMove(std::string_view body);

// The answer for one system. Credentials appear only as {"set": true|false}.
nlohmann::json systemToJson(const store::System& system);

}  // namespace atrium::api
