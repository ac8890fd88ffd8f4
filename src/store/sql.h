// The thin SQL driver interface every backend implements (after PowerDNS's SSql): connect,
// run a statement with positional parameters, transactions, and a broken flag for reconnect.
// Statements use $1, $2 ... placeholders on every backend; each dialect's statement text lives in
// its catalogue (store/sqlite/catalogue.cc, store/postgres/catalogue.cc).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace atrium::store {

enum class Dialect { kSqlite, kPostgres };
std::string_view dialectName(Dialect d);

// A statement parameter. Timestamps travel as int64 milliseconds since the epoch (UTC).
using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string, bool>;

// A fully read result: rows of nullable text cells, plus the count of rows a write affected.
class Rows {
 public:
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> cells;
  std::int64_t affected = 0;

  std::size_t size() const { return cells.size(); }
  bool empty() const { return cells.empty(); }
  bool isNull(std::size_t row, std::size_t col) const { return !cells.at(row).at(col).has_value(); }
  const std::string& text(std::size_t row, std::size_t col) const;  // "" for NULL
  std::optional<std::string> optText(std::size_t row, std::size_t col) const {
    return cells.at(row).at(col);
  }
  std::int64_t integer(std::size_t row, std::size_t col) const;      // 0 for NULL
  std::optional<std::int64_t> optInteger(std::size_t row, std::size_t col) const;
  double real(std::size_t row, std::size_t col) const;
  bool boolean(std::size_t row, std::size_t col) const;  // accepts t/f, true/false, 1/0
};

// One open connection. Not thread-safe: one user at a time (the pool hands it out).
// Errors map to ErrorCode: unique violations -> kConflict with Error::field set to the violated
// column's name; lost connection/server unreachable -> kUnavailable (and broken() becomes true);
// write on a read-only server -> kReadOnly; anything else -> kInternal.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  virtual Result<Rows> query(std::string_view sql, std::span<const Value> params = {}) = 0;
  // Runs a script of several statements without parameters (migrations).
  virtual Status execScript(std::string_view sql) = 0;
  virtual Status begin() = 0;
  virtual Status commit() = 0;
  virtual Status rollback() = 0;
  // True once the connection is known to be unusable; the pool discards it.
  virtual bool broken() const = 0;
};

// Rolls back unless commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  Status begin();
  Status commit();

 private:
  Connection& conn_;
  bool open_ = false;
};

}  // namespace atrium::store
