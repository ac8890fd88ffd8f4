#include "services/feedback_url.h"

#include <fmt/format.h>

namespace atrium::services {

std::optional<std::string> serverHostFor(const store::ServerAddresses& a, const std::string& connectivity,
                                         bool system_uses_ipv6) {
  if (connectivity == "reachable-lan") {
    if (!a.lan_fqdn.empty()) return a.lan_fqdn;
    if (system_uses_ipv6 && !a.lan_ipv6.empty()) return "[" + a.lan_ipv6 + "]";
    if (!a.lan_ipv4.empty()) return a.lan_ipv4;
    if (!a.lan_ipv6.empty()) return "[" + a.lan_ipv6 + "]";
    return std::nullopt;
  }
  if (connectivity == "reachable-public" || connectivity == "behind-firewall") {
    if (!a.public_fqdn.empty()) return a.public_fqdn;
    if (!a.public_ipv4.empty()) return a.public_ipv4;
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::string> feedbackUrlFor(const store::ServerAddresses& addresses,
                                          const store::ManagedSystem& system) {
  const auto& addrs = system.system.addresses;
  const bool v6 = !addrs.empty() && addrs.front().find(':') != std::string::npos;
  auto host = serverHostFor(addresses, system.system.connectivity, v6);
  if (!host) return std::nullopt;
  return fmt::format("http://{}:{}/feedback/{}", *host, addresses.http_port, system.feedback_secret);
}

}  // namespace atrium::services
