#include "devices/xml_tree.h"

#include <charconv>
#include <sstream>

namespace atrium::devices {
namespace {

// What pugixml accepts in names: ASCII letters, '_', ':' and any byte of a multi-byte UTF-8
// character to start; digits, '-' and '.' as well after that.
bool isNameStart(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }

// Walks the whole tree without recursion, so hostile nesting cannot exhaust the stack.
Status checkShape(const pugi::xml_document& doc, std::string_view what, const XmlLimits& limits) {
  std::size_t nodes = 0;
  int depth = 0;
  pugi::xml_node node = doc.first_child();
  while (node) {
    ++nodes;
    if (node.type() == pugi::node_element) {
      std::size_t name_length = std::char_traits<char>::length(node.name());
      if (name_length > limits.max_name_bytes) {
        return Error::invalid(std::string(what) + ": element name longer than " +
                              std::to_string(limits.max_name_bytes) + " bytes");
      }
      for (pugi::xml_attribute a : node.attributes()) {
        ++nodes;
        if (std::char_traits<char>::length(a.name()) > limits.max_name_bytes) {
          return Error::invalid(std::string(what) + ": attribute name too long");
        }
      }
    }
    if (nodes > limits.max_nodes) {
      return Error::invalid(std::string(what) + ": more than " + std::to_string(limits.max_nodes) +
                            " XML nodes");
    }
    if (node.first_child()) {
      node = node.first_child();
      if (++depth >= limits.max_depth) {
        return Error::invalid(std::string(what) + ": XML nested deeper than " +
                              std::to_string(limits.max_depth) + " levels");
      }
      continue;
    }
    while (node && !node.next_sibling()) {
      node = node.parent();
      --depth;
      if (node == doc) return okStatus();
    }
    if (node) node = node.next_sibling();
  }
  return okStatus();
}

Status flattenInto(pugi::xml_node node, std::string& path, std::vector<PathValue>& out,
                   std::size_t& bytes, const XmlLimits& limits) {
  bool has_element_child = false;
  for (pugi::xml_node child : node.children()) {
    if (child.type() != pugi::node_element) continue;
    has_element_child = true;
    std::size_t saved = path.size();
    if (!path.empty()) path += '/';
    path += localName(child);
    if (int item = itemNumber(child); item > 0) {
      path += '[';
      path += std::to_string(item);
      path += ']';
    }
    ATRIUM_TRY(flattenInto(child, path, out, bytes, limits));
    path.resize(saved);
  }
  if (has_element_child || path.empty()) return okStatus();
  if (attributeValue(node, "ghost") == "True") {
    out.emplace_back(path + "/ghost", "True");
  } else {
    out.emplace_back(path, ownText(node));
  }
  bytes += out.back().first.size() + out.back().second.size() + 2 * sizeof(std::string);
  if (bytes > limits.max_flat_bytes) {
    return Error::invalid("document expands to more than " + std::to_string(limits.max_flat_bytes) +
                          " bytes of paths and values");
  }
  return okStatus();
}

}  // namespace

Result<XmlDocument> XmlDocument::parse(std::string_view text, std::string_view what,
                                       const XmlLimits& limits, bool keep_blank_text) {
  if (text.size() > limits.max_bytes) {
    return Error{ErrorCode::kPayloadTooLarge,
                 std::string(what) + ": " + std::to_string(text.size()) +
                     " bytes is more than the limit of " + std::to_string(limits.max_bytes),
                 {}};
  }
  auto doc = std::make_unique<pugi::xml_document>();
  unsigned int options = pugi::parse_default;
  if (keep_blank_text) options |= pugi::parse_ws_pcdata_single;
  pugi::xml_parse_result parsed =
      doc->load_buffer(text.data(), text.size(), options, pugi::encoding_utf8);
  if (!parsed) {
    return Error::invalid(std::string(what) + ": not well-formed XML (" + parsed.description() +
                          " at offset " + std::to_string(parsed.offset) + ")");
  }
  if (!doc->document_element()) {
    return Error::invalid(std::string(what) + ": no root element");
  }
  ATRIUM_TRY(checkShape(*doc, what, limits));
  return XmlDocument(std::move(doc), limits);
}

std::string_view localName(pugi::xml_node node) {
  std::string_view name = node.name();
  std::size_t colon = name.rfind(':');
  // Only a prefix before a well-formed local part is dropped ("a:1" stays whole).
  if (colon == std::string_view::npos || colon + 1 == name.size() ||
      !isNameStart(name[colon + 1])) {
    return name;
  }
  return name.substr(colon + 1);
}

pugi::xml_node childNamed(pugi::xml_node node, std::string_view local) {
  for (pugi::xml_node child : node.children()) {
    if (child.type() == pugi::node_element && localName(child) == local) return child;
  }
  return {};
}

std::vector<pugi::xml_node> childrenNamed(pugi::xml_node node, std::string_view local) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node child : node.children()) {
    if (child.type() == pugi::node_element && localName(child) == local) out.push_back(child);
  }
  return out;
}

std::string textAt(pugi::xml_node node, std::initializer_list<std::string_view> path) {
  for (std::string_view step : path) {
    node = childNamed(node, step);
    if (!node) return {};
  }
  return ownText(node);
}

std::string ownText(pugi::xml_node node) {
  std::string text;
  for (pugi::xml_node child : node.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
    }
  }
  return text;
}

std::string attributeValue(pugi::xml_node node, std::string_view local) {
  for (pugi::xml_attribute a : node.attributes()) {
    std::string_view name = a.name();
    std::size_t colon = name.rfind(':');
    if (colon != std::string_view::npos) name = name.substr(colon + 1);
    if (name == local) return a.value();
  }
  return {};
}

int itemNumber(pugi::xml_node node) {
  std::string item = attributeValue(node, "item");
  int value = 0;
  auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
  if (ec != std::errc() || end != item.data() + item.size() || value <= 0) return 0;
  return value;
}

Result<std::vector<PathValue>> flattenXml(pugi::xml_node node, const XmlLimits& limits) {
  std::vector<PathValue> out;
  std::string path;
  std::size_t bytes = 0;
  ATRIUM_TRY(flattenInto(node, path, out, bytes, limits));
  return out;
}

Result<std::vector<PathSegment>> splitXmlPath(std::string_view path) {
  std::vector<PathSegment> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return Error::invalid("empty path", "path");
  while (true) {
    std::size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    PathSegment segment;
    std::size_t bracket = part.find('[');
    std::string_view name = part.substr(0, bracket);
    if (name.empty() || !isNameStart(name.front())) {
      return Error::invalid("invalid path segment \"" + std::string(part) + "\"", "path");
    }
    for (char c : name) {
      if (!isNameChar(c)) {
        return Error::invalid("invalid path segment \"" + std::string(part) + "\"", "path");
      }
    }
    segment.name = std::string(name);
    if (bracket != std::string_view::npos) {
      std::string_view index = part.substr(bracket + 1);
      if (index.size() < 2 || index.back() != ']') {
        return Error::invalid("invalid index in \"" + std::string(part) + "\"", "path");
      }
      index.remove_suffix(1);
      auto [end, ec] = std::from_chars(index.data(), index.data() + index.size(), segment.item);
      if (ec != std::errc() || end != index.data() + index.size() || segment.item <= 0) {
        return Error::invalid("invalid index in \"" + std::string(part) + "\"", "path");
      }
    }
    segments.push_back(std::move(segment));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

std::string joinXmlPath(const std::vector<PathSegment>& segments) {
  std::string path;
  for (const PathSegment& s : segments) {
    if (!path.empty()) path += '/';
    path += s.name;
    if (s.item > 0) path += "[" + std::to_string(s.item) + "]";
  }
  return path;
}

Status addXmlPath(pugi::xml_node root, std::string_view path, std::string_view value) {
  auto segments = splitXmlPath(path);
  if (!segments.ok()) return segments.error();
  // The inverse of flattenXml's "<path>/ghost" = "True": an element marked as gone.
  bool ghost = segments->size() > 1 && segments->back().name == "ghost" &&
               segments->back().item == 0 && value == "True";
  if (ghost) segments->pop_back();
  pugi::xml_node node = root;
  for (const PathSegment& s : *segments) {
    pugi::xml_node found;
    for (pugi::xml_node child : node.children()) {
      if (child.type() == pugi::node_element && localName(child) == s.name &&
          itemNumber(child) == s.item) {
        found = child;
        break;
      }
    }
    if (!found) {
      found = node.append_child(s.name.c_str());
      if (s.item > 0) found.append_attribute("item").set_value(s.item);
    }
    node = found;
  }
  if (ghost) {
    if (!node.attribute("ghost")) node.append_attribute("ghost").set_value("True");
    return okStatus();
  }
  node.text().set(std::string(value).c_str());
  return okStatus();
}

std::string serializeXml(const pugi::xml_document& doc, bool pretty) {
  std::ostringstream out;
  if (pretty) {
    doc.save(out, "  ", pugi::format_indent, pugi::encoding_utf8);
  } else {
    doc.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  }
  return out.str();
}

}  // namespace atrium::devices
