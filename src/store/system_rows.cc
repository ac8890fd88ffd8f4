#include "store/system_rows.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "store/catalogue.h"
#include "store/paging.h"

namespace atrium::store {

using nlohmann::json;

std::int64_t toMs(TimePoint t) {
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint fromMs(std::int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }
TimePoint truncateMs(TimePoint t) { return fromMs(toMs(t)); }

namespace {
Value optText(const std::optional<std::string>& s) { return s ? Value(*s) : Value(nullptr); }
}  // namespace

Result<System> systemFromRow(const Rows& r, std::size_t i) {
  System s;
  s.id = r.text(i, 0);
  s.name = r.text(i, 1);
  s.family = r.text(i, 2);
  s.model = r.text(i, 3);
  auto addresses = json::parse(r.text(i, 4), nullptr, false);
  if (addresses.is_discarded() || !addresses.is_array()) {
    return Error::internal(fmt::format("system {} has malformed addresses in the database", s.id));
  }
  for (const auto& a : addresses) {
    if (a.is_string()) s.addresses.push_back(a.get<std::string>());
  }
  s.folder_id = r.optText(i, 5);
  s.connectivity = r.text(i, 6);
  s.serial_number = r.optText(i, 7);
  s.software_version = r.text(i, 8);
  s.username = r.text(i, 9);
  s.password = r.text(i, 10);
  s.status = r.text(i, 11);
  if (auto seen = r.optInteger(i, 12)) s.last_seen = fromMs(*seen);
  s.created_at = fromMs(r.integer(i, 13));
  s.updated_at = fromMs(r.integer(i, 14));
  s.h323_id = r.text(i, 15);
  s.e164_alias = r.text(i, 16);
  s.sip_uri = r.text(i, 17);
  // 18: feedback_secret, never part of System.
  if (auto polled = r.optInteger(i, 19)) s.last_polled_at = fromMs(*polled);
  s.last_poll_error = r.text(i, 20);
  s.active_calls = static_cast<int>(r.integer(i, 21));
  s.h323_status = r.text(i, 22);
  s.sip_status = r.text(i, 23);
  s.mac_address = r.text(i, 24);
  s.reported_address = r.text(i, 25);
  s.reported_name = r.text(i, 26);
  s.last_polled_by = r.optText(i, 27);
  return s;
}

std::vector<Value> systemUpdateParams(const System& s) {
  return std::vector<Value>{s.id,
                            s.name,
                            s.family,
                            s.model,
                            json(s.addresses).dump(),
                            optText(s.folder_id),
                            s.connectivity,
                            optText(s.serial_number),
                            s.software_version,
                            s.username,
                            s.password,
                            s.status,
                            s.last_seen ? Value(toMs(*s.last_seen)) : Value(nullptr),
                            toMs(s.created_at),
                            toMs(s.updated_at),
                            s.h323_id,
                            s.e164_alias,
                            s.sip_uri};
}

std::vector<Value> systemInsertParams(const System& s, const std::string& feedback_secret) {
  auto params = systemUpdateParams(s);
  params.emplace_back(feedback_secret);
  return params;
}

Status writeAudit(Connection& conn, TimePoint at, const std::string& actor, std::string_view action,
                  std::string_view entity_type, const std::string& id,
                  const nlohmann::json& old_value, const nlohmann::json& new_value) {
  auto r = conn.query(catalogueFor(conn.dialect()).insert_audit,
                      Params{toMs(at), actor, std::string(action), std::string(entity_type), id,
                             old_value.dump(), new_value.dump()});
  if (!r.ok()) return r.error();
  return okStatus();
}

}  // namespace atrium::store
