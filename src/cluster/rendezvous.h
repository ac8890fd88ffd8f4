// Rendezvous (highest-random-weight) hashing: which live node owns which bucket. Every node
// computes the same answer from the same list of live active nodes, so no node tells another what
// to take; when a node joins or leaves only the buckets it wins or held move.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace atrium::cluster {

// A stable 64-bit hash (FNV-1a followed by a 64-bit finaliser), the same on every node and build.
std::uint64_t stableHash(std::string_view text);

// The node among `node_ids` that owns `bucket`; "" when the list is empty.
std::string ownerOf(int bucket, const std::vector<std::string>& node_ids);

// The buckets out of `bucket_count` that `node_id` owns among `node_ids` (which should contain it).
std::vector<int> bucketsOwnedBy(const std::string& node_id, const std::vector<std::string>& node_ids,
                                int bucket_count);

}  // namespace atrium::cluster
