// Idempotency keys for device events: the same post from the same sender always yields the same
// keys, so a retried or replayed post is stored once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "devices/types.h"

namespace atrium::devices {

// SHA-256 (lower-case hex) over a versioned, length-prefixed encoding of the sender, the event's
// kind, its position in the document, the sender's identification block and the event's
// path/value pairs. `sender` is whatever the receiver knows of the origin, e.g. the system id taken
// from the feedback URL; it keeps identical posts from two systems apart.
//
// Limit: a device that posts a document byte-for-byte identical to an earlier one (no call id, no
// time, same identification) produces the same key; such a repeat carries no new information.
std::string eventIdempotencyKey(std::string_view sender, const DeviceEvent& event,
                                std::size_t index);

// SHA-256 of `data` as 64 lower-case hex characters.
std::string sha256Hex(std::string_view data);

}  // namespace atrium::devices
