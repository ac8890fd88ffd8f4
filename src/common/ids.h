#pragma once

#include <string>

namespace atrium {

// A random (version 4) UUID in its canonical lower-case text form.
std::string newUuid();

// n random bytes as lower-case hex (2n characters), from the OS's CSPRNG.
std::string randomHex(std::size_t n);

}  // namespace atrium
