// The address of the system or user behind a request. Behind a load balancer the TCP peer is the
// balancer; it names the real client in X-Forwarded-For (nginx: `proxy_add_x_forwarded_for`
// appends the address it saw to whatever the client sent). Only the balancer's own entry, the
// last one, can be believed, and only when the peer is a balancer the administrator listed in
// api.trusted_proxies: anyone else could write any X-Forwarded-For they like.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace atrium::api {

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // IP literals (IPv4, or IPv6 without brackets); entries that are not are ignored (the
  // configuration has already refused them).
  explicit TrustedProxies(const std::vector<std::string>& addresses);

  bool empty() const { return addresses_.empty(); }
  bool trusts(std::string_view peer) const;

  // `peer` itself unless it is trusted and the last entry of the X-Forwarded-For values (each
  // a comma-separated list, in the order the header lines came) is an IP literal; then that
  // entry, in canonical form.
  std::string clientAddress(std::string_view peer,
                            const std::vector<std::string_view>& forwarded_for) const;

 private:
  std::vector<std::string> addresses_;  // canonical form
};

// The canonical text of an IP literal ("::ffff:10.0.0.1" and "10.0.0.1" are both "10.0.0.1",
// IPv6 compressed and lowercase); "" when `text` is not one.
std::string canonicalIp(std::string_view text);

}  // namespace atrium::api
