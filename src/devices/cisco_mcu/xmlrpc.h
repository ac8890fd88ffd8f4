// XML-RPC (http://xmlrpc.com/spec.md) as the Cisco MCU and TelePresence Server speak it on /RPC2:
// a value model, encoding and decoding of methodCall and methodResponse, faults. Decoding treats
// its input as hostile: size, XML nesting and value nesting are limited, and anything malformed is
// an invalid-argument error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "devices/xml_tree.h"

namespace atrium::devices::cisco_mcu {

class XmlRpcValue;
struct XmlRpcMember;
using XmlRpcArray = std::vector<XmlRpcValue>;
using XmlRpcStruct = std::vector<XmlRpcMember>;  // members in document order

struct XmlRpcNil {
  bool operator==(const XmlRpcNil&) const = default;
};
struct XmlRpcDateTime {
  std::string iso8601;  // as written, e.g. "20240105T10:00:00"
  bool operator==(const XmlRpcDateTime&) const = default;
};
struct XmlRpcBase64 {
  std::string bytes;  // decoded
  bool operator==(const XmlRpcBase64&) const = default;
};

class XmlRpcValue {
 public:
  enum class Type { kNil, kInt, kBool, kString, kDouble, kDateTime, kBase64, kArray, kStruct };

  XmlRpcValue() = default;  // nil
  // Defined below, once XmlRpcMember is complete.
  XmlRpcValue(std::int32_t v);    // NOLINT(google-explicit-constructor)
  XmlRpcValue(bool v);            // NOLINT(google-explicit-constructor)
  XmlRpcValue(double v);          // NOLINT(google-explicit-constructor)
  XmlRpcValue(std::string v);     // NOLINT(google-explicit-constructor)
  XmlRpcValue(const char* v);     // NOLINT(google-explicit-constructor)
  XmlRpcValue(XmlRpcDateTime v);  // NOLINT(google-explicit-constructor)
  XmlRpcValue(XmlRpcBase64 v);    // NOLINT(google-explicit-constructor)
  XmlRpcValue(XmlRpcArray v);     // NOLINT(google-explicit-constructor)
  XmlRpcValue(XmlRpcStruct v);    // NOLINT(google-explicit-constructor)

  Type type() const { return static_cast<Type>(v_.index()); }
  std::string_view typeName() const;  // "int", "boolean", "string", ... as in the spec

  // Typed access: nullopt / nullptr when the value has another type.
  std::optional<std::int32_t> asInt() const;
  std::optional<bool> asBool() const;
  std::optional<double> asDouble() const;  // also accepts an int
  const std::string* asString() const;
  const XmlRpcDateTime* asDateTime() const;
  const XmlRpcBase64* asBase64() const;
  const XmlRpcArray* asArray() const;
  const XmlRpcStruct* asStruct() const;

  // For structs: the first member with this name, or nullptr.
  const XmlRpcValue* member(std::string_view name) const;
  // For structs: replaces the member with this name or appends it. A nil value becomes a struct.
  void set(std::string name, XmlRpcValue value);

  friend bool operator==(const XmlRpcValue& a, const XmlRpcValue& b);

 private:
  std::variant<XmlRpcNil, std::int32_t, bool, std::string, double, XmlRpcDateTime, XmlRpcBase64,
               XmlRpcArray, XmlRpcStruct>
      v_;
};

struct XmlRpcMember {
  std::string name;
  XmlRpcValue value;
  friend bool operator==(const XmlRpcMember& a, const XmlRpcMember& b) {
    return a.name == b.name && a.value == b.value;
  }
};

inline XmlRpcValue::XmlRpcValue(std::int32_t v) : v_(v) {}
inline XmlRpcValue::XmlRpcValue(bool v) : v_(v) {}
inline XmlRpcValue::XmlRpcValue(double v) : v_(v) {}
inline XmlRpcValue::XmlRpcValue(std::string v) : v_(std::move(v)) {}
inline XmlRpcValue::XmlRpcValue(const char* v) : v_(std::string(v)) {}
inline XmlRpcValue::XmlRpcValue(XmlRpcDateTime v) : v_(std::move(v)) {}
inline XmlRpcValue::XmlRpcValue(XmlRpcBase64 v) : v_(std::move(v)) {}
inline XmlRpcValue::XmlRpcValue(XmlRpcArray v) : v_(std::move(v)) {}
inline XmlRpcValue::XmlRpcValue(XmlRpcStruct v) : v_(std::move(v)) {}

struct XmlRpcFault {
  std::int32_t code = 0;
  std::string message;
};

struct MethodCall {
  std::string method;
  std::vector<XmlRpcValue> params;
};

// A methodResponse: either the single result value or a fault.
struct MethodResponse {
  XmlRpcValue result;
  std::optional<XmlRpcFault> fault;
};

struct XmlRpcLimits {
  XmlLimits xml{.max_bytes = 8u << 20, .max_depth = 160};
  int max_value_depth = 32;  // arrays and structs nested in each other
};

std::string encodeMethodCall(const MethodCall& call);
std::string encodeMethodResponse(const XmlRpcValue& result);
std::string encodeFault(const XmlRpcFault& fault);
// Just the <value> element of one value (for tests and logs).
std::string encodeValue(const XmlRpcValue& value);

Result<MethodCall> decodeMethodCall(std::string_view body, const XmlRpcLimits& limits = {});
// Faults are returned as data (for callers that branch on the code).
Result<MethodResponse> decodeMethodResponse(std::string_view body, const XmlRpcLimits& limits = {});
// The result value; a fault becomes an error whose message carries faultCode and faultString.
Result<XmlRpcValue> decodeMethodResult(std::string_view body, const XmlRpcLimits& limits = {});

// How a fault reads as an Error: the code follows the Cisco MCU fault table (no such conference
// -> not found, duplicate name -> conflict, authentication failure -> unauthorized, insufficient
// privileges -> forbidden, missing/invalid parameter -> invalid argument, others -> internal),
// the message is "XML-RPC fault <code> (<meaning>): <faultString>".
Error faultToError(const XmlRpcFault& fault);

// Base64 as XML-RPC carries it (RFC 4648 alphabet; whitespace ignored when decoding).
std::string encodeBase64(std::string_view bytes);
Result<std::string> decodeBase64(std::string_view text);

}  // namespace atrium::devices::cisco_mcu
