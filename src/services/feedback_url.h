// The address a system is told to use to reach Atrium, chosen by its connectivity from the
// installation's server addresses (TMS's rule): reachable on LAN -> the LAN address (FQDN first,
// then the IPv6 address for a system reached over IPv6, then IPv4); reachable on the public
// internet or behind a firewall -> the public address (FQDN first, then IPv4); inaccessible ->
// none, the system is not given any.
#pragma once

#include <optional>
#include <string>

#include "store/device_types.h"

namespace atrium::services {

// The host part (an IPv6 literal in brackets), or nullopt when no address fits.
std::optional<std::string> serverHostFor(const store::ServerAddresses& addresses,
                                         const std::string& connectivity, bool system_uses_ipv6);

// http://host:port/feedback/<secret>, or nullopt when no address fits.
std::optional<std::string> feedbackUrlFor(const store::ServerAddresses& addresses,
                                          const store::ManagedSystem& system);

}  // namespace atrium::services
