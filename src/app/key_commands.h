// `atrium keys rotate` (on the database, like init) and the readable form of
// `atrium cluster check` (an API client).
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "config/config.h"

namespace atrium::app {

// Adds a new current validation key (random, or the one in `from_file`) and keeps the previous
// one valid for `grace`. Every node picks the new key up within seconds.
int runKeysRotate(const config::Config& cfg, std::chrono::hours grace,
                  const std::filesystem::path& from_file, const Clock& clock);

// Prints a GET /api/v1/cluster/diagnostics answer as a list; returns 1 when a check failed.
int printClusterCheck(const nlohmann::json& report);

}  // namespace atrium::app
