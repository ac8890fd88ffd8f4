// The SQLite backend: one connection (pool size 1), WAL, foreign keys, and an exclusive process
// lock on "<path>.lock" held for the life of the Database, because an embedded database serves
// one server only.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "store/database.h"

namespace atrium::store {

// url is "sqlite:PATH" or "sqlite:///ABSOLUTE/PATH". Takes the process lock; does not connect.
Result<std::unique_ptr<Database>> openSqliteDatabase(const std::string& url,
                                                     DatabaseOptions options);

}  // namespace atrium::store
