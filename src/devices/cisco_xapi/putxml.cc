#include "devices/cisco_xapi/putxml.h"

#include <map>

#include "devices/cisco_xapi/xapi_reply.h"

namespace atrium::devices::cisco_xapi {
namespace {

Status checkValue(std::string_view name, std::string_view value) {
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      return Error::invalid("value of " + std::string(name) + " contains a control character",
                            std::string(name));
    }
  }
  return okStatus();
}

Result<std::vector<PathSegment>> commandPath(std::string_view command) {
  std::string path(command);
  for (char& c : path) {
    if (c == ' ') c = '/';
  }
  // Collapse repeated separators so "HttpFeedback  Register" works.
  std::string collapsed;
  for (char c : path) {
    if (c == '/' && (collapsed.empty() || collapsed.back() == '/')) continue;
    collapsed += c;
  }
  while (!collapsed.empty() && collapsed.back() == '/') collapsed.pop_back();
  return splitXmlPath(collapsed);
}

}  // namespace

Result<std::string> buildConfigurationPutxml(const std::vector<PathValue>& settings) {
  if (settings.empty()) return Error::invalid("no settings to change", "settings");
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("Configuration");
  for (const auto& [path, value] : settings) {
    ATRIUM_TRY(checkValue(path, value));
    ATRIUM_TRY(addXmlPath(root, path, value));
  }
  return serializeXml(doc, false);
}

Result<std::string> buildCommandPutxml(std::string_view command,
                                       const std::vector<CommandArgument>& arguments) {
  auto segments = commandPath(command);
  if (!segments.ok())
    return Error::invalid("invalid command \"" + std::string(command) + "\"", "command");
  pugi::xml_document doc;
  pugi::xml_node node = doc.append_child("Command");
  for (const PathSegment& s : *segments) {
    if (s.item > 0) return Error::invalid("a command path has no indexes", "command");
    node = node.append_child(s.name.c_str());
  }
  node.append_attribute("command").set_value("True");

  std::map<std::string, int> occurrences;
  for (const CommandArgument& a : arguments) ++occurrences[a.name];
  std::map<std::string, int> next_item;
  for (const CommandArgument& a : arguments) {
    auto name = splitXmlPath(a.name);
    if (!name.ok() || name->size() != 1 || (*name)[0].item != 0) {
      return Error::invalid("invalid argument name \"" + a.name + "\"", "arguments");
    }
    ATRIUM_TRY(checkValue(a.name, a.value));
    pugi::xml_node arg = node.append_child(a.name.c_str());
    if (occurrences[a.name] > 1) arg.append_attribute("item").set_value(++next_item[a.name]);
    arg.text().set(a.value.c_str());
  }
  return serializeXml(doc, false);
}

Result<std::string> dialCommand(std::string_view number, std::string_view protocol, int rate_kbps) {
  if (number.empty()) return Error::invalid("a number to dial is required", "number");
  std::vector<CommandArgument> args{{"Number", std::string(number)}};
  if (!protocol.empty()) args.push_back({"Protocol", std::string(protocol)});
  if (rate_kbps > 0) args.push_back({"CallRate", std::to_string(rate_kbps)});
  return buildCommandPutxml("Dial", args);
}

Result<std::string> callDisconnectCommand(std::string_view call_id) {
  if (call_id.empty()) return Error::invalid("a call id is required", "call_id");
  return buildCommandPutxml("Call Disconnect", {{"CallId", std::string(call_id)}});
}

Result<std::string> httpFeedbackRegisterCommand(const FeedbackSlot& slot) {
  if (slot.slot < 1) return Error::invalid("feedback slot must be 1 or more", "slot");
  if (slot.url.empty()) return Error::invalid("a feedback server URL is required", "url");
  std::vector<CommandArgument> args{{"FeedbackSlot", std::to_string(slot.slot)},
                                    {"ServerUrl", slot.url}};
  if (!slot.format.empty()) args.push_back({"Format", slot.format});
  for (const std::string& e : slot.expressions) args.push_back({"Expression", e});
  return buildCommandPutxml("HttpFeedback Register", args);
}

Result<std::string> httpFeedbackDeregisterCommand(int slot) {
  if (slot < 1) return Error::invalid("feedback slot must be 1 or more", "slot");
  return buildCommandPutxml("HttpFeedback Deregister", {{"FeedbackSlot", std::to_string(slot)}});
}

Result<std::string> systemUnitBootCommand() { return buildCommandPutxml("SystemUnit Boot", {}); }

std::string CommandResult::value(std::string_view path) const {
  for (const auto& [p, v] : values) {
    if (p == path) return v;
  }
  return {};
}

Result<CommandResult> parseCommandResult(std::string_view body, const XmlLimits& limits) {
  auto doc = parseXapiReply(body, "putxml", limits);
  if (!doc.ok()) return doc.error();
  pugi::xml_node root = doc->root();
  CommandResult result;
  pugi::xml_node answer = root;
  if (localName(root) == "Command") {
    answer = {};
    for (pugi::xml_node child : root.children()) {
      if (child.type() == pugi::node_element) {
        answer = child;
        break;
      }
    }
  }
  if (!answer) {
    result.name = std::string(localName(root));
    result.status = "OK";
    return result;
  }
  result.name = std::string(localName(answer));
  result.status = attributeValue(answer, "status");
  if (result.status.empty()) result.status = "OK";
  auto flat = flattenXml(answer, limits);
  if (!flat.ok()) return Error::invalid("putxml: " + flat.error().message);
  result.values = std::move(*flat);
  return result;
}

Result<PutxmlRequest> parsePutxmlRequest(std::string_view body, const XmlLimits& limits) {
  auto doc = XmlDocument::parse(body, "putxml request", limits);
  if (!doc.ok()) return doc.error();
  pugi::xml_node root = doc->root();
  PutxmlRequest request;
  if (localName(root) == "Configuration") {
    auto flat = flattenXml(root, limits);
    if (!flat.ok()) return Error::invalid("putxml request: " + flat.error().message);
    request.settings = std::move(*flat);
    if (request.settings.empty()) return Error::invalid("putxml request: no settings");
    return request;
  }
  if (localName(root) != "Command") {
    return Error::invalid("putxml request: expected <Configuration> or <Command>, got <" +
                          std::string(localName(root)) + ">");
  }
  // Follow single element children down to the one marked command="True".
  pugi::xml_node node = root;
  while (true) {
    pugi::xml_node next;
    for (pugi::xml_node child : node.children()) {
      if (child.type() != pugi::node_element) continue;
      if (next) return Error::invalid("putxml request: more than one command in one body");
      next = child;
    }
    if (!next) return Error::invalid("putxml request: no element marked command=\"True\"");
    if (!request.command.empty()) request.command += ' ';
    request.command += localName(next);
    node = next;
    if (attributeValue(node, "command") == "True") break;
  }
  for (pugi::xml_node arg : node.children()) {
    if (arg.type() != pugi::node_element) continue;
    request.arguments.push_back({std::string(localName(arg)), ownText(arg)});
  }
  return request;
}

Result<std::string> buildCommandResult(std::string_view name, std::string_view status,
                                       const std::vector<PathValue>& values) {
  auto segments = splitXmlPath(name);
  if (!segments.ok() || segments->size() != 1 || (*segments)[0].item != 0) {
    return Error::invalid("invalid result name \"" + std::string(name) + "\"", "name");
  }
  pugi::xml_document doc;
  pugi::xml_node result = doc.append_child("Command").append_child((*segments)[0].name.c_str());
  result.append_attribute("status").set_value(std::string(status).c_str());
  for (const auto& [path, value] : values) {
    ATRIUM_TRY(checkValue(path, value));
    ATRIUM_TRY(addXmlPath(result, path, value));
  }
  return serializeXml(doc, true);
}

}  // namespace atrium::devices::cisco_xapi
