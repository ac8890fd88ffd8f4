#include "api/device_json.h"

#include "api/json_body.h"
#include "api/validation.h"
#include "common/clock.h"

namespace atrium::api {

using nlohmann::json;

namespace {

json optTime(const std::optional<store::TimePoint>& t) {
  return t ? json(formatTimestamp(*t)) : json(nullptr);
}

json optString(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

enum class AddressKind { kIpv4, kIpv6, kFqdn };

Status checkAddress(const std::string& value, std::string_view field, AddressKind kind) {
  if (value.empty()) return okStatus();
  bool valid = false;
  std::string_view expected;
  switch (kind) {
    case AddressKind::kIpv4:
      valid = isIpv4(value);
      expected = "an IPv4 address";
      break;
    case AddressKind::kIpv6:
      valid = isIpv6(value);
      expected = "an IPv6 address (without brackets)";
      break;
    case AddressKind::kFqdn:
      valid = isHostName(value) && value.find('.') != std::string::npos;
      expected = "a fully qualified host name";
      break;
  }
  if (valid) return okStatus();
  return Error::invalid(jsonQuote(field) + " must be " + std::string(expected) + " or \"\" (got " +
                            jsonQuote(value) + ")",
                        std::string(field));
}

}  // namespace

json eventToJson(const store::StoredEvent& e) {
  json payload = json::parse(e.payload, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded()) payload = e.payload;
  return {{"id", e.id},
          {"system_id", optString(e.system_id)},
          {"idempotency_key", e.idempotency_key},
          {"source", e.source},
          {"kind", e.kind},
          {"received_at", formatTimestamp(e.received_at)},
          {"occurred_at", optTime(e.occurred_at)},
          {"node", e.node},
          {"source_address", e.source_address},
          {"payload", std::move(payload)}};
}

json callRecordToJson(const store::CallRecord& c) {
  return {{"id", c.id},
          {"system_id", c.system_id},
          {"call_id", c.call_id},
          {"direction", c.direction},
          {"remote", c.remote},
          {"protocol", c.protocol},
          {"started_at", formatTimestamp(c.started_at)},
          {"ended_at", optTime(c.ended_at)},
          {"duration_seconds", c.duration_seconds ? json(*c.duration_seconds) : json(nullptr)},
          {"cause", c.cause},
          {"source", c.source},
          {"open", !c.ended_at.has_value()}};
}

json ticketToJson(const store::Ticket& t) {
  return {{"id", t.id},
          {"system_id", optString(t.system_id)},
          {"kind", t.kind},
          {"severity", t.severity},
          {"message", t.message},
          {"first_seen", formatTimestamp(t.first_seen)},
          {"last_seen", formatTimestamp(t.last_seen)},
          {"cleared_at", optTime(t.cleared_at)},
          {"acknowledged_at", optTime(t.acknowledged_at)},
          {"acknowledged_by", t.acknowledged_by.empty() ? json(nullptr) : json(t.acknowledged_by)}};
}

json serverAddressesToJson(const store::ServerAddresses& a) {
  return {{"lan_ipv4", a.lan_ipv4},       {"lan_ipv6", a.lan_ipv6},
          {"lan_fqdn", a.lan_fqdn},       {"public_ipv4", a.public_ipv4},
          {"public_fqdn", a.public_fqdn}, {"http_port", a.http_port}};
}

Result<store::ServerAddresses> parseServerAddresses(std::string_view body) {
  auto parsed = parseJsonObject(body, "server addresses");
  if (!parsed.ok()) return parsed.error();
  JsonFields f(*parsed);
  store::ServerAddresses out;
  struct Field {
    const char* name;
    std::string* target;
    AddressKind kind;
  };
  const Field fields[] = {{"lan_ipv4", &out.lan_ipv4, AddressKind::kIpv4},
                          {"lan_ipv6", &out.lan_ipv6, AddressKind::kIpv6},
                          {"lan_fqdn", &out.lan_fqdn, AddressKind::kFqdn},
                          {"public_ipv4", &out.public_ipv4, AddressKind::kIpv4},
                          {"public_fqdn", &out.public_fqdn, AddressKind::kFqdn}};
  for (const Field& field : fields) {
    auto v = f.optionalString(field.name);
    if (!v.ok()) return v.error();
    if (*v) *field.target = std::move(**v);
  }
  auto port = f.optionalInteger("http_port");
  if (!port.ok()) return port.error();
  ATRIUM_TRY(f.finish());
  for (const Field& field : fields) ATRIUM_TRY(checkAddress(*field.target, field.name, field.kind));
  if (*port) {
    if (**port < 1 || **port > 65535) {
      return Error::invalid("\"http_port\" must be an integer from 1 to 65535", "http_port");
    }
    out.http_port = static_cast<std::uint16_t>(**port);
  }
  return out;
}

Result<std::map<std::string, std::string>> parseSoftwareVersions(std::string_view body) {
  constexpr std::size_t kMaxLength = 255;
  auto parsed = parseJsonObject(body, "software versions");
  if (!parsed.ok()) return parsed.error();
  std::map<std::string, std::string> out;
  for (const auto& [model, version] : parsed->items()) {
    if (model.empty()) return Error::invalid("a model name must not be empty");
    if (model.size() > kMaxLength) {
      return Error::invalid("a model name must be at most 255 bytes long");
    }
    if (!version.is_string()) {
      return Error::invalid("the expected version of \"" + model + "\" must be a string, not " +
                                jsonTypeName(version),
                            model);
    }
    const auto& v = version.get_ref<const std::string&>();
    if (v.empty() || v.size() > kMaxLength) {
      return Error::invalid("the expected version of \"" + model +
                                "\" must be a non-empty string of at most 255 bytes",
                            model);
    }
    out.emplace(model, v);
  }
  return out;
}

}  // namespace atrium::api
