#include "devices/cisco_mcu/xmlrpc.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <pugixml.hpp>

namespace atrium::devices::cisco_mcu {
namespace {

// ---- encoding ----

void encodeInto(pugi::xml_node value_node, const XmlRpcValue& value);

std::string formatDouble(double d) {
  if (!std::isfinite(d)) return d != d ? "nan" : (d > 0 ? "inf" : "-inf");
  // Fixed notation (the spec has no exponents), shortest form that reads back exactly.
  std::array<char, 400> buffer{};
  auto [end, ec] =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), d, std::chars_format::fixed);
  if (ec != std::errc()) return "0";
  std::string text(buffer.data(), end);
  if (text.find('.') == std::string::npos) text += ".0";
  return text;
}

void encodeInto(pugi::xml_node value_node, const XmlRpcValue& value) {
  switch (value.type()) {
    case XmlRpcValue::Type::kNil:
      value_node.append_child("nil");
      break;
    case XmlRpcValue::Type::kInt:
      value_node.append_child("int").text().set(std::to_string(*value.asInt()).c_str());
      break;
    case XmlRpcValue::Type::kBool:
      value_node.append_child("boolean").text().set(*value.asBool() ? "1" : "0");
      break;
    case XmlRpcValue::Type::kString: {
      pugi::xml_node s = value_node.append_child("string");
      if (!value.asString()->empty()) s.text().set(value.asString()->c_str());
      break;
    }
    case XmlRpcValue::Type::kDouble:
      value_node.append_child("double").text().set(formatDouble(*value.asDouble()).c_str());
      break;
    case XmlRpcValue::Type::kDateTime:
      value_node.append_child("dateTime.iso8601").text().set(value.asDateTime()->iso8601.c_str());
      break;
    case XmlRpcValue::Type::kBase64:
      value_node.append_child("base64").text().set(encodeBase64(value.asBase64()->bytes).c_str());
      break;
    case XmlRpcValue::Type::kArray: {
      pugi::xml_node data = value_node.append_child("array").append_child("data");
      for (const XmlRpcValue& item : *value.asArray()) encodeInto(data.append_child("value"), item);
      break;
    }
    case XmlRpcValue::Type::kStruct: {
      pugi::xml_node s = value_node.append_child("struct");
      for (const XmlRpcMember& m : *value.asStruct()) {
        pugi::xml_node member = s.append_child("member");
        member.append_child("name").text().set(m.name.c_str());
        encodeInto(member.append_child("value"), m.value);
      }
      break;
    }
  }
}

std::string serialize(const pugi::xml_document& doc) {
  // A declaration, compact body: the MCU requires <?xml ...?> at the top.
  std::string body = R"(<?xml version="1.0" encoding="UTF-8"?>)";
  body += '\n';
  body += serializeXml(doc, false);
  return body;
}

// ---- decoding ----

Error malformed(std::string_view what, std::string detail) {
  return Error::invalid(std::string(what) + ": malformed XML-RPC: " + std::move(detail));
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// The only element child of `node`; an error if there are none or several, or if there is
// non-blank text beside it.
Result<pugi::xml_node> onlyElement(pugi::xml_node node, std::string_view what,
                                   std::string_view context) {
  pugi::xml_node found;
  for (pugi::xml_node child : node.children()) {
    if (child.type() == pugi::node_element) {
      if (found) return malformed(what, "more than one element in <" + std::string(context) + ">");
      found = child;
    } else if ((child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) &&
               !trim(child.value()).empty()) {
      return malformed(what, "unexpected text in <" + std::string(context) + ">");
    }
  }
  if (!found) return malformed(what, "empty <" + std::string(context) + ">");
  return found;
}

Result<XmlRpcValue> decodeValue(pugi::xml_node value_node, std::string_view what,
                                const XmlRpcLimits& limits, int depth);

Result<XmlRpcValue> decodeStruct(pugi::xml_node node, std::string_view what,
                                 const XmlRpcLimits& limits, int depth) {
  XmlRpcStruct members;
  for (pugi::xml_node member : node.children()) {
    if (member.type() != pugi::node_element) continue;
    if (std::strcmp(member.name(), "member") != 0) {
      return malformed(what, "<" + std::string(member.name()) + "> inside <struct>");
    }
    pugi::xml_node name = member.child("name");
    pugi::xml_node value = member.child("value");
    if (!name || !value) return malformed(what, "<member> without <name> and <value>");
    auto decoded = decodeValue(value, what, limits, depth + 1);
    if (!decoded.ok()) return decoded.error();
    members.push_back({ownText(name), std::move(*decoded)});
  }
  return XmlRpcValue(std::move(members));
}

Result<XmlRpcValue> decodeArray(pugi::xml_node node, std::string_view what,
                                const XmlRpcLimits& limits, int depth) {
  auto data = onlyElement(node, what, "array");
  if (!data.ok()) return data.error();
  if (std::strcmp(data->name(), "data") != 0) return malformed(what, "<array> without <data>");
  XmlRpcArray items;
  for (pugi::xml_node value : data->children()) {
    if (value.type() != pugi::node_element) continue;
    if (std::strcmp(value.name(), "value") != 0) {
      return malformed(what, "<" + std::string(value.name()) + "> inside <data>");
    }
    auto decoded = decodeValue(value, what, limits, depth + 1);
    if (!decoded.ok()) return decoded.error();
    items.push_back(std::move(*decoded));
  }
  return XmlRpcValue(std::move(items));
}

Result<XmlRpcValue> decodeScalar(pugi::xml_node typed, std::string_view what) {
  std::string_view type = typed.name();
  std::string text = ownText(typed);
  if (type == "string") return XmlRpcValue(std::move(text));
  std::string_view t = trim(text);
  if (type == "int" || type == "i4") {
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    std::int32_t v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size()) {
      return malformed(what, "<" + std::string(type) + "> \"" + std::string(t.substr(0, 40)) +
                                 "\" is not a 32-bit integer");
    }
    return XmlRpcValue(v);
  }
  if (type == "boolean") {
    if (t == "1" || t == "true") return XmlRpcValue(true);
    if (t == "0" || t == "false") return XmlRpcValue(false);
    return malformed(what, "<boolean> must be 0 or 1");
  }
  if (type == "double") {
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    double v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v)) {
      return malformed(what, "<double> \"" + std::string(t.substr(0, 40)) + "\" is not a number");
    }
    return XmlRpcValue(v);
  }
  if (type == "dateTime.iso8601") {
    if (t.empty()) return malformed(what, "empty <dateTime.iso8601>");
    return XmlRpcValue(XmlRpcDateTime{std::string(t)});
  }
  if (type == "base64") {
    auto bytes = decodeBase64(text);
    if (!bytes.ok()) return malformed(what, bytes.error().message);
    return XmlRpcValue(XmlRpcBase64{std::move(*bytes)});
  }
  if (type == "nil") return XmlRpcValue();
  return malformed(what, "unknown type <" + std::string(type.substr(0, 64)) + ">");
}

Result<XmlRpcValue> decodeValue(pugi::xml_node value_node, std::string_view what,
                                const XmlRpcLimits& limits, int depth) {
  if (depth > limits.max_value_depth) {
    return malformed(what, "values nested deeper than " + std::to_string(limits.max_value_depth));
  }
  pugi::xml_node typed;
  for (pugi::xml_node child : value_node.children()) {
    if (child.type() != pugi::node_element) continue;
    if (typed) return malformed(what, "more than one type in <value>");
    typed = child;
  }
  if (!typed) return XmlRpcValue(ownText(value_node));  // no type: a string
  for (pugi::xml_node child : value_node.children()) {
    if ((child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) &&
        !trim(child.value()).empty()) {
      return malformed(what, "text beside the type in <value>");
    }
  }
  std::string_view type = typed.name();
  if (type == "struct") return decodeStruct(typed, what, limits, depth);
  if (type == "array") return decodeArray(typed, what, limits, depth);
  if (typed.first_child() && typed.first_child().type() == pugi::node_element) {
    return malformed(what, "<" + std::string(type.substr(0, 64)) + "> has child elements");
  }
  return decodeScalar(typed, what);
}

Result<std::vector<XmlRpcValue>> decodeParams(pugi::xml_node params, std::string_view what,
                                              const XmlRpcLimits& limits) {
  std::vector<XmlRpcValue> out;
  if (!params) return out;
  for (pugi::xml_node param : params.children()) {
    if (param.type() != pugi::node_element) continue;
    if (std::strcmp(param.name(), "param") != 0) {
      return malformed(what, "<" + std::string(param.name()) + "> inside <params>");
    }
    pugi::xml_node value = param.child("value");
    if (!value) return malformed(what, "<param> without <value>");
    auto decoded = decodeValue(value, what, limits, 1);
    if (!decoded.ok()) return decoded.error();
    out.push_back(std::move(*decoded));
  }
  return out;
}

Result<XmlRpcFault> decodeFault(pugi::xml_node fault, std::string_view what,
                                const XmlRpcLimits& limits) {
  pugi::xml_node value = fault.child("value");
  if (!value) return malformed(what, "<fault> without <value>");
  auto decoded = decodeValue(value, what, limits, 1);
  if (!decoded.ok()) return decoded.error();
  const XmlRpcValue* code = decoded->member("faultCode");
  const XmlRpcValue* message = decoded->member("faultString");
  if (!code || !code->asInt() || !message || !message->asString()) {
    return malformed(what, "<fault> needs an int faultCode and a string faultString");
  }
  return XmlRpcFault{*code->asInt(), *message->asString()};
}

std::string_view faultMeaning(std::int32_t code) {
  switch (code) {
    case 1:
      return "method not supported";
    case 2:
      return "duplicate conference name";
    case 3:
      return "duplicate participant name";
    case 4:
      return "no such conference or auto attendant";
    case 5:
      return "no such participant";
    case 6:
      return "too many conferences";
    case 7:
      return "too many participants";
    case 8:
      return "no conference name or auto attendant id supplied";
    case 9:
      return "no participant name supplied";
    case 10:
      return "no participant address supplied";
    case 11:
      return "invalid start time";
    case 12:
      return "invalid end time";
    case 13:
      return "invalid PIN";
    case 14:
      return "unauthorised";
    case 15:
      return "insufficient privileges";
    case 16:
      return "invalid enumerateID";
    case 17:
      return "port reservation failure";
    case 18:
      return "duplicate numeric ID";
    case 34:
      return "authentication failure";
    case 101:
      return "missing parameter";
    case 102:
      return "invalid parameter";
    case 103:
      return "malformed parameter";
    case 201:
      return "operation failed";
    default:
      return "device fault";
  }
}

ErrorCode faultCode(std::int32_t code) {
  switch (code) {
    case 4:
    case 5:
      return ErrorCode::kNotFound;
    case 2:
    case 3:
    case 18:
      return ErrorCode::kConflict;
    case 34:
      return ErrorCode::kUnauthorized;
    case 14:
    case 15:
      return ErrorCode::kForbidden;
    case 8:
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
    case 16:
    case 101:
    case 102:
    case 103:
      return ErrorCode::kInvalidArgument;
    default:
      return ErrorCode::kInternal;
  }
}

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

// ---- XmlRpcValue ----

std::string_view XmlRpcValue::typeName() const {
  switch (type()) {
    case Type::kNil:
      return "nil";
    case Type::kInt:
      return "int";
    case Type::kBool:
      return "boolean";
    case Type::kString:
      return "string";
    case Type::kDouble:
      return "double";
    case Type::kDateTime:
      return "dateTime.iso8601";
    case Type::kBase64:
      return "base64";
    case Type::kArray:
      return "array";
    case Type::kStruct:
      return "struct";
  }
  return "nil";
}

std::optional<std::int32_t> XmlRpcValue::asInt() const {
  if (const auto* v = std::get_if<std::int32_t>(&v_)) return *v;
  return std::nullopt;
}
std::optional<bool> XmlRpcValue::asBool() const {
  if (const auto* v = std::get_if<bool>(&v_)) return *v;
  return std::nullopt;
}
std::optional<double> XmlRpcValue::asDouble() const {
  if (const auto* v = std::get_if<double>(&v_)) return *v;
  if (const auto* v = std::get_if<std::int32_t>(&v_)) return static_cast<double>(*v);
  return std::nullopt;
}
const std::string* XmlRpcValue::asString() const { return std::get_if<std::string>(&v_); }
const XmlRpcDateTime* XmlRpcValue::asDateTime() const { return std::get_if<XmlRpcDateTime>(&v_); }
const XmlRpcBase64* XmlRpcValue::asBase64() const { return std::get_if<XmlRpcBase64>(&v_); }
const XmlRpcArray* XmlRpcValue::asArray() const { return std::get_if<XmlRpcArray>(&v_); }
const XmlRpcStruct* XmlRpcValue::asStruct() const { return std::get_if<XmlRpcStruct>(&v_); }

const XmlRpcValue* XmlRpcValue::member(std::string_view name) const {
  const XmlRpcStruct* s = asStruct();
  if (!s) return nullptr;
  for (const XmlRpcMember& m : *s) {
    if (m.name == name) return &m.value;
  }
  return nullptr;
}

void XmlRpcValue::set(std::string name, XmlRpcValue value) {
  if (type() == Type::kNil) v_ = XmlRpcStruct{};
  auto* s = std::get_if<XmlRpcStruct>(&v_);
  if (!s) return;
  for (XmlRpcMember& m : *s) {
    if (m.name == name) {
      m.value = std::move(value);
      return;
    }
  }
  s->push_back({std::move(name), std::move(value)});
}

bool operator==(const XmlRpcValue& a, const XmlRpcValue& b) { return a.v_ == b.v_; }

// ---- encoding ----

std::string encodeValue(const XmlRpcValue& value) {
  pugi::xml_document doc;
  encodeInto(doc.append_child("value"), value);
  return serializeXml(doc, false);
}

std::string encodeMethodCall(const MethodCall& call) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("methodCall");
  root.append_child("methodName").text().set(call.method.c_str());
  pugi::xml_node params = root.append_child("params");
  for (const XmlRpcValue& p : call.params) {
    encodeInto(params.append_child("param").append_child("value"), p);
  }
  return serialize(doc);
}

std::string encodeMethodResponse(const XmlRpcValue& result) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("methodResponse");
  encodeInto(root.append_child("params").append_child("param").append_child("value"), result);
  return serialize(doc);
}

std::string encodeFault(const XmlRpcFault& fault) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("methodResponse");
  XmlRpcValue value;
  value.set("faultCode", fault.code);
  value.set("faultString", fault.message);
  encodeInto(root.append_child("fault").append_child("value"), value);
  return serialize(doc);
}

// ---- decoding ----

Result<MethodCall> decodeMethodCall(std::string_view body, const XmlRpcLimits& limits) {
  constexpr std::string_view kWhat = "XML-RPC call";
  auto doc = XmlDocument::parse(body, kWhat, limits.xml, true);
  if (!doc.ok()) return doc.error();
  pugi::xml_node root = doc->root();
  if (std::strcmp(root.name(), "methodCall") != 0) {
    return malformed(kWhat, "expected <methodCall>, got <" +
                                std::string(std::string_view(root.name()).substr(0, 64)) + ">");
  }
  MethodCall call;
  call.method = std::string(trim(ownText(root.child("methodName"))));
  if (call.method.empty()) return malformed(kWhat, "no <methodName>");
  auto params = decodeParams(root.child("params"), kWhat, limits);
  if (!params.ok()) return params.error();
  call.params = std::move(*params);
  return call;
}

Result<MethodResponse> decodeMethodResponse(std::string_view body, const XmlRpcLimits& limits) {
  constexpr std::string_view kWhat = "XML-RPC response";
  auto doc = XmlDocument::parse(body, kWhat, limits.xml, true);
  if (!doc.ok()) return doc.error();
  pugi::xml_node root = doc->root();
  if (std::strcmp(root.name(), "methodResponse") != 0) {
    return malformed(kWhat, "expected <methodResponse>, got <" +
                                std::string(std::string_view(root.name()).substr(0, 64)) + ">");
  }
  MethodResponse response;
  if (pugi::xml_node fault = root.child("fault")) {
    auto decoded = decodeFault(fault, kWhat, limits);
    if (!decoded.ok()) return decoded.error();
    response.fault = std::move(*decoded);
    return response;
  }
  pugi::xml_node params = root.child("params");
  if (!params) return malformed(kWhat, "neither <params> nor <fault>");
  auto values = decodeParams(params, kWhat, limits);
  if (!values.ok()) return values.error();
  if (values->size() != 1) {
    return malformed(kWhat,
                     "a response has exactly one <param>, got " + std::to_string(values->size()));
  }
  response.result = std::move(values->front());
  return response;
}

Result<XmlRpcValue> decodeMethodResult(std::string_view body, const XmlRpcLimits& limits) {
  auto response = decodeMethodResponse(body, limits);
  if (!response.ok()) return response.error();
  if (response->fault) return faultToError(*response->fault);
  return std::move(response->result);
}

Error faultToError(const XmlRpcFault& fault) {
  return Error{faultCode(fault.code),
               "XML-RPC fault " + std::to_string(fault.code) + " (" +
                   std::string(faultMeaning(fault.code)) + "): " + fault.message,
               {}};
}

std::string encodeBase64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                      (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                      static_cast<unsigned char>(bytes[i + 2]);
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += kBase64Alphabet[n & 63];
  }
  if (std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kBase64Alphabet[(n >> 18) & 63];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> decodeBase64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  int padding = 0;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return Error::invalid("base64: data after padding");
    const char* p = std::strchr(kBase64Alphabet, c);
    if (c == '\0' || p == nullptr) return Error::invalid("base64: invalid character");
    buffer = (buffer << 6) | static_cast<std::uint32_t>(p - kBase64Alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  if (padding > 2 || bits >= 6) return Error::invalid("base64: truncated data");
  return out;
}

}  // namespace atrium::devices::cisco_mcu
