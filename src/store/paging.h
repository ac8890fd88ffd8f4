// Counting and paging queries, shared by Store and DeviceStore (internal to the store area).
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/result.h"
#include "store/sql.h"
#include "store/types.h"

namespace atrium::store {

using Params = std::vector<Value>;

// The single integer a counting statement returns.
inline Result<std::int64_t> countOf(Connection& conn, std::string_view sql, const Params& params) {
  auto r = conn.query(sql, params);
  if (!r.ok()) return r.error();
  if (r->empty()) return Error::internal("a count returned no row");
  return r->integer(0, 0);
}

inline Status checkPaging(std::int64_t limit, std::int64_t offset) {
  if (limit < 0) return Error::invalid("limit must not be negative", "limit");
  if (offset < 0) return Error::invalid("offset must not be negative", "offset");
  return okStatus();
}

// A page: the count with `params`, then the list with `params` + limit + offset. `from_row`
// turns row i into a T, or into a Result<T> when reading a row can fail.
template <typename T, typename FromRow>
Result<Page<T>> pageOf(Connection& conn, std::string_view count_sql, std::string_view list_sql, Params params,
                       std::int64_t limit, std::int64_t offset, FromRow from_row) {
  Page<T> page;
  auto total = countOf(conn, count_sql, params);
  if (!total.ok()) return total.error();
  page.total = *total;
  params.emplace_back(limit);
  params.emplace_back(offset);
  auto r = conn.query(list_sql, params);
  if (!r.ok()) return r.error();
  page.items.reserve(r->size());
  for (std::size_t i = 0; i < r->size(); ++i) {
    if constexpr (std::is_same_v<std::invoke_result_t<FromRow, const Rows&, std::size_t>, Result<T>>) {
      auto item = from_row(*r, i);
      if (!item.ok()) return item.error();
      page.items.push_back(std::move(item).value());
    } else {
      page.items.push_back(from_row(*r, i));
    }
  }
  return page;
}

}  // namespace atrium::store
