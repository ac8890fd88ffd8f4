#include "cluster/rendezvous.h"

#include <fmt/format.h>

namespace atrium::cluster {

std::uint64_t stableHash(std::string_view text) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  // splitmix64's finaliser spreads FNV's weak low bits.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

std::string ownerOf(int bucket, const std::vector<std::string>& node_ids) {
  std::string best;
  std::uint64_t best_weight = 0;
  for (const auto& id : node_ids) {
    const std::uint64_t weight = stableHash(fmt::format("{}/{}", id, bucket));
    if (best.empty() || weight > best_weight || (weight == best_weight && id < best)) {
      best = id;
      best_weight = weight;
    }
  }
  return best;
}

std::vector<int> bucketsOwnedBy(const std::string& node_id, const std::vector<std::string>& node_ids,
                                int bucket_count) {
  std::vector<int> out;
  for (int b = 0; b < bucket_count; ++b) {
    if (ownerOf(b, node_ids) == node_id) out.push_back(b);
  }
  return out;
}

}  // namespace atrium::cluster
