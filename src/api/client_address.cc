#include "api/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace atrium::api {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string canonicalIp(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return {};
  const std::string s(text);
  char out[INET6_ADDRSTRLEN] = {};
  in_addr a4{};
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    return inet_ntop(AF_INET, &a4, out, sizeof(out)) != nullptr ? std::string(out) : std::string();
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, s.c_str(), &a6) != 1) return {};
  if (IN6_IS_ADDR_V4MAPPED(&a6)) {
    std::memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
    return inet_ntop(AF_INET, &a4, out, sizeof(out)) != nullptr ? std::string(out) : std::string();
  }
  return inet_ntop(AF_INET6, &a6, out, sizeof(out)) != nullptr ? std::string(out) : std::string();
}

TrustedProxies::TrustedProxies(const std::vector<std::string>& addresses) {
  for (const auto& a : addresses) {
    std::string c = canonicalIp(a);
    if (!c.empty()) addresses_.push_back(std::move(c));
  }
}

bool TrustedProxies::trusts(std::string_view peer) const {
  if (addresses_.empty()) return false;
  const std::string c = canonicalIp(peer);
  return !c.empty() && std::find(addresses_.begin(), addresses_.end(), c) != addresses_.end();
}

std::string TrustedProxies::clientAddress(
    std::string_view peer, const std::vector<std::string_view>& forwarded_for) const {
  if (forwarded_for.empty() || !trusts(peer)) return std::string(peer);
  std::string_view last = forwarded_for.back();
  if (auto comma = last.rfind(','); comma != std::string_view::npos) last = last.substr(comma + 1);
  std::string client = canonicalIp(last);
  return client.empty() ? std::string(peer) : client;
}

}  // namespace atrium::api
