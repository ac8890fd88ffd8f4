// The XML plumbing shared by the device documents: parsing untrusted input with limits, matching
// elements by local name (namespaces ignored), flattening a tree into path/value pairs and
// building a tree back from them. Paths look like "SIP/Proxy[1]/Address": element local names
// joined by '/', with the xAPI `item` attribute as "[n]"; the root element is not part of a path.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "devices/types.h"

namespace atrium::devices {

struct XmlLimits {
  std::size_t max_bytes = 8u << 20;        // larger input is refused before parsing
  int max_depth = 48;                      // element nesting
  std::size_t max_nodes = 500'000;         // elements, text and attributes together
  std::size_t max_name_bytes = 256;        // one element or attribute name
  std::size_t max_flat_bytes = 64u << 20;  // total size of flattened paths and values
};

// A parsed document that passed the limits. Movable, not copyable.
class XmlDocument {
 public:
  // `what` names the document in error messages ("status.xml", "XML-RPC response").
  // With keep_blank_text, text consisting only of whitespace is kept when it is an element's only
  // child (XML-RPC strings); otherwise it is dropped (indentation in xAPI documents).
  static Result<XmlDocument> parse(std::string_view text, std::string_view what,
                                   const XmlLimits& limits = {}, bool keep_blank_text = false);

  pugi::xml_node root() const { return doc_->document_element(); }
  const XmlLimits& limits() const { return limits_; }

 private:
  XmlDocument(std::unique_ptr<pugi::xml_document> doc, XmlLimits limits)
      : doc_(std::move(doc)), limits_(limits) {}

  std::unique_ptr<pugi::xml_document> doc_;
  XmlLimits limits_;
};

// The element's name without a namespace prefix.
std::string_view localName(pugi::xml_node node);
// The first child element with this local name (null node if none).
pugi::xml_node childNamed(pugi::xml_node node, std::string_view local);
// All child elements with this local name, in document order.
std::vector<pugi::xml_node> childrenNamed(pugi::xml_node node, std::string_view local);
// Follows local names from `node` (first match at each step); empty if any step is missing.
std::string textAt(pugi::xml_node node, std::initializer_list<std::string_view> path);
// The element's own text (its text and CDATA children), untrimmed.
std::string ownText(pugi::xml_node node);
// An attribute matched by local name; empty if absent.
std::string attributeValue(pugi::xml_node node, std::string_view local);
// The `item` attribute as a positive integer, 0 if absent or not a number.
int itemNumber(pugi::xml_node node);

// Leaves under `node` (not including its own name) as path/value pairs in document order. A leaf
// marked ghost="True" (an xAPI element that has gone away) yields "<path>/ghost" = "True".
Result<std::vector<PathValue>> flattenXml(pugi::xml_node node, const XmlLimits& limits = {});

// Adds the element chain for `path` under `root` (reusing existing elements with the same local
// name and item) and sets the last element's text; "<path>/ghost" = "True" marks the element
// ghost="True" instead. Invalid paths are an invalid-argument error.
Status addXmlPath(pugi::xml_node root, std::string_view path, std::string_view value);

// One path segment: "Proxy[2]" -> {"Proxy", 2}; item 0 when there is no index.
struct PathSegment {
  std::string name;
  int item = 0;
};
Result<std::vector<PathSegment>> splitXmlPath(std::string_view path);
std::string joinXmlPath(const std::vector<PathSegment>& segments);

// Serialises with an XML declaration and indentation (documents served by the simulator) or
// compactly without a declaration (request bodies).
std::string serializeXml(const pugi::xml_document& doc, bool pretty);

}  // namespace atrium::devices
