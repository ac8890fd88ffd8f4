#include "api/validation.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace atrium::api {

std::string jsonQuote(std::string_view value) {
  return nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::size_t utf8Length(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool hasControlCharacters(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    // U+0080..U+009F are encoded as C2 80..C2 9F.
    if (c == 0xC2 && i + 1 < s.size()) {
      auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return true;
    }
  }
  return false;
}

Status validateName(std::string_view value, std::string_view field, std::size_t max) {
  std::size_t n = utf8Length(value);
  if (n == 0 || n > max) {
    return Error::invalid(jsonQuote(field) + " must be 1 to " + std::to_string(max) +
                              " characters long (got " + std::to_string(n) + ")",
                          std::string(field));
  }
  if (hasControlCharacters(value)) {
    return Error::invalid(jsonQuote(field) + " must not contain control characters",
                          std::string(field));
  }
  return okStatus();
}

Status validateText(std::string_view value, std::string_view field, std::size_t max) {
  std::size_t n = utf8Length(value);
  if (n > max) {
    return Error::invalid(jsonQuote(field) + " must be at most " + std::to_string(max) +
                              " characters long (got " + std::to_string(n) + ")",
                          std::string(field));
  }
  if (hasControlCharacters(value)) {
    return Error::invalid(jsonQuote(field) + " must not contain control characters",
                          std::string(field));
  }
  return okStatus();
}

Status validateFamily(std::string_view value, std::string_view field) {
  if (std::find(kFamilies.begin(), kFamilies.end(), value) != kFamilies.end()) return okStatus();
  return Error::invalid(jsonQuote(field) + " must be one of " + joinNames(kFamilies) + " (got " +
                            jsonQuote(value) + ")",
                        std::string(field));
}

Status validateConnectivity(std::string_view value, std::string_view field) {
  if (std::find(kConnectivities.begin(), kConnectivities.end(), value) != kConnectivities.end()) {
    return okStatus();
  }
  return Error::invalid(jsonQuote(field) + " must be one of " + joinNames(kConnectivities) +
                            " (got " + jsonQuote(value) + ")",
                        std::string(field));
}

bool isIpv4(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  std::string text(s);
  in_addr out{};
  return inet_pton(AF_INET, text.c_str(), &out) == 1;
}

bool isIpv6(std::string_view s) {
  if (s.empty() || s.size() > 45) return false;
  std::string text(s);
  in6_addr out{};
  return inet_pton(AF_INET6, text.c_str(), &out) == 1;
}

bool isHostName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t start = 0;
  std::string_view last;
  while (start <= s.size()) {
    std::size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !std::all_of(last.begin(), last.end(),
                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

Result<std::string> normalizeAddress(std::string_view value, std::string_view field) {
  if (value.size() >= 2 && value.front() == '[' && value.back() == ']') {
    std::string_view inner = value.substr(1, value.size() - 2);
    if (isIpv6(inner)) return std::string(inner);
  } else if (isIpv4(value) || isIpv6(value) || isHostName(value)) {
    return std::string(value);
  }
  return Error::invalid(jsonQuote(field) + " (" + jsonQuote(value) +
                            ") is not an IPv4 address, an IPv6 address or an RFC 1123 host name",
                        "addresses");
}

bool isUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

Status validateUuid(std::string_view value, std::string_view field) {
  if (isUuid(value)) return okStatus();
  return Error::invalid(jsonQuote(field) +
                            " must be a UUID like 0b9f5c2e-8a3d-4f7e-9c1a-2d4e6f8a0b1c" + " (got " +
                            jsonQuote(value) + ")",
                        std::string(field));
}

Status validateH323Id(std::string_view value, std::string_view field) {
  bool printable = std::all_of(value.begin(), value.end(),
                               [](char c) { return c >= 0x20 && c < 0x7f; });
  if (value.size() > 64 || !printable) {
    return Error::invalid(jsonQuote(field) + " must be at most 64 printable ASCII characters (got " +
                              jsonQuote(value) + ")",
                          std::string(field));
  }
  return okStatus();
}

Status validateE164(std::string_view value, std::string_view field) {
  bool digits = std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (value.size() > 15 || !digits) {
    return Error::invalid(jsonQuote(field) + " must be at most 15 digits (got " + jsonQuote(value) +
                              ")",
                          std::string(field));
  }
  return okStatus();
}

Status validateSipUri(std::string_view value, std::string_view field) {
  if (value.empty()) return okStatus();
  auto fail = [&] {
    return Error::invalid(jsonQuote(field) +
                              " must be a SIP URI: user@host, optionally with sip: or sips: (got " +
                              jsonQuote(value) + ")",
                          std::string(field));
  };
  if (value.size() > kMaxTextChars || hasControlCharacters(value)) return fail();
  std::string_view rest = value;
  if (rest.starts_with("sips:")) {
    rest.remove_prefix(5);
  } else if (rest.starts_with("sip:")) {
    rest.remove_prefix(4);
  }
  auto at = rest.find('@');
  if (at == std::string_view::npos || at == 0 || rest.find('@', at + 1) != std::string_view::npos) {
    return fail();
  }
  std::string_view user = rest.substr(0, at);
  std::string_view host = rest.substr(at + 1);
  if (user.find_first_of(" \t<>\"") != std::string_view::npos) return fail();
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    if (!isIpv6(host.substr(1, host.size() - 2))) return fail();
  } else if (!isIpv4(host) && !isHostName(host)) {
    return fail();
  }
  return okStatus();
}

}  // namespace atrium::api
