// Any xAPI document as a flat list of path/value pairs: what getxml answers for an arbitrary
// location (GET /getxml?location=/Status/SystemUnit), or a document Atrium has no typed view of.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "devices/types.h"
#include "devices/xml_tree.h"

namespace atrium::devices::cisco_xapi {

struct XapiTree {
  std::string root;               // local name of the root: "Status", "Configuration", ...
  std::vector<PathValue> values;  // leaves below the root, in document order

  // The value at exactly `path`, or empty.
  std::string value(std::string_view path) const;
  // The pairs whose path starts with `prefix` followed by '/' or '[' or the end.
  std::vector<PathValue> under(std::string_view prefix) const;
};

// Parses a getxml answer. Error replies sent with HTTP 200 become errors.
Result<XapiTree> parseGetxml(std::string_view body, const XmlLimits& limits = {});

}  // namespace atrium::devices::cisco_xapi
