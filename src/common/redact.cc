#include "common/redact.h"

namespace atrium {
namespace {

constexpr std::string_view kFeedbackPath = "/feedback/";
constexpr std::size_t kSecretChars = 32;

bool isHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Where the secret after the path at `at` ends, or npos when no secret follows it.
std::size_t secretEnd(std::string_view text, std::size_t at) {
  std::size_t begin = at + kFeedbackPath.size();
  std::size_t end = begin;
  while (end < text.size() && isHex(text[end])) ++end;
  // Feedback secrets are 32 hex digits; a longer run is redacted too (it holds one).
  return end - begin >= kSecretChars ? end : std::string_view::npos;
}

}  // namespace

bool holdsSecret(std::string_view text) {
  for (std::size_t at = text.find(kFeedbackPath); at != std::string_view::npos;
       at = text.find(kFeedbackPath, at + 1)) {
    if (secretEnd(text, at) != std::string_view::npos) return true;
  }
  return false;
}

std::string redactSecrets(std::string_view text) {
  if (!holdsSecret(text)) return std::string(text);
  std::string out;
  out.reserve(text.size());
  std::size_t from = 0;
  for (std::size_t at = text.find(kFeedbackPath); at != std::string_view::npos;
       at = text.find(kFeedbackPath, at + 1)) {
    std::size_t end = secretEnd(text, at);
    if (end == std::string_view::npos) continue;
    out.append(text.substr(from, at + kFeedbackPath.size() - from));
    out.append(kRedactedSecret);
    from = end;
    at = end - 1;
  }
  out.append(text.substr(from));
  return out;
}

}  // namespace atrium
