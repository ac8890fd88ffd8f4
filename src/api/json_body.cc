#include "api/json_body.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/validation.h"

namespace atrium::api {

using nlohmann::json;

namespace {

std::string withoutExceptionId(std::string_view what) {
  auto pos = what.find("] ");
  return std::string(pos == std::string_view::npos ? what : what.substr(pos + 2));
}

}  // namespace

Result<json> parseJsonObject(std::string_view body, std::string_view what) {
  json value;
  // nlohmann::json keeps the last of duplicated keys; a body naming a field twice is refused
  // instead, so that what the server acts on is never ambiguous.
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;
  auto find_duplicates = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty() && !duplicate) {
      if (!open_objects.back().insert(parsed.get<std::string>()).second) {
        duplicate = parsed.get<std::string>();
      }
    }
    return true;
  };
  try {
    value = json::parse(body.begin(), body.end(), find_duplicates);
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: ...".
    return Error::invalid("malformed JSON in the " + std::string(what) +
                          " body: " + withoutExceptionId(e.what()));
  } catch (const json::out_of_range& e) {
    // A number too large for a double: "[json.exception.out_of_range.406] number overflow ...".
    return Error::invalid("malformed JSON in the " + std::string(what) +
                          " body: " + withoutExceptionId(e.what()));
  }
  if (duplicate) {
    return Error::invalid("the " + std::string(what) + " body has the key " +
                              jsonQuote(*duplicate) + " twice in one object; give each field once",
                          *duplicate);
  }
  if (!value.is_object()) {
    return Error::invalid("the " + std::string(what) + " body must be a JSON object, not " +
                          jsonTypeName(value));
  }
  return value;
}

std::string jsonTypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    case json::value_t::binary:
      return "binary data";
    case json::value_t::discarded:
      return "nothing";
  }
  return "something else";
}

JsonFields::JsonFields(const json& object, std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {}

bool JsonFields::has(std::string_view key) const { return object_.contains(key); }

bool JsonFields::isNull(std::string_view key) const {
  auto it = object_.find(key);
  return it != object_.end() && it->is_null();
}

Error JsonFields::typeError(std::string_view key, std::string_view expected,
                            const json& got) const {
  std::string field = fieldName(key);
  return Error::invalid(
      jsonQuote(field) + " must be " + std::string(expected) + ", not " + jsonTypeName(got), field);
}

Result<std::string> JsonFields::requiredString(std::string_view key) {
  known_.emplace_back(key);
  auto it = object_.find(key);
  if (it == object_.end()) {
    std::string field = fieldName(key);
    return Error::invalid(jsonQuote(field) + " is required", field);
  }
  if (!it->is_string()) return typeError(key, "a string", *it);
  return it->get<std::string>();
}

Result<std::optional<std::string>> JsonFields::optionalString(std::string_view key) {
  known_.emplace_back(key);
  auto it = object_.find(key);
  if (it == object_.end()) return std::optional<std::string>();
  if (!it->is_string()) return typeError(key, "a string", *it);
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::optional<std::optional<std::string>>> JsonFields::nullableString(std::string_view key) {
  using Out = std::optional<std::optional<std::string>>;
  known_.emplace_back(key);
  auto it = object_.find(key);
  if (it == object_.end()) return Out();
  if (it->is_null()) return Out(std::optional<std::string>());
  if (!it->is_string()) return typeError(key, "a string or null", *it);
  return Out(std::optional<std::string>(it->get<std::string>()));
}

Result<std::optional<std::vector<std::string>>> JsonFields::optionalStringArray(
    std::string_view key) {
  using Out = std::optional<std::vector<std::string>>;
  known_.emplace_back(key);
  auto it = object_.find(key);
  if (it == object_.end()) return Out();
  if (!it->is_array()) return typeError(key, "an array of strings", *it);
  std::vector<std::string> out;
  out.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& item = (*it)[i];
    if (!item.is_string()) {
      std::string field = fieldName(key);
      return Error::invalid(jsonQuote(field + "[" + std::to_string(i) + "]") +
                                " must be a string, not " + jsonTypeName(item),
                            field);
    }
    out.push_back(item.get<std::string>());
  }
  return Out(std::move(out));
}

Result<const json*> JsonFields::optionalObject(std::string_view key) {
  known_.emplace_back(key);
  auto it = object_.find(key);
  if (it == object_.end()) return static_cast<const json*>(nullptr);
  if (!it->is_object() && !it->is_null()) return typeError(key, "an object", *it);
  return &*it;
}

Result<std::optional<bool>> JsonFields::optionalBool(std::string_view key) {
  known_.emplace_back(key);
  auto it = object_.find(key);
  if (it == object_.end()) return std::optional<bool>();
  if (!it->is_boolean()) return typeError(key, "true or false", *it);
  return std::optional<bool>(it->get<bool>());
}

Result<std::optional<std::int64_t>> JsonFields::optionalInteger(std::string_view key) {
  known_.emplace_back(key);
  auto it = object_.find(key);
  if (it == object_.end()) return std::optional<std::int64_t>();
  if (it->is_number_integer()) return std::optional<std::int64_t>(it->get<std::int64_t>());
  return typeError(key, "an integer", *it);
}

void JsonFields::readOnly(std::initializer_list<std::string_view> keys) {
  for (auto k : keys) read_only_.emplace_back(k);
}

Status JsonFields::finish() const {
  for (const auto& item : object_.items()) {
    const std::string& key = item.key();
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string field = fieldName(key);
    if (std::find(read_only_.begin(), read_only_.end(), key) != read_only_.end()) {
      return Error::invalid(jsonQuote(field) + " is read-only: the server maintains it", field);
    }
    std::string known;
    for (const auto& k : known_) {
      if (!known.empty()) known += ", ";
      known += k;
    }
    return Error::invalid("unknown field " + jsonQuote(field) + " (known fields: " + known + ")",
                          field);
  }
  return okStatus();
}

}  // namespace atrium::api
