#include "api/query.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>

#include "api/validation.h"
#include "devices/device_time.h"

namespace atrium::api {

namespace {

constexpr std::array<std::string_view, 7> kSortKeys = {
    "name", "family", "model", "status", "created_at", "updated_at", "software_version"};

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::int64_t> readInt(const QueryParams& q, std::string_view name, std::int64_t fallback,
                             std::int64_t min, std::int64_t max) {
  auto text = q.get(name);
  if (!text) return fallback;
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || ptr != text->data() + text->size() || value < min || value > max) {
    std::string range =
        max == std::numeric_limits<std::int64_t>::max()
            ? "an integer >= " + std::to_string(min)
            : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    return Error::invalid("query parameter " + jsonQuote(name) + " must be " + range + " (got " +
                              jsonQuote(*text) + ")",
                          std::string(name));
  }
  return value;
}

Result<bool> readBool(const QueryParams& q, std::string_view name) {
  auto text = q.get(name);
  if (!text || *text == "false") return false;
  if (*text == "true") return true;
  return Error::invalid("query parameter " + jsonQuote(name) + " must be true or false (got " +
                            jsonQuote(*text) + ")",
                        std::string(name));
}

Status checkText(const std::optional<std::string>& value, std::string_view name) {
  if (value) return validateText(*value, name);
  return okStatus();
}

Result<std::optional<store::TimePoint>> readTime(const QueryParams& q, std::string_view name) {
  auto text = q.get(name);
  if (!text) return std::optional<store::TimePoint>();
  auto t = devices::parseDeviceTime(*text);
  if (!t) {
    return Error::invalid("query parameter " + jsonQuote(name) +
                              " must be an RFC 3339 time such as 2026-01-02T15:04:05Z (got " +
                              jsonQuote(*text) + ")",
                          std::string(name));
  }
  return std::optional<store::TimePoint>(*t);
}

// system_id from the path (already checked by the caller) or the query.
Result<std::optional<std::string>> readSystemId(const QueryParams& q,
                                                const std::optional<std::string>& from_path) {
  if (from_path) return from_path;
  auto id = q.get("system_id");
  if (id) ATRIUM_TRY(validateUuid(*id, "system_id"));
  return id;
}

}  // namespace

Status parsePaging(const QueryParams& q, std::int64_t default_limit, std::int64_t& limit,
                   std::int64_t& offset) {
  auto l = readInt(q, "limit", default_limit, 1, kMaxLimit);
  if (!l.ok()) return l.error();
  limit = *l;
  auto o = readInt(q, "offset", 0, 0, std::numeric_limits<std::int64_t>::max());
  if (!o.ok()) return o.error();
  offset = *o;
  return okStatus();
}

bool percentDecode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hexValue(in[i + 1]);
      int lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

Result<QueryParams> QueryParams::parse(std::string_view query) {
  QueryParams out;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t amp = query.find('&', start);
    std::string_view part =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!part.empty()) {
      std::size_t eq = part.find('=');
      std::string name;
      std::string value;
      if (!percentDecode(part.substr(0, eq), name, true) ||
          (eq != std::string_view::npos && !percentDecode(part.substr(eq + 1), value, true))) {
        return Error::invalid("malformed percent-encoding in query parameter " +
                              jsonQuote(part.substr(0, eq)));
      }
      if (out.get(name)) {
        return Error::invalid("query parameter " + jsonQuote(name) + " is given more than once",
                              name);
      }
      out.params_.emplace_back(std::move(name), std::move(value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return out;
}

std::optional<std::string> QueryParams::get(std::string_view name) const {
  for (const auto& [k, v] : params_) {
    if (k == name) return v;
  }
  return std::nullopt;
}

Status QueryParams::rejectUnknown(std::initializer_list<std::string_view> known) const {
  for (const auto& [k, v] : params_) {
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    std::string list;
    for (auto n : known) {
      if (!list.empty()) list += ", ";
      list += n;
    }
    return Error::invalid(
        "unknown query parameter " + jsonQuote(k) +
            (known.size() ? " (known: " + list + ")" : std::string(" (none taken)")),
        k);
  }
  return okStatus();
}

Result<Target> parseTarget(std::string_view target) {
  Target out;
  std::size_t q = target.find('?');
  out.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    auto params = QueryParams::parse(target.substr(q + 1));
    if (!params.ok()) return params.error();
    out.query = std::move(*params);
  }
  return out;
}

Result<store::SystemFilter> parseSystemFilter(const QueryParams& q) {
  ATRIUM_TRY(q.rejectUnknown({"family", "folder_id", "unfiled", "status", "connectivity", "q",
                              "address", "sort", "limit", "offset"}));
  store::SystemFilter f;
  f.family = q.get("family");
  if (f.family) ATRIUM_TRY(validateFamily(*f.family));
  f.folder_id = q.get("folder_id");
  if (f.folder_id) ATRIUM_TRY(validateUuid(*f.folder_id, "folder_id"));
  auto unfiled = readBool(q, "unfiled");
  if (!unfiled.ok()) return unfiled.error();
  f.unfiled = *unfiled;
  if (f.unfiled && f.folder_id) {
    return Error::invalid("query parameters \"folder_id\" and \"unfiled\" exclude each other",
                          "unfiled");
  }
  f.status = q.get("status");
  ATRIUM_TRY(checkText(f.status, "status"));
  f.connectivity = q.get("connectivity");
  if (f.connectivity) ATRIUM_TRY(validateConnectivity(*f.connectivity));
  f.name_contains = q.get("q");
  ATRIUM_TRY(checkText(f.name_contains, "q"));
  f.address = q.get("address");
  ATRIUM_TRY(checkText(f.address, "address"));
  if (auto sort = q.get("sort")) {
    std::string_view key = *sort;
    f.order = store::SortOrder::kAscending;
    if (!key.empty() && key.front() == '-') {
      f.order = store::SortOrder::kDescending;
      key.remove_prefix(1);
    }
    if (std::find(kSortKeys.begin(), kSortKeys.end(), key) == kSortKeys.end()) {
      return Error::invalid("query parameter \"sort\" must be one of " + joinNames(kSortKeys) +
                                ", optionally with a leading '-' for descending order (got " +
                                jsonQuote(*sort) + ")",
                            "sort");
    }
    f.sort = std::string(key);
  }
  ATRIUM_TRY(parsePaging(q, 50, f.limit, f.offset));
  return f;
}

Result<store::AuditFilter> parseAuditFilter(const QueryParams& q) {
  ATRIUM_TRY(q.rejectUnknown({"entity_type", "entity_id", "actor", "limit", "offset"}));
  store::AuditFilter f;
  f.entity_type = q.get("entity_type");
  ATRIUM_TRY(checkText(f.entity_type, "entity_type"));
  f.entity_id = q.get("entity_id");
  ATRIUM_TRY(checkText(f.entity_id, "entity_id"));
  f.actor = q.get("actor");
  ATRIUM_TRY(checkText(f.actor, "actor"));
  ATRIUM_TRY(parsePaging(q, 100, f.limit, f.offset));
  return f;
}

Result<store::EventFilter> parseEventFilter(const QueryParams& q,
                                           const std::optional<std::string>& system_id) {
  if (system_id) {
    ATRIUM_TRY(q.rejectUnknown({"since", "since_id", "source", "kind", "limit", "offset"}));
  } else {
    ATRIUM_TRY(
        q.rejectUnknown({"since", "since_id", "source", "kind", "system_id", "limit", "offset"}));
  }
  store::EventFilter f;
  auto id = readSystemId(q, system_id);
  if (!id.ok()) return id.error();
  f.system_id = *id;
  auto since = readTime(q, "since");
  if (!since.ok()) return since.error();
  f.since = *since;
  if (q.get("since_id")) {
    auto since_id = readInt(q, "since_id", 0, 0, std::numeric_limits<std::int64_t>::max());
    if (!since_id.ok()) return since_id.error();
    f.since_id = *since_id;
  }
  f.source = q.get("source");
  ATRIUM_TRY(checkText(f.source, "source"));
  f.kind = q.get("kind");
  ATRIUM_TRY(checkText(f.kind, "kind"));
  ATRIUM_TRY(parsePaging(q, 100, f.limit, f.offset));
  return f;
}

Result<store::CallRecordFilter> parseCallFilter(const QueryParams& q,
                                                const std::optional<std::string>& system_id) {
  if (system_id) {
    ATRIUM_TRY(q.rejectUnknown({"since", "open", "limit", "offset"}));
  } else {
    ATRIUM_TRY(q.rejectUnknown({"since", "open", "system_id", "limit", "offset"}));
  }
  store::CallRecordFilter f;
  auto id = readSystemId(q, system_id);
  if (!id.ok()) return id.error();
  f.system_id = *id;
  auto since = readTime(q, "since");
  if (!since.ok()) return since.error();
  f.since = *since;
  auto open = readBool(q, "open");
  if (!open.ok()) return open.error();
  f.open_only = *open;
  ATRIUM_TRY(parsePaging(q, 100, f.limit, f.offset));
  return f;
}

Result<store::TicketFilter> parseTicketFilter(const QueryParams& q) {
  ATRIUM_TRY(q.rejectUnknown({"system_id", "kind", "all", "limit", "offset"}));
  store::TicketFilter f;
  auto id = readSystemId(q, std::nullopt);
  if (!id.ok()) return id.error();
  f.system_id = *id;
  f.kind = q.get("kind");
  ATRIUM_TRY(checkText(f.kind, "kind"));
  auto all = readBool(q, "all");
  if (!all.ok()) return all.error();
  f.open_only = !*all;
  ATRIUM_TRY(parsePaging(q, 100, f.limit, f.offset));
  return f;
}

Result<bool> parseFolderListTree(const QueryParams& q) {
  ATRIUM_TRY(q.rejectUnknown({"tree"}));
  return readBool(q, "tree");
}

}  // namespace atrium::api
