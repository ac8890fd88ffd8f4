// Timestamps as devices write them.
#pragma once

#include <optional>
#include <string_view>

#include "devices/types.h"

namespace atrium::devices {

// Parses ISO 8601 / RFC 3339 date-times as Cisco and Polycom devices write them:
// "2021-03-02T14:06:31-0500", "2017-09-13T18:53:56Z", "2024-01-05T10:00:00.250+01:00", and the
// XML-RPC form "20240105T10:00:00" (no zone: taken as UTC). nullopt if it is none of these.
std::optional<TimePoint> parseDeviceTime(std::string_view text);

}  // namespace atrium::devices
