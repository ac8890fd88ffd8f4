#include "devices/cisco_xapi/xapi_tree.h"

#include "devices/cisco_xapi/xapi_reply.h"

namespace atrium::devices::cisco_xapi {

std::string XapiTree::value(std::string_view path) const {
  for (const auto& [p, v] : values) {
    if (p == path) return v;
  }
  return {};
}

std::vector<PathValue> XapiTree::under(std::string_view prefix) const {
  std::vector<PathValue> out;
  for (const auto& pv : values) {
    std::string_view p = pv.first;
    if (p.substr(0, prefix.size()) != prefix) continue;
    if (p.size() == prefix.size() || p[prefix.size()] == '/' || p[prefix.size()] == '[') {
      out.push_back(pv);
    }
  }
  return out;
}

Result<XapiTree> parseGetxml(std::string_view body, const XmlLimits& limits) {
  auto doc = parseXapiReply(body, "getxml", limits);
  if (!doc.ok()) return doc.error();
  auto flat = flattenXml(doc->root(), limits);
  if (!flat.ok()) return Error::invalid("getxml: " + flat.error().message);
  XapiTree tree;
  tree.root = std::string(localName(doc->root()));
  tree.values = std::move(*flat);
  return tree;
}

}  // namespace atrium::devices::cisco_xapi
