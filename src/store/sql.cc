#include "store/sql.h"

#include <charconv>
#include <stdexcept>

#include "common/log.h"

namespace atrium::store {
namespace {

const std::string kEmpty;

}  // namespace

std::string_view dialectName(Dialect d) {
  switch (d) {
    case Dialect::kSqlite:
      return "sqlite";
    case Dialect::kPostgres:
      return "postgres";
  }
  return "unknown";
}

const std::string& Rows::text(std::size_t row, std::size_t col) const {
  const auto& cell = cells.at(row).at(col);
  return cell ? *cell : kEmpty;
}

std::optional<std::int64_t> Rows::optInteger(std::size_t row, std::size_t col) const {
  const auto& cell = cells.at(row).at(col);
  if (!cell) return std::nullopt;
  std::int64_t v = 0;
  const char* first = cell->data();
  const char* last = first + cell->size();
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (ec != std::errc() || ptr != last) {
    // SQLite may hand back a real for an integer expression (e.g. "3.0").
    return static_cast<std::int64_t>(std::stod(*cell));
  }
  return v;
}

std::int64_t Rows::integer(std::size_t row, std::size_t col) const {
  return optInteger(row, col).value_or(0);
}

double Rows::real(std::size_t row, std::size_t col) const {
  const auto& cell = cells.at(row).at(col);
  return cell ? std::stod(*cell) : 0.0;
}

bool Rows::boolean(std::size_t row, std::size_t col) const {
  const std::string& v = text(row, col);
  return v == "t" || v == "true" || v == "1" || v == "on" || v == "TRUE";
}

Transaction::~Transaction() {
  if (!open_ || conn_.broken()) return;
  Status s = conn_.rollback();
  if (!s.ok()) log::warn("store.rollback_failed", {{"error", s.error().message}});
}

Status Transaction::begin() {
  ATRIUM_TRY(conn_.begin());
  open_ = true;
  return okStatus();
}

Status Transaction::commit() {
  ATRIUM_TRY(conn_.commit());
  open_ = false;
  return okStatus();
}

}  // namespace atrium::store
