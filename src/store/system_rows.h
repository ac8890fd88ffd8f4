// Systems as rows (internal to the store area): shared by Store and DeviceStore so both read the
// columns the catalogues' system selects return in one way; and the audit entry every store writes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "store/sql.h"
#include "store/types.h"

namespace atrium::store {

std::int64_t toMs(TimePoint t);
TimePoint fromMs(std::int64_t ms);
// Time as the database keeps it (millisecond precision).
TimePoint truncateMs(TimePoint t);

// The column of feedback_secret in every system select (see catalogue.h).
inline constexpr std::size_t kFeedbackSecretColumn = 18;

// A system from the columns of a system select.
Result<System> systemFromRow(const Rows& rows, std::size_t i);
// insert_system's parameters ($1..$19, the secret last).
std::vector<Value> systemInsertParams(const System& s, const std::string& feedback_secret);
// update_system's parameters ($1..$18).
std::vector<Value> systemUpdateParams(const System& s);

// One audit entry, written on `conn` (inside the caller's transaction) in its dialect.
Status writeAudit(Connection& conn, TimePoint at, const std::string& actor, std::string_view action,
                  std::string_view entity_type, const std::string& id,
                  const nlohmann::json& old_value, const nlohmann::json& new_value);

}  // namespace atrium::store
