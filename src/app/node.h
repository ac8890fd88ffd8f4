// The commands that act on this node and its database: init, db migrate, serve.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "store/database.h"
#include "store/store.h"

namespace atrium::app {

// Exit codes of the atrium command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // a runtime failure (database lost at start-up, I/O)
inline constexpr int kExitRefused = 2;  // bad configuration or a refusal (wrong installation, ...)

store::DatabaseOptions databaseOptions(const config::Config& cfg);

// Creates the data dir if needed, migrates the database and creates the installation if the
// database holds none (or joins the one it holds), and records it in the data dir.
// The first administrator `atrium init` creates (a local user in "Site administrators").
struct AdminAccount {
  std::string name;
  std::string password;
};
int runInit(const config::Config& cfg, const std::string& installation_name, const Clock& clock,
            const std::optional<AdminAccount>& admin = std::nullopt);

// Applies the missing migrations.
int runMigrate(const config::Config& cfg, const Clock& clock);

// Runs the server until SIGINT or SIGTERM.
int runServe(const config::Config& cfg, const Clock& clock);

}  // namespace atrium::app
