// What a node remembers in its data dir: the installation it belongs to, and its own node id (the
// same across restarts, so the node registry keeps one row per node). A node refuses to run
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
  std::string node_id;    // generated on first use (nodeIdFor); "" in files written before it
};

std::filesystem::path membershipPath(const std::filesystem::path& data_dir);

// nullopt when the node has joined no installation yet; an error when the file is unreadable.
Result<std::optional<NodeMembership>> readMembership(const std::filesystem::path& data_dir);

// Written atomically (temporary file, fsync, rename).
Status writeMembership(const std::filesystem::path& data_dir, const NodeMembership& membership);

// This node's id, kept in the membership file: generated (a UUID) and written on first use.
// The node must have joined an installation (checkMembership) first.
Result<std::string> nodeIdFor(const std::filesystem::path& data_dir);

// Checks this node may serve the installation the database holds, recording it in the data dir
// on first use. Refuses (kConflict, naming both ids) a database holding another installation.
Result<store::Installation> checkMembership(store::Store& store, const config::Config& cfg, const Clock& clock);

}  // namespace atrium::app
