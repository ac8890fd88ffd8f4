// Request targets: the path and the decoded query parameters, and the list endpoints' filters
// read from them. Unknown, repeated and malformed parameters are errors naming the parameter.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "store/device_types.h"
#include "store/types.h"

namespace atrium::api {

class QueryParams {
 public:
  // Splits "a=1&b=x%20y"; '+' is a space; a parameter given twice is an error.
  static Result<QueryParams> parse(std::string_view query);

  std::optional<std::string> get(std::string_view name) const;
  bool empty() const { return params_.empty(); }
  // The first parameter not in `known`, as an invalid_argument error; ok if none.
  Status rejectUnknown(std::initializer_list<std::string_view> known) const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

struct Target {
  std::string path;
  QueryParams query;
};

// "/api/v1/systems?limit=5" -> path and parameters.
Result<Target> parseTarget(std::string_view target);

// Percent-decoding; false on a bad escape.
bool percentDecode(std::string_view in, std::string& out, bool plus_is_space);

// The list endpoints' paging: limit (1..1000, default `default_limit`) and offset (>= 0).
Status parsePaging(const QueryParams& query, std::int64_t default_limit, std::int64_t& limit,
                   std::int64_t& offset);

// GET /api/v1/systems: family, folder_id, unfiled=true|false, status, connectivity, q, address,
// sort (name, family, model, status, created_at, updated_at, software_version; leading '-' for
// descending), limit (1..1000, default 50), offset (>= 0).
Result<store::SystemFilter> parseSystemFilter(const QueryParams& query);

// GET /api/v1/audit: entity_type, entity_id, actor, limit (1..1000, default 100), offset.
Result<store::AuditFilter> parseAuditFilter(const QueryParams& query);

// GET /api/v1/folders: tree=true|false.
Result<bool> parseFolderListTree(const QueryParams& query);

// GET /api/v1/events (and /api/v1/systems/{id}/events, which passes the id): since (RFC 3339),
// since_id (>= 0), source, kind, system_id (UUID), limit (1..1000, default 100), offset.
Result<store::EventFilter> parseEventFilter(const QueryParams& query,
                                           const std::optional<std::string>& system_id = {});

// GET /api/v1/calls (and /api/v1/systems/{id}/calls): since (RFC 3339), open=true|false,
// system_id, limit, offset.
Result<store::CallRecordFilter> parseCallFilter(const QueryParams& query,
                                                const std::optional<std::string>& system_id = {});

// GET /api/v1/tickets: system_id, kind, all=true|false (include cleared ones), limit, offset.
Result<store::TicketFilter> parseTicketFilter(const QueryParams& query);

inline constexpr std::int64_t kMaxLimit = 1000;

}  // namespace atrium::api
