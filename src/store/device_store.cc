#include "store/device_store.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "common/log.h"
#include "common/redact.h"
#include "store/catalogue.h"
#include "store/paging.h"
#include "store/system_rows.h"

namespace atrium::store {
namespace {

using nlohmann::json;

constexpr const char* kServerAddressesKey = "server_addresses";
constexpr const char* kSoftwareVersionsKey = "expected_software_versions";

Value optText(const std::optional<std::string>& s) { return s ? Value(*s) : Value(nullptr); }
Value optTime(const std::optional<TimePoint>& t) { return t ? Value(toMs(*t)) : Value(nullptr); }

Result<ManagedSystem> managedFromRow(const Rows& r, std::size_t i) {
  auto s = systemFromRow(r, i);
  if (!s.ok()) return s.error();
  ManagedSystem m;
  m.system = std::move(s).value();
  m.feedback_secret = r.text(i, kFeedbackSecretColumn);
  m.h323_id = m.system.h323_id;
  m.e164_alias = m.system.e164_alias;
  m.sip_uri = m.system.sip_uri;
  m.reported_address = m.system.reported_address;
  return m;
}

Result<std::vector<ManagedSystem>> managedList(Result<Rows> r) {
  if (!r.ok()) return r.error();
  std::vector<ManagedSystem> out;
  out.reserve(r->size());
  for (std::size_t i = 0; i < r->size(); ++i) {
    auto m = managedFromRow(*r, i);
    if (!m.ok()) return m.error();
    out.push_back(std::move(m).value());
  }
  return out;
}

StoredEvent eventFromRow(const Rows& r, std::size_t i) {
  StoredEvent e;
  e.id = r.integer(i, 0);
  e.system_id = r.optText(i, 1);
  e.idempotency_key = r.text(i, 2);
  e.source = r.text(i, 3);
  e.kind = r.text(i, 4);
  e.received_at = fromMs(r.integer(i, 5));
  if (auto t = r.optInteger(i, 6)) e.occurred_at = fromMs(*t);
  e.node = r.text(i, 7);
  e.source_address = r.text(i, 8);
  e.payload = r.text(i, 9);
  return e;
}

CallRecord callFromRow(const Rows& r, std::size_t i) {
  CallRecord c;
  c.id = r.integer(i, 0);
  c.system_id = r.text(i, 1);
  c.call_id = r.text(i, 2);
  c.direction = r.text(i, 3);
  c.remote = r.text(i, 4);
  c.protocol = r.text(i, 5);
  c.started_at = fromMs(r.integer(i, 6));
  if (auto t = r.optInteger(i, 7)) c.ended_at = fromMs(*t);
  c.duration_seconds = r.optInteger(i, 8);
  c.cause = r.text(i, 9);
  c.source = r.text(i, 10);
  return c;
}

Ticket ticketFromRow(const Rows& r, std::size_t i) {
  Ticket t;
  t.id = r.integer(i, 0);
  t.system_id = r.optText(i, 1);
  t.kind = r.text(i, 2);
  t.severity = r.text(i, 3);
  t.message = r.text(i, 4);
  t.first_seen = fromMs(r.integer(i, 5));
  t.last_seen = fromMs(r.integer(i, 6));
  if (auto v = r.optInteger(i, 7)) t.cleared_at = fromMs(*v);
  if (auto v = r.optInteger(i, 8)) t.acknowledged_at = fromMs(*v);
  t.acknowledged_by = r.text(i, 9);
  return t;
}

// Takes the retry keys of a batch in one order (sorted), so two batches sharing keys cannot
// deadlock; a no-op where BEGIN already serialises writers (SQLite).
Status lockRetryKeys(Connection& conn, const Catalogue& cat,
                     const std::vector<StoredEvent>& events) {
  if (cat.lock_retry_key.empty()) return okStatus();
  std::set<std::string> keys;
  for (const StoredEvent& e : events) {
    if (e.retry_key) keys.insert(*e.retry_key);
  }
  for (const std::string& key : keys) {
    auto r = conn.query(cat.lock_retry_key, Params{key});
    if (!r.ok()) return r.error();
  }
  return okStatus();
}

// Takes the call locks (PostgreSQL) in the given (sorted) order.
Status lockCalls(Connection& conn, const Catalogue& cat, const std::set<std::string>& calls) {
  if (cat.lock_call.empty()) return okStatus();
  for (const std::string& key : calls) {
    auto r = conn.query(cat.lock_call, Params{key});
    if (!r.ok()) return r.error();
  }
  return okStatus();
}

// How long after its connect a call's disconnect may have been stored ahead of it.
constexpr auto kLateConnectWindow = std::chrono::hours(24 * 7);

Status callStartedOn(Connection& conn, const Catalogue& cat, const CallRecord& c) {
  // The disconnect got here first (another node stored it, or this connect comes from a spool):
  // the ended record gets its real start instead of a new open record that nothing would close.
  auto missed = conn.query(
      cat.select_missed_start_call,
      Params{c.system_id, c.call_id, toMs(c.started_at), toMs(c.started_at + kLateConnectWindow)});
  if (!missed.ok()) return missed.error();
  if (!missed->empty()) {
    const TimePoint ended = fromMs(missed->integer(0, 1));
    std::int64_t duration = missed->isNull(0, 2) ? 0 : missed->integer(0, 2);
    if (duration <= 0) {
      duration = std::chrono::duration_cast<std::chrono::seconds>(ended - c.started_at).count();
    }
    auto r =
        conn.query(cat.fill_missed_start,
                   Params{missed->integer(0, 0), toMs(c.started_at), duration,
                          c.direction.empty() ? "unknown" : c.direction, c.remote, c.protocol});
    if (!r.ok()) return r.error();
    return okStatus();
  }
  auto r = conn.query(cat.upsert_open_call,
                      Params{c.system_id, c.call_id, c.direction.empty() ? "unknown" : c.direction,
                             c.remote, c.protocol, toMs(c.started_at), c.source});
  if (!r.ok()) return r.error();
  return okStatus();
}

Status callEndedOn(Connection& conn, const Catalogue& cat, const CallRecord& c, TimePoint now) {
  const TimePoint ended = c.ended_at.value_or(now);
  const std::string direction = c.direction.empty() ? "unknown" : c.direction;
  auto open = conn.query(cat.select_open_call, Params{c.system_id, c.call_id});
  if (!open.ok()) return open.error();
  if (!open->empty()) {
    CallRecord existing = callFromRow(*open, 0);
    std::int64_t duration = c.duration_seconds.value_or(
        std::chrono::duration_cast<std::chrono::seconds>(ended - existing.started_at).count());
    auto r = conn.query(cat.end_call, Params{existing.id, toMs(ended), duration, c.cause, c.remote,
                                             c.protocol, direction});
    if (!r.ok()) return r.error();
    return okStatus();
  }
  // No open record (the start was missed): an ended one, started `duration` before its end.
  std::int64_t duration = c.duration_seconds.value_or(0);
  TimePoint started = c.started_at == TimePoint{} ? ended - std::chrono::seconds(duration)
                                                  : c.started_at;
  auto r =
      conn.query(cat.insert_ended_call,
                 Params{c.system_id, c.call_id, direction, c.remote, c.protocol, toMs(started),
                        toMs(ended), duration, c.cause, c.source, c.started_at == TimePoint{}});
  if (!r.ok()) return r.error();
  return okStatus();
}

json addressesJson(const ServerAddresses& a) {
  return json{{"lan_ipv4", a.lan_ipv4},       {"lan_ipv6", a.lan_ipv6},
              {"lan_fqdn", a.lan_fqdn},       {"public_ipv4", a.public_ipv4},
              {"public_fqdn", a.public_fqdn}, {"http_port", a.http_port}};
}

}  // namespace

DeviceStore::DeviceStore(Database& db, const Clock& clock)
    : db_(db), clock_(clock), credentials_(std::make_unique<CredentialOpener>(db)) {}

Result<std::string> DeviceStore::systemPassword(const System& system) {
  return credentials_->open(system.password);
}

std::string DeviceStore::systemPasswordOrEmpty(const System& system) {
  auto clear = systemPassword(system);
  if (clear.ok()) return std::move(*clear);
  log::warn("system.password_unreadable",
            {{"system_id", system.id}, {"reason", clear.error().message}});
  return {};
}

// ---- systems -----------------------------------------------------------------------------

Result<std::vector<ManagedSystem>> DeviceStore::managedSystems(const std::string& after_id,
                                                               std::int64_t limit) {
  if (limit < 0) return Error::invalid("limit must not be negative", "limit");
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return managedList(
      (**pooled).query(catalogueFor(db_.dialect()).select_systems_after, Params{after_id, limit}));
}

Result<ManagedSystem> DeviceStore::managedSystem(const std::string& id) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto list = managedList((**pooled).query(catalogueFor(db_.dialect()).select_system, Params{id}));
  if (!list.ok()) return list.error();
  if (list->empty()) return Error::notFound(fmt::format("system {} does not exist", id));
  return std::move(list->front());
}

Result<ManagedSystem> DeviceStore::systemByFeedbackSecret(const std::string& secret) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto list = managedList(
      (**pooled).query(catalogueFor(db_.dialect()).select_system_by_secret, Params{secret}));
  if (!list.ok()) return list.error();
  if (list->empty()) return Error::notFound("no system has this feedback secret");
  return std::move(list->front());
}

Result<std::vector<std::pair<std::string, std::string>>> DeviceStore::feedbackSecrets(
    TimePoint created_since) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto rows = (**pooled).query(catalogueFor(db_.dialect()).select_feedback_secrets,
                               Params{toMs(created_since)});
  if (!rows.ok()) return rows.error();
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(rows->size());
  for (std::size_t i = 0; i < rows->size(); ++i)
    out.emplace_back(rows->text(i, 0), rows->text(i, 1));
  return out;
}

Result<std::vector<ManagedSystem>> DeviceStore::systemsByAddress(const std::string& address) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return managedList(
      (**pooled).query(catalogueFor(db_.dialect()).select_systems_by_address, Params{address}));
}

Status DeviceStore::recordPoll(const PollObservation& o, const std::optional<Fence>& fence) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Params params{o.system_id,
                o.status,
                o.reachable ? Value(toMs(o.at)) : Value(nullptr),
                toMs(o.at),
                redactSecrets(o.error),
                std::int64_t{o.active_calls},
                o.h323_status,
                o.sip_status,
                o.model,
                o.serial_number,
                o.software_version,
                o.mac_address,
                o.reported_address,
                o.reported_name};
  if (fence) {
    params.emplace_back(fence->holder);
    params.emplace_back(fence->lease_key);
    params.emplace_back(fence->token);
  } else {
    params.emplace_back(o.node_id);
  }
  const std::string_view sql = fence ? cat.update_system_poll_fenced : cat.update_system_poll;
  auto r = (**pooled).query(sql, params);
  if (!r.ok() && r.error().code == ErrorCode::kConflict && r.error().field == "serial_number") {
    // Another system holds this serial number (a duplicate the tickets report): keep ours.
    params[9] = std::string();
    r = (**pooled).query(sql, params);
  }
  if (!r.ok()) return r.error();
  if (r->affected > 0) return okStatus();
  if (fence) {
    auto exists = (**pooled).query(cat.select_system, Params{o.system_id});
    if (!exists.ok()) return exists.error();
    if (!exists->empty()) {
      return Error::conflict(fmt::format("lease {} no longer held by this node (token {})",
                                         fence->lease_key, fence->token));
    }
  }
  return Error::notFound(fmt::format("system {} does not exist", o.system_id));
}

Status DeviceStore::setConnectivity(const std::string& system_id, const std::string& connectivity) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(catalogueFor(db_.dialect()).update_system_connectivity,
                            Params{system_id, connectivity});
  if (!r.ok()) return r.error();
  if (r->affected == 0) return Error::notFound(fmt::format("system {} does not exist", system_id));
  return okStatus();
}

// ---- events ------------------------------------------------------------------------------

Result<int> DeviceStore::insertEvents(const std::vector<StoredEvent>& events) {
  auto stored = storeEvents(events, {});
  if (!stored.ok()) return stored.error();
  return static_cast<int>(stored->size());
}

Result<std::vector<StoredEvent>> DeviceStore::storeEvents(
    const std::vector<StoredEvent>& events, const std::vector<CallUpdate>& call_updates) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  std::vector<StoredEvent> fresh;
  if (events.empty()) return fresh;
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  std::vector<bool> may_touch_calls(events.size(), false);  // new, and its system exists
  ATRIUM_TRY(lockRetryKeys(conn, cat, events));
  for (std::size_t i = 0; i < events.size(); ++i) {
    const StoredEvent& e = events[i];
    if (e.idempotency_key.empty()) {
      return Error::invalid("an event needs an idempotency key", "idempotency_key");
    }
    if (e.retry_key) {
      const std::int64_t at = toMs(e.received_at);
      const std::int64_t window = kRetryWindow.count();
      auto seen =
          conn.query(cat.select_retry_within, Params{*e.retry_key, at - window, at + window});
      if (!seen.ok()) return seen.error();
      if (!seen->empty()) continue;  // a retry of content stored within the window
    }
    auto r =
        conn.query(cat.insert_event,
                   Params{optText(e.system_id), e.idempotency_key, e.source, e.kind,
                          toMs(e.received_at), optTime(e.occurred_at), e.node, e.source_address,
                          e.payload.empty() ? "{}" : e.payload, optText(e.retry_key)});
    if (!r.ok()) return r.error();
    if (r->empty()) continue;  // stored before
    // A call record needs its system: an event replayed from the spool after its system was
    // removed is kept (system NULL) but opens or ends no call.
    may_touch_calls[i] = !r->isNull(0, 1);
    StoredEvent stored = e;
    stored.id = r->integer(0, 0);
    stored.system_id = r->optText(0, 1);
    stored.received_at = truncateMs(e.received_at);
    if (stored.occurred_at) stored.occurred_at = truncateMs(*stored.occurred_at);
    fresh.push_back(std::move(stored));
  }
  const TimePoint now = clock_.now();
  {
    // One order for the call locks too, so two batches cannot deadlock on them.
    std::set<std::string> calls;
    for (const CallUpdate& u : call_updates) {
      if (u.event_index < events.size() && may_touch_calls[u.event_index]) {
        calls.insert(u.record.system_id + ":" + u.record.call_id);
      }
    }
    ATRIUM_TRY(lockCalls(conn, cat, calls));
  }
  for (const CallUpdate& u : call_updates) {
    if (u.event_index >= events.size() || !may_touch_calls[u.event_index]) continue;
    if (u.kind == CallUpdate::Kind::kStarted) {
      ATRIUM_TRY(callStartedOn(conn, cat, u.record));
    } else {
      ATRIUM_TRY(callEndedOn(conn, cat, u.record, now));
    }
  }
  ATRIUM_TRY(tx.commit());
  return fresh;
}

Result<Page<StoredEvent>> DeviceStore::events(const EventFilter& f) {
  ATRIUM_TRY(checkPaging(f.limit, f.offset));
  const Catalogue& cat = catalogueFor(db_.dialect());
  Params params{optText(f.system_id), f.since_id ? Value(*f.since_id) : Value(nullptr),
                optTime(f.since), optText(f.source), optText(f.kind)};
  const bool oldest_first = f.since_id.has_value() || f.since.has_value();
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return pageOf<StoredEvent>(
      **pooled, cat.count_events,
      oldest_first ? cat.list_events_oldest_first : cat.list_events_newest_first,
      std::move(params), f.limit, f.offset, eventFromRow);
}

Result<std::vector<StoredEvent>> DeviceStore::eventsAfter(std::int64_t after_id,
                                                          std::int64_t limit) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto rows = (*pooled)->query(cat.select_events_after, Params{after_id, limit});
  if (!rows.ok()) return rows.error();
  std::vector<StoredEvent> out;
  out.reserve(rows->size());
  for (std::size_t i = 0; i < rows->size(); ++i) out.push_back(eventFromRow(*rows, i));
  return out;
}

Result<std::int64_t> DeviceStore::newestEventId() {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto rows = (*pooled)->query(cat.select_newest_event_id);
  if (!rows.ok()) return rows.error();
  return rows->empty() ? 0 : rows->integer(0, 0);
}

// ---- call records ------------------------------------------------------------------------

Status DeviceStore::callStarted(const CallRecord& record) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  ATRIUM_TRY(
      lockCalls(conn, catalogueFor(db_.dialect()), {record.system_id + ":" + record.call_id}));
  ATRIUM_TRY(callStartedOn(conn, catalogueFor(db_.dialect()), record));
  return tx.commit();
}

Status DeviceStore::callEnded(const CallRecord& record) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  ATRIUM_TRY(
      lockCalls(conn, catalogueFor(db_.dialect()), {record.system_id + ":" + record.call_id}));
  ATRIUM_TRY(callEndedOn(conn, catalogueFor(db_.dialect()), record, clock_.now()));
  return tx.commit();
}

Result<Page<CallRecord>> DeviceStore::callRecords(const CallRecordFilter& f) {
  ATRIUM_TRY(checkPaging(f.limit, f.offset));
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return pageOf<CallRecord>(**pooled, cat.count_calls, cat.list_calls,
                            Params{optText(f.system_id), optTime(f.since), f.open_only}, f.limit,
                            f.offset, callFromRow);
}

// ---- tickets -----------------------------------------------------------------------------

Result<Ticket> DeviceStore::raiseTicket(const std::optional<std::string>& system_id,
                                        const std::string& kind, const std::string& severity,
                                        const std::string& message) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(
      cat.upsert_open_ticket,
      Params{optText(system_id), kind, severity, redactSecrets(message), toMs(clock_.now())});
  if (!r.ok()) return r.error();
  if (r->empty()) return Error::internal("raising a ticket returned no row");
  return ticketFromRow(*r, 0);
}

Status DeviceStore::clearTicket(const std::optional<std::string>& system_id,
                                const std::string& kind) {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(catalogueFor(db_.dialect()).clear_ticket,
                            Params{optText(system_id), kind, toMs(clock_.now())});
  if (!r.ok()) return r.error();
  return okStatus();
}

Result<Ticket> DeviceStore::acknowledgeTicket(std::int64_t id, const std::string& actor) {
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  const TimePoint now = truncateMs(clock_.now());
  auto r = conn.query(cat.acknowledge_ticket, Params{id, toMs(now), actor});
  if (!r.ok()) return r.error();
  if (r->empty()) return Error::notFound(fmt::format("ticket {} does not exist", id));
  Ticket t = ticketFromRow(*r, 0);
  ATRIUM_TRY(
      writeAudit(conn, now, actor, "acknowledge", "ticket", std::to_string(id), json::object(),
                 json{{"acknowledged_at", formatTimestamp(now)}, {"acknowledged_by", actor}}));
  ATRIUM_TRY(tx.commit());
  return t;
}

Result<Page<Ticket>> DeviceStore::tickets(const TicketFilter& f) {
  ATRIUM_TRY(checkPaging(f.limit, f.offset));
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  return pageOf<Ticket>(**pooled, cat.count_tickets, cat.list_tickets,
                        Params{optText(f.system_id), optText(f.kind), f.open_only}, f.limit,
                        f.offset, ticketFromRow);
}

// ---- installation settings -----------------------------------------------------------------

Result<ServerAddresses> DeviceStore::serverAddresses() {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(catalogueFor(db_.dialect()).select_setting,
                            Params{std::string(kServerAddressesKey)});
  if (!r.ok()) return r.error();
  ServerAddresses out;
  if (r->empty()) return out;
  auto j = json::parse(r->text(0, 0), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Error::internal("the stored server addresses are not a JSON object");
  }
  out.lan_ipv4 = j.value("lan_ipv4", "");
  out.lan_ipv6 = j.value("lan_ipv6", "");
  out.lan_fqdn = j.value("lan_fqdn", "");
  out.public_ipv4 = j.value("public_ipv4", "");
  out.public_fqdn = j.value("public_fqdn", "");
  out.http_port = j.value("http_port", std::uint16_t{8080});
  return out;
}

Status DeviceStore::setServerAddresses(const ServerAddresses& addresses, const std::string& actor) {
  auto before = serverAddresses();
  if (!before.ok()) return before.error();
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  const json value = addressesJson(addresses);
  auto r = conn.query(cat.upsert_setting, Params{std::string(kServerAddressesKey), value.dump()});
  if (!r.ok()) return r.error();
  ATRIUM_TRY(writeAudit(conn, clock_.now(), actor, "update", "settings", "server-addresses",
                        addressesJson(*before), value));
  return tx.commit();
}

Result<std::map<std::string, std::string>> DeviceStore::expectedSoftwareVersions() {
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  auto r = (**pooled).query(catalogueFor(db_.dialect()).select_setting,
                            Params{std::string(kSoftwareVersionsKey)});
  if (!r.ok()) return r.error();
  std::map<std::string, std::string> out;
  if (r->empty()) return out;
  auto j = json::parse(r->text(0, 0), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Error::internal("the stored expected software versions are not a JSON object");
  }
  for (const auto& [model, version] : j.items()) {
    if (!version.is_string()) {
      return Error::internal(
          fmt::format("the stored expected software version of {} is not a string", model));
    }
    out.emplace(model, version.get<std::string>());
  }
  return out;
}

Status DeviceStore::setExpectedSoftwareVersions(const std::map<std::string, std::string>& versions,
                                                const std::string& actor) {
  auto before = expectedSoftwareVersions();
  if (!before.ok()) return before.error();
  const Catalogue& cat = catalogueFor(db_.dialect());
  auto pooled = db_.acquire();
  if (!pooled.ok()) return pooled.error();
  Connection& conn = **pooled;
  Transaction tx(conn);
  ATRIUM_TRY(tx.begin());
  const json value(versions);
  auto r = conn.query(cat.upsert_setting, Params{std::string(kSoftwareVersionsKey), value.dump()});
  if (!r.ok()) return r.error();
  ATRIUM_TRY(writeAudit(conn, clock_.now(), actor, "update", "settings", "software-versions",
                        json(*before), value));
  return tx.commit();
}

}  // namespace atrium::store
