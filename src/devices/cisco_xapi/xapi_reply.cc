#include "devices/cisco_xapi/xapi_reply.h"

#include <algorithm>
#include <cctype>

namespace atrium::devices::cisco_xapi {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string trimmed(std::string s) {
  auto notSpace = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), notSpace));
  s.erase(std::find_if(s.rbegin(), s.rend(), notSpace).base(), s.end());
  return s;
}

// The first descendant (breadth-limited to the error element's subtree) with this local name.
std::string findText(pugi::xml_node node, std::string_view local, int depth = 0) {
  if (depth > 4) return {};
  for (pugi::xml_node child : node.children()) {
    if (child.type() != pugi::node_element) continue;
    if (localName(child) == local) {
      std::string text = trimmed(ownText(child));
      if (!text.empty()) return text;
    }
    std::string deeper = findText(child, local, depth + 1);
    if (!deeper.empty()) return deeper;
  }
  return {};
}

bool isErrorElement(pugi::xml_node node, std::string& status) {
  status = attributeValue(node, "status");
  std::string s = lower(status);
  if (s == "error" || s == "parametererror") return true;
  if (localName(node) == "ParameterError") {
    status = "ParameterError";
    return true;
  }
  return false;
}

pugi::xml_node findErrorElement(pugi::xml_node node, int depth, std::string& status) {
  if (isErrorElement(node, status)) return node;
  if (depth >= 3) return {};
  for (pugi::xml_node child : node.children()) {
    if (child.type() != pugi::node_element) continue;
    if (pugi::xml_node found = findErrorElement(child, depth + 1, status)) return found;
  }
  return {};
}

}  // namespace

Status checkXapiReply(pugi::xml_node root, std::string_view what) {
  std::string status;
  pugi::xml_node error = findErrorElement(root, 0, status);
  if (!error) return okStatus();
  std::string reason = findText(error, "Reason");
  if (reason.empty()) reason = findText(error, "Description");
  if (reason.empty()) reason = findText(error, "Cause");
  if (reason.empty()) reason = trimmed(ownText(error));
  std::string xpath = findText(error, "XPath");
  std::string parameter = findText(error, "Parameter");
  if (parameter.empty()) parameter = findText(error, "Name");

  std::string message = std::string(what) + ": the device answered " + status + " in <" +
                        std::string(localName(error)) + ">";
  if (!reason.empty()) message += ": " + reason;
  if (!parameter.empty()) message += " (parameter " + parameter + ")";
  if (!xpath.empty()) message += " (path " + xpath + ")";
  std::string field = !parameter.empty() ? parameter : xpath;
  if (lower(reason).find("no match") != std::string::npos) {
    return Error{ErrorCode::kNotFound, std::move(message), std::move(field)};
  }
  return Error::invalid(std::move(message), std::move(field));
}

Result<XmlDocument> parseXapiReply(std::string_view body, std::string_view what,
                                   const XmlLimits& limits) {
  auto doc = XmlDocument::parse(body, what, limits);
  if (!doc.ok()) return doc.error();
  ATRIUM_TRY(checkXapiReply(doc->root(), what));
  return doc;
}

}  // namespace atrium::devices::cisco_xapi
