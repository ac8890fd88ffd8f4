// Which systems this node polls and monitors. A single node owns every system; the cluster issue
// plugs in an implementation that divides systems into buckets leased by live nodes.
#pragma once

#include <string>

namespace atrium::services {

class Ownership {
 public:
  virtual ~Ownership() = default;
  virtual bool owns(const std::string& system_id) const = 0;
};

class OwnEverything final : public Ownership {
 public:
  bool owns(const std::string& /*system_id*/) const override { return true; }
};

}  // namespace atrium::services
