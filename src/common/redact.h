// Secrets that device-facing text may carry, taken out before the text is logged, stored in a
// ticket or shown through the API. A system's feedback address holds its secret
// (".../feedback/<32 hex>"): whoever reads it can post as that system, so the secret is replaced
// by "<secret>" wherever such an address appears (a device's error message, a slot it reports,
// a URL Atrium built).
#pragma once

#include <string>
#include <string_view>

namespace atrium {

inline constexpr std::string_view kRedactedSecret = "<secret>";

// `text` with every feedback secret replaced; the same text when it holds none.
std::string redactSecrets(std::string_view text);
// True when `text` holds a feedback secret that redactSecrets would take out.
bool holdsSecret(std::string_view text);

}  // namespace atrium
