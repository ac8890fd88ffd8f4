// The HTTP client's answer parsing (net/http_client.h parseHttpAnswer: the very parser settings
// and limits the client uses on a socket) fed arbitrary status lines, headers and bodies. The
// first byte picks the limits and whether the request was a HEAD. Nothing may crash or allocate
// beyond the limits; what parses must respect them, and every refusal over a limit names it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/http_client.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace net = atrium::net;
  if (size == 0) return 0;
  constexpr std::uint64_t kBodies[] = {0, 1, 64, 4096, 1 << 20, net::kDefaultMaxAnswerBytes};
  constexpr std::uint32_t kHeaders[] = {64, 1024, net::kDefaultMaxHeaderBytes, 1 << 20};
  net::HttpClientOptions options;
  options.max_answer_bytes = kBodies[(data[0] & 0x0f) % 6];
  options.max_header_bytes = kHeaders[(data[0] >> 4) & 3];
  const bool head = (data[0] & 0x40) != 0;
  std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);
  auto answer = net::parseHttpAnswer(wire, options, "192.0.2.1:80", head);
  if (answer.ok()) {
    if (answer->body.size() > options.max_answer_bytes) std::abort();
    if (head && !answer->body.empty()) std::abort();
  } else {
    if (answer.error().message.empty()) std::abort();
    if (answer.error().code == atrium::ErrorCode::kPayloadTooLarge &&
        answer.error().message.find("exceeds the limit of") == std::string::npos) {
      std::abort();
    }
  }
  return 0;
}
