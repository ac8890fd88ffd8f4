// The PostgreSQL backend (libpq): postgresql:// or postgres:// URLs and key=value connection
// strings, multi-host included (they pass through to libpq).
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "store/database.h"

namespace atrium::store {

// Validates the connection string (with PQconninfoParse); does not connect.
Result<std::unique_ptr<Database>> openPostgresDatabase(const std::string& url,
                                                       DatabaseOptions options);

// The connection string with any password replaced by "***" (URL userinfo, ?password=, or
// password= in a key=value string).
std::string redactPostgresUrl(const std::string& url);

}  // namespace atrium::store
