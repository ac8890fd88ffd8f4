// What a node remembers in its data dir: the installation it belongs to. A node refuses to run
// against a database that holds another installation.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/result.h"

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

}  // namespace atrium::app
