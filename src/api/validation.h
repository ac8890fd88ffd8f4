// Checks of single values that the API accepts, as pure functions. Each error is an
// invalid_argument naming the field and saying what is expected.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "common/result.h"

namespace atrium::api {

inline constexpr std::array<std::string_view, 4> kFamilies = {"cisco-xapi", "cisco-mcu", "polycom",
                                                              "snmp"};
inline constexpr std::array<std::string_view, 4> kConnectivities = {
    "reachable-lan", "reachable-public", "behind-firewall", "inaccessible"};

inline constexpr std::size_t kMaxNameChars = 255;
inline constexpr std::size_t kMaxTextChars = 255;
inline constexpr std::size_t kMaxPasswordChars = 1024;
inline constexpr std::size_t kMaxAddresses = 32;

// The value as a JSON string literal (quotes and escapes), for messages.
std::string jsonQuote(std::string_view value);

// "a, b, c".
template <std::size_t N>
std::string joinNames(const std::array<std::string_view, N>& names) {
  std::string out;
  for (auto n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// Length in Unicode code points of valid UTF-8.
std::size_t utf8Length(std::string_view s);
// True if s holds a C0 or C1 control character or DEL.
bool hasControlCharacters(std::string_view s);

// A display name: 1..max characters, no control characters.
Status validateName(std::string_view value, std::string_view field,
                    std::size_t max = kMaxNameChars);
// Free text that may be empty: at most max characters, no control characters.
Status validateText(std::string_view value, std::string_view field,
                    std::size_t max = kMaxTextChars);
Status validateFamily(std::string_view value, std::string_view field = "family");
Status validateConnectivity(std::string_view value, std::string_view field = "connectivity");

bool isIpv4(std::string_view s);
bool isIpv6(std::string_view s);  // without brackets
// RFC 1123 host name: labels of 1..63 letters, digits and '-', not starting or ending with '-',
// at most 253 characters; the last label is not all digits (that would be a bad IPv4 address).
bool isHostName(std::string_view s);
// An address as stored: IPv4, IPv6 (surrounding brackets removed) or a host name. `field` names
// the element in the message (e.g. "addresses[2]").
Result<std::string> normalizeAddress(std::string_view value, std::string_view field);

// Persistent settings of a system; the empty string (no value) is accepted by each.
// H.323 ID: printable ASCII, at most 64 characters.
Status validateH323Id(std::string_view value, std::string_view field = "h323_id");
// E.164 alias: digits only, at most 15.
Status validateE164(std::string_view value, std::string_view field = "e164_alias");
// SIP URI: optional "sip:" or "sips:", then user@host (host a name, IPv4 or [IPv6]), at most
// 255 characters.
Status validateSipUri(std::string_view value, std::string_view field = "sip_uri");

// Canonical UUID text: 8-4-4-4-12 hex digits.
bool isUuid(std::string_view s);
Status validateUuid(std::string_view value, std::string_view field);

}  // namespace atrium::api
