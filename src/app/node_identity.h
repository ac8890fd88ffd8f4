// What a node remembers in its data dir: the installation it belongs to. A node refuses to run
// against a database that holds another installation.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "config/config.h"
#include "store/store.h"

namespace atrium::app {

struct NodeMembership {
  std::string installation_id;
  std::string installation_name;
  std::string joined_at;  // RFC 3339
};

std::filesystem::path membershipPath(const std::filesystem::path& data_dir);

// nullopt when the node has joined no installation yet; an error when the file is unreadable.
Result<std::optional<NodeMembership>> readMembership(const std::filesystem::path& data_dir);

// Written atomically (temporary file, fsync, rename).
Status writeMembership(const std::filesystem::path& data_dir, const NodeMembership& membership);

// Checks this node may serve the installation the database holds, recording it in the data dir
// on first use. Refuses (kConflict, naming both ids) a database holding another installation.
Result<store::Installation> checkMembership(store::Store& store, const config::Config& cfg, const Clock& clock);

}  // namespace atrium::app
