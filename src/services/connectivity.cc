#include "services/connectivity.h"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace atrium::services {
namespace {

std::string normalised(std::string address) {
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') address = address.substr(1, address.size() - 2);
  // An IPv4 address seen through an IPv6 socket.
  if (address.rfind("::ffff:", 0) == 0 && address.find('.') != std::string::npos) address = address.substr(7);
  return address;
}

}  // namespace

bool isPrivateAddress(const std::string& text) {
  const std::string address = normalised(text);
  in_addr a4{};
  if (inet_pton(AF_INET, address.c_str(), &a4) == 1) {
    const std::uint32_t ip = ntohl(a4.s_addr);
    const auto in = [ip](std::uint32_t net, int bits) { return (ip >> (32 - bits)) == (net >> (32 - bits)); };
    return in(0x0A000000, 8) ||    // 10/8
           in(0xAC100000, 12) ||   // 172.16/12
           in(0xC0A80000, 16) ||   // 192.168/16
           in(0x64400000, 10) ||   // 100.64/10 (carrier-grade NAT)
           in(0x7F000000, 8) ||    // loopback
           in(0xA9FE0000, 16);     // link-local
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, address.c_str(), &a6) == 1) {
    const auto* b = a6.s6_addr;
    static const std::array<unsigned char, 16> kLoopback = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return (b[0] & 0xfe) == 0xfc ||                    // fc00::/7 unique local
           (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) ||  // fe80::/10 link-local
           std::memcmp(b, kLoopback.data(), 16) == 0;
  }
  return false;  // a host name: not an address we can judge
}

std::optional<std::string> suggestedConnectivity(const std::string& reported_address,
                                                 const std::string& source_address) {
  const std::string reported = normalised(reported_address);
  const std::string source = normalised(source_address);
  if (reported.empty() || source.empty()) return std::nullopt;
  if (reported != source) return std::string("behind-firewall");
  return std::string(isPrivateAddress(reported) ? "reachable-lan" : "reachable-public");
}

std::optional<std::string> ConnectivitySettler::observe(const std::string& system_id, const std::string& current,
                                                        const std::string& reported_address,
                                                        const std::string& source_address) {
  if (current == "inaccessible") return std::nullopt;
  auto suggested = suggestedConnectivity(reported_address, source_address);
  std::lock_guard lock(mu_);
  if (!suggested || *suggested == current) {
    pending_.erase(system_id);
    return std::nullopt;
  }
  auto it = pending_.find(system_id);
  if (it != pending_.end() && it->second == *suggested) {
    pending_.erase(it);
    return suggested;
  }
  pending_[system_id] = *suggested;
  return std::nullopt;
}

}  // namespace atrium::services
