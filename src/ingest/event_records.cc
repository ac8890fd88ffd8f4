#include "ingest/event_records.h"

#include <nlohmann/json.hpp>

#include "devices/event_key.h"
#include "store/system_rows.h"

namespace atrium::ingest {
namespace {

using nlohmann::json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json identityJson(const devices::SystemIdentity& id) {
  json j = json::object();
  auto put = [&](const char* key, const std::string& v) {
    if (!v.empty()) j[key] = v;
  };
  put("system_name", id.system_name);
  put("product", id.product);
  put("product_type", id.product_type);
  put("software_version", id.software_version);
  put("serial_number", id.serial_number);
  put("mac_address", id.mac_address);
  put("ipv4_address", id.ipv4_address);
  put("ipv6_address", id.ipv6_address);
  put("h323_id", id.h323_id);
  put("e164", id.e164);
  put("sip_uri", id.sip_uri);
  return j;
}

// Call id and remote party of a Polycom call trap: the first string varbinds, when present.
std::string varbindText(const json& payload, std::size_t nth) {
  std::size_t seen = 0;
  for (const auto& vb : payload.value("varbinds", json::array())) {
    if (vb.value("type", "") != "string") continue;
    if (seen++ == nth) return vb.value("value", "");
  }
  return {};
}

}  // namespace

store::StoredEvent storedDeviceEvent(const devices::DeviceEvent& event, std::string source,
                                     const Reception& reception) {
  store::StoredEvent e;
  e.system_id = reception.system_id;
  e.idempotency_key = event.idempotency_key;
  e.source = std::move(source);
  e.kind = std::string(devices::eventKindName(event.kind));
  e.received_at = reception.received_at;
  e.occurred_at = event.occurred_at;
  e.node = reception.node;
  e.source_address = reception.source_address;
  json values = json::array();
  for (const auto& [path, value] : event.values) values.push_back(json::array({path, value}));
  json payload = {{"values", std::move(values)}, {"identity", identityJson(event.identity)}};
  if (event.call) {
    const auto& c = *event.call;
    payload["call"] = {{"call_id", c.call_id},
                       {"direction", std::string(devices::callDirectionName(c.direction))},
                       {"remote", c.remote_number},
                       {"display_name", c.display_name},
                       {"protocol", c.protocol},
                       {"rate_kbps", c.rate_kbps},
                       {"duration_seconds", c.duration.count()}};
  }
  if (!event.cause_value.empty()) payload["cause_value"] = event.cause_value;
  if (!event.cause_string.empty()) payload["cause_string"] = event.cause_string;
  e.payload = dump(payload);
  return e;
}

std::string trapIdempotencyKey(const SnmpTrap& trap) {
  // Length-prefixed fields, so no two different traps encode alike.
  std::string data = "trap-v1";
  auto field = [&](std::string_view v) {
    data += std::to_string(v.size());
    data += ':';
    data += v;
  };
  field(trap.source_address);
  field(trap.trap_oid);
  field(std::to_string(trap.uptime_centiseconds));
  for (const auto& vb : trap.varbinds) {
    field(vb.oid);
    field(vb.type);
    field(vb.value);
  }
  return devices::sha256Hex(data);
}

store::StoredEvent storedTrapEvent(const SnmpTrap& trap, const Reception& reception) {
  store::StoredEvent e;
  e.system_id = reception.system_id;
  e.idempotency_key = trapIdempotencyKey(trap);
  e.source = "trap";
  e.kind = std::string(trapKindName(classifyTrap(trap.trap_oid)));
  e.received_at = reception.received_at;
  e.node = reception.node;
  e.source_address = reception.source_address;
  json varbinds = json::array();
  for (const auto& vb : trap.varbinds) {
    varbinds.push_back({{"oid", vb.oid}, {"type", vb.type}, {"value", vb.value}});
  }
  json payload = {{"trap_oid", trap.trap_oid},
                  {"uptime", trap.uptime_centiseconds},
                  {"version", trap.version},
                  {"inform", trap.inform},
                  {"varbinds", std::move(varbinds)}};
  if (!trap.agent_address.empty()) payload["agent_address"] = trap.agent_address;
  e.payload = dump(payload);
  return e;
}

std::vector<store::CallUpdate> callUpdatesFor(const std::vector<store::StoredEvent>& events) {
  std::vector<store::CallUpdate> out;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    if (!e.system_id) continue;
    const bool started = e.kind == "call-connected" || (e.source == "trap" && e.kind == "call-up");
    const bool ended =
        e.kind == "call-disconnected" || (e.source == "trap" && e.kind == "call-down");
    if (!started && !ended) continue;
    json payload = json::parse(e.payload, nullptr, false);
    if (payload.is_discarded() || !payload.is_object()) continue;
    store::CallRecord r;
    r.system_id = *e.system_id;
    r.source = e.source;
    const store::TimePoint at = e.occurred_at.value_or(e.received_at);
    if (e.source == "trap") {
      r.call_id = varbindText(payload, 0);
      if (r.call_id.empty()) r.call_id = "snmp";
      r.remote = varbindText(payload, 1);
      r.direction = "unknown";
    } else {
      json call = payload.value("call", json::object());
      r.call_id = call.value("call_id", "");
      if (r.call_id.empty()) continue;  // nothing to pair the start and the end on
      r.direction = call.value("direction", "unknown");
      r.remote = call.value("remote", "");
      r.protocol = call.value("protocol", "");
      std::int64_t duration = call.value("duration_seconds", std::int64_t{0});
      if (ended && duration > 0) r.duration_seconds = duration;
      std::string cause = payload.value("cause_string", "");
      std::string value = payload.value("cause_value", "");
      if (!value.empty()) cause = cause.empty() ? value : cause + " (" + value + ")";
      r.cause = cause;
    }
    if (started) {
      r.started_at = at;
      out.push_back({store::CallUpdate::Kind::kStarted, i, std::move(r)});
    } else {
      r.ended_at = at;
      out.push_back({store::CallUpdate::Kind::kEnded, i, std::move(r)});
    }
  }
  return out;
}

std::string encodeBatch(const std::vector<store::StoredEvent>& events) {
  json batch = json::array();
  for (const auto& e : events) {
    batch.push_back({{"system_id", e.system_id ? json(*e.system_id) : json(nullptr)},
                     {"key", e.idempotency_key},
                     {"source", e.source},
                     {"kind", e.kind},
                     {"received_at", store::toMs(e.received_at)},
                     {"occurred_at", e.occurred_at ? json(store::toMs(*e.occurred_at)) : json()},
                     {"node", e.node},
                     {"source_address", e.source_address},
                     {"payload", e.payload}});
    if (e.retry_key) batch.back()["retry_key"] = *e.retry_key;
  }
  return dump(json{{"v", 1}, {"events", std::move(batch)}});
}

Result<std::vector<store::StoredEvent>> decodeBatch(std::string_view record) {
  json j = json::parse(record, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("v", 0) != 1 || !j.contains("events") ||
      !j["events"].is_array()) {
    return Error::invalid("a spool record is not an event batch (version 1)");
  }
  std::vector<store::StoredEvent> out;
  try {
    for (const auto& item : j["events"]) {
      store::StoredEvent e;
      if (!item.at("system_id").is_null()) e.system_id = item.at("system_id").get<std::string>();
      e.idempotency_key = item.at("key").get<std::string>();
      e.source = item.at("source").get<std::string>();
      e.kind = item.at("kind").get<std::string>();
      e.received_at = store::fromMs(item.at("received_at").get<std::int64_t>());
      if (!item.at("occurred_at").is_null()) {
        e.occurred_at = store::fromMs(item.at("occurred_at").get<std::int64_t>());
      }
      e.node = item.at("node").get<std::string>();
      e.source_address = item.at("source_address").get<std::string>();
      e.payload = item.at("payload").get<std::string>();
      if (item.contains("retry_key")) e.retry_key = item.at("retry_key").get<std::string>();
      out.push_back(std::move(e));
    }
  } catch (const json::exception& ex) {
    return Error::invalid(std::string("a spool record's event is malformed: ") + ex.what());
  }
  return out;
}

}  // namespace atrium::ingest
