// Strict reading of JSON request bodies: the body must be one JSON object, every field known,
// every value of the expected type. Errors are invalid_argument naming the field.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace atrium::api {

// Parses the body; malformed JSON is an error with the parser's position, anything but an object
// is an error too. `what` names the body in messages ("system", "folder").
Result<nlohmann::json> parseJsonObject(std::string_view body, std::string_view what);

// "a string", "a number", "null", ... for messages.
std::string jsonTypeName(const nlohmann::json& value);

// Reads the fields of one JSON object. Every accessor records the key as known; finish() fails
// on the first field that no accessor asked for (or that is read-only).
class JsonFields {
 public:
  // `prefix` is prepended to field names in messages ("credentials.").
  JsonFields(const nlohmann::json& object, std::string prefix = {});

  bool has(std::string_view key) const;
  // Present and null.
  bool isNull(std::string_view key) const;

  // A required string.
  Result<std::string> requiredString(std::string_view key);
  // An optional string: nullopt when absent. Null is a type error.
  Result<std::optional<std::string>> optionalString(std::string_view key);
  // A string or null: outer nullopt when absent, inner nullopt when null.
  Result<std::optional<std::optional<std::string>>> nullableString(std::string_view key);
  // An array of strings: nullopt when absent.
  Result<std::optional<std::vector<std::string>>> optionalStringArray(std::string_view key);
  // An object or null: nullptr when absent.
  Result<const nlohmann::json*> optionalObject(std::string_view key);
  Result<std::optional<bool>> optionalBool(std::string_view key);
  // An optional integer (a JSON number without a fraction): nullopt when absent.
  Result<std::optional<std::int64_t>> optionalInteger(std::string_view key);

  // Fields that the server maintains: sending one is an error that says so.
  void readOnly(std::initializer_list<std::string_view> keys);
  Status finish() const;

  std::string fieldName(std::string_view key) const { return prefix_ + std::string(key); }

 private:
  Error typeError(std::string_view key, std::string_view expected, const nlohmann::json& got) const;
  const nlohmann::json& object_;
  std::string prefix_;
  std::vector<std::string> known_;
  std::vector<std::string> read_only_;
};

}  // namespace atrium::api
