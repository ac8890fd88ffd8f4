// Helpers shared by the SQL drivers (internal to the store area).
#pragma once

#include <string>
#include <string_view>

namespace atrium::store {

// The field a unique constraint or index protects, by the naming convention of the migrations:
// every unique constraint/index is named "<table>_<field>_key" where <table> has no underscore
// (systems_serial_number_key -> serial_number, folders_name_key -> name).
inline std::string fieldFromConstraintName(std::string_view name) {
  constexpr std::string_view kSuffix = "_key";
  if (name.size() > kSuffix.size() && name.substr(name.size() - kSuffix.size()) == kSuffix) {
    name.remove_suffix(kSuffix.size());
  }
  auto underscore = name.find('_');
  if (underscore != std::string_view::npos) name.remove_prefix(underscore + 1);
  return std::string(name);
}

// Removes trailing newlines and spaces from a driver's message.
inline std::string trimMessage(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

}  // namespace atrium::store
