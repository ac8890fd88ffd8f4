#include "common/ids.h"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include <fmt/format.h>

namespace atrium {
namespace {

void fillRandom(unsigned char* buf, std::size_t n) {
  if (RAND_bytes(buf, static_cast<int>(n)) != 1) {
    throw std::runtime_error("the OS random number generator failed");
  }
}

}  // namespace

std::string newUuid() {
  std::array<unsigned char, 16> b{};
  fillRandom(b.data(), b.size());
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  return fmt::format("{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                     b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
                     b[12], b[13], b[14], b[15]);
}

std::string randomHex(std::size_t n) {
  std::string bytes(n, '\0');
  fillRandom(reinterpret_cast<unsigned char*>(bytes.data()), n);
  std::string out;
  out.reserve(2 * n);
  for (unsigned char c : bytes) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace atrium
