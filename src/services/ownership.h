// Which systems this node polls and monitors. A single node owns every system; in a cluster
// (cluster::NodeRuntime) systems are divided into buckets, each a lease held by one live node.
#pragma once

#include <optional>
#include <string>

#include "store/cluster_store.h"

namespace atrium::services {

class Ownership {
 public:
  virtual ~Ownership() = default;
  virtual bool owns(const std::string& system_id) const = 0;
  // The lease the owner's writes about this system are conditioned on; nullopt when writes need
  // no fence (a single node) or the system is not owned (then do not write).
  virtual std::optional<store::Fence> fenceFor(const std::string& /*system_id*/) const { return std::nullopt; }
};

class OwnEverything final : public Ownership {
 public:
  bool owns(const std::string& /*system_id*/) const override { return true; }
};

}  // namespace atrium::services
