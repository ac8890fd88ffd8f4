// The fleet as JSON: what `atrium-sim --manifest` writes and its control API lists. An array of
// objects with the fields of SimulatedSystem, same names.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "sim/fleet.h"

namespace atrium::sim {

nlohmann::json manifestJson(const std::vector<SimulatedSystem>& systems);
Result<std::vector<SimulatedSystem>> parseManifest(const nlohmann::json& manifest);

}  // namespace atrium::sim
