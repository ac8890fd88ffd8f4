// Settles a system's connectivity from a boot or registration event, comparing the address the
// system reports for itself with the source address of the packet that carried the event:
//
//   reported == source, private or loopback address (RFC 1918, RFC 6598, RFC 4193, link-local)
//                                                   -> reachable-lan
//   reported == source, any other address           -> reachable-public
//   reported != source (a NAT or proxy between)     -> behind-firewall
//   nothing reported                                -> no opinion
//
// It does not flap: a system's connectivity changes only when two consecutive events agree on
// the new value, and a system an administrator marked inaccessible is never changed.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace atrium::services {

// The connectivity one observation suggests, or nullopt when it says nothing.
std::optional<std::string> suggestedConnectivity(const std::string& reported_address,
                                                 const std::string& source_address);

bool isPrivateAddress(const std::string& address);

class ConnectivitySettler {
 public:
  // Returns the connectivity to store when it should change, nullopt otherwise.
  std::optional<std::string> observe(const std::string& system_id, const std::string& current,
                                     const std::string& reported_address, const std::string& source_address);

 private:
  std::mutex mu_;
  std::map<std::string, std::string> pending_;  // system -> the change one observation suggested
};

}  // namespace atrium::services
