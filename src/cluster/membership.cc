#include "cluster/membership.h"

#include <algorithm>
#include <cmath>

namespace atrium::cluster {

std::vector<std::string> bucketHolders(const std::vector<store::NodeRecord>& nodes) {
  std::vector<std::string> out;
  for (const auto& n : nodes) {
    if (!n.alive || n.node.role != "active") continue;
    if (n.node.state != "starting" && n.node.state != "active") continue;
    out.push_back(n.node.id);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool leaseStillHeld(std::chrono::steady_clock::time_point renewal_sent,
                    std::chrono::milliseconds ttl, std::chrono::milliseconds heartbeat,
                    std::chrono::steady_clock::time_point now) {
  return renewal_sent + ttl - heartbeat > now;
}

void RttWindow::add(double ms) {
  samples_.push_back(ms);
  while (samples_.size() > capacity_) samples_.pop_front();
}

double RttWindow::percentile(double p) const {
  if (samples_.empty()) return 0;
  std::vector<double> sorted(samples_.begin(), samples_.end());
  std::sort(sorted.begin(), sorted.end());
  // Nearest rank: the smallest sample with at least p% of the samples at or below it.
  const double rank =
      std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(sorted.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace atrium::cluster
