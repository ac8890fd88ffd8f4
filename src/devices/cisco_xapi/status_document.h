// GET /status.xml (or a getxml answer under /Status) -> DeviceStatus.
#pragma once

#include <pugixml.hpp>
#include <string_view>

#include "common/result.h"
#include "devices/types.h"
#include "devices/xml_tree.h"

namespace atrium::devices::cisco_xapi {

// Parses a status document of CE/RoomOS or TC software (namespaces on the root are ignored).
// Partial documents (a getxml subtree) give partial results: what is missing stays empty.
// Error replies sent with HTTP 200 become errors.
Result<DeviceStatus> parseStatusXml(std::string_view body, const XmlLimits& limits = {});

// The same, from an already parsed <Status> element.
DeviceStatus statusFromXml(pugi::xml_node status);

}  // namespace atrium::devices::cisco_xapi
