#include "api/system_json.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "api/json_body.h"
#include "api/validation.h"
#include "common/clock.h"
#include "store/cluster_store.h"

namespace atrium::api {

using nlohmann::json;

namespace {

void markReadOnly(JsonFields& fields) {
  fields.readOnly({"id", "status", "last_seen", "created_at", "updated_at", "last_polled_at",
                   "last_poll_error", "active_calls", "registration", "bucket", "last_polled_by"});
}

Result<std::vector<std::string>> checkAddresses(const std::vector<std::string>& raw) {
  if (raw.empty() || raw.size() > kMaxAddresses) {
    return Error::invalid("\"addresses\" must be a non-empty array of at most " +
                              std::to_string(kMaxAddresses) +
                              " IPv4 addresses, IPv6 addresses or host names (got " +
                              std::to_string(raw.size()) + ")",
                          "addresses");
  }
  std::vector<std::string> out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    auto addr = normalizeAddress(raw[i], "addresses[" + std::to_string(i) + "]");
    if (!addr.ok()) return addr.error();
    if (std::find(out.begin(), out.end(), *addr) != out.end()) {
      return Error::invalid("\"addresses\" lists " + jsonQuote(*addr) + " more than once",
                            "addresses");
    }
    out.push_back(std::move(*addr));
  }
  return out;
}

Status checkFolderId(const std::optional<std::string>& folder_id) {
  if (folder_id) return validateUuid(*folder_id, "folder_id");
  return okStatus();
}

Status checkSerial(const std::optional<std::string>& serial) {
  if (serial) return validateName(*serial, "serial_number");
  return okStatus();
}

// The persistent settings re-applied on boot: h323_id, e164_alias, sip_uri (each optional;
// "" clears).
struct Aliases {
  std::optional<std::string> h323_id;
  std::optional<std::string> e164_alias;
  std::optional<std::string> sip_uri;
};

Result<Aliases> readAliases(JsonFields& fields) {
  Aliases out;
  auto h323 = fields.optionalString("h323_id");
  if (!h323.ok()) return h323.error();
  auto e164 = fields.optionalString("e164_alias");
  if (!e164.ok()) return e164.error();
  auto sip = fields.optionalString("sip_uri");
  if (!sip.ok()) return sip.error();
  out.h323_id = std::move(*h323);
  out.e164_alias = std::move(*e164);
  out.sip_uri = std::move(*sip);
  return out;
}

Status checkAliases(const Aliases& a) {
  if (a.h323_id) ATRIUM_TRY(validateH323Id(*a.h323_id));
  if (a.e164_alias) ATRIUM_TRY(validateE164(*a.e164_alias));
  if (a.sip_uri) ATRIUM_TRY(validateSipUri(*a.sip_uri));
  return okStatus();
}

struct Credentials {
  std::optional<std::string> username;
  std::optional<std::string> password;
};

// "credentials": {"username","password"}, both optional; null clears both.
Result<std::optional<Credentials>> readCredentials(JsonFields& fields) {
  auto obj = fields.optionalObject("credentials");
  if (!obj.ok()) return obj.error();
  if (*obj == nullptr) return std::optional<Credentials>();
  if ((*obj)->is_null()) return std::optional<Credentials>(Credentials{"", ""});
  JsonFields inner(**obj, "credentials.");
  Credentials out;
  auto user = inner.optionalString("username");
  if (!user.ok()) return user.error();
  auto pass = inner.optionalString("password");
  if (!pass.ok()) return pass.error();
  ATRIUM_TRY(inner.finish());
  if (*user) ATRIUM_TRY(validateText(**user, "credentials.username"));
  if (*pass) ATRIUM_TRY(validateText(**pass, "credentials.password", kMaxPasswordChars));
  out.username = std::move(*user);
  out.password = std::move(*pass);
  return std::optional<Credentials>(std::move(out));
}

}  // namespace

Result<store::System> parseSystemCreate(std::string_view body) {
  auto parsed = parseJsonObject(body, "system");
  if (!parsed.ok()) return parsed.error();
  JsonFields f(*parsed);
  markReadOnly(f);

  store::System s;
  auto name = f.requiredString("name");
  if (!name.ok()) return name.error();
  auto family = f.requiredString("family");
  if (!family.ok()) return family.error();
  auto model = f.optionalString("model");
  if (!model.ok()) return model.error();
  auto addresses = f.optionalStringArray("addresses");
  if (!addresses.ok()) return addresses.error();
  auto folder_id = f.nullableString("folder_id");
  if (!folder_id.ok()) return folder_id.error();
  auto connectivity = f.optionalString("connectivity");
  if (!connectivity.ok()) return connectivity.error();
  auto serial = f.nullableString("serial_number");
  if (!serial.ok()) return serial.error();
  auto version = f.optionalString("software_version");
  if (!version.ok()) return version.error();
  auto credentials = readCredentials(f);
  if (!credentials.ok()) return credentials.error();
  auto aliases = readAliases(f);
  if (!aliases.ok()) return aliases.error();
  ATRIUM_TRY(f.finish());

  ATRIUM_TRY(validateName(*name, "name"));
  ATRIUM_TRY(checkAliases(*aliases));
  s.h323_id = aliases->h323_id.value_or("");
  s.e164_alias = aliases->e164_alias.value_or("");
  s.sip_uri = aliases->sip_uri.value_or("");
  s.name = std::move(*name);
  ATRIUM_TRY(validateFamily(*family));
  s.family = std::move(*family);
  if (*model) {
    ATRIUM_TRY(validateText(**model, "model"));
    s.model = std::move(**model);
  }
  if (!*addresses) {
    return Error::invalid(
        "\"addresses\" is required: a non-empty array of IPv4 addresses, IPv6 addresses or host "
        "names",
        "addresses");
  }
  auto checked = checkAddresses(**addresses);
  if (!checked.ok()) return checked.error();
  s.addresses = std::move(*checked);
  if (*folder_id) {
    ATRIUM_TRY(checkFolderId(**folder_id));
    s.folder_id = std::move(**folder_id);
  }
  if (*connectivity) {
    ATRIUM_TRY(validateConnectivity(**connectivity));
    s.connectivity = std::move(**connectivity);
  }
  if (*serial) {
    ATRIUM_TRY(checkSerial(**serial));
    s.serial_number = std::move(**serial);
  }
  if (*version) {
    ATRIUM_TRY(validateText(**version, "software_version"));
    s.software_version = std::move(**version);
  }
  if (*credentials) {
    s.username = (*credentials)->username.value_or("");
    s.password = (*credentials)->password.value_or("");
  }
  return s;
}

Result<store::SystemPatch> parseSystemPatch(std::string_view body) {
  auto parsed = parseJsonObject(body, "system");
  if (!parsed.ok()) return parsed.error();
  JsonFields f(*parsed);
  markReadOnly(f);

  store::SystemPatch p;
  auto name = f.optionalString("name");
  if (!name.ok()) return name.error();
  auto family = f.optionalString("family");
  if (!family.ok()) return family.error();
  auto model = f.optionalString("model");
  if (!model.ok()) return model.error();
  auto addresses = f.optionalStringArray("addresses");
  if (!addresses.ok()) return addresses.error();
  auto folder_id = f.nullableString("folder_id");
  if (!folder_id.ok()) return folder_id.error();
  auto connectivity = f.optionalString("connectivity");
  if (!connectivity.ok()) return connectivity.error();
  auto serial = f.nullableString("serial_number");
  if (!serial.ok()) return serial.error();
  auto version = f.optionalString("software_version");
  if (!version.ok()) return version.error();
  auto credentials = readCredentials(f);
  if (!credentials.ok()) return credentials.error();
  auto aliases = readAliases(f);
  if (!aliases.ok()) return aliases.error();
  ATRIUM_TRY(f.finish());

  ATRIUM_TRY(checkAliases(*aliases));
  p.h323_id = std::move(aliases->h323_id);
  p.e164_alias = std::move(aliases->e164_alias);
  p.sip_uri = std::move(aliases->sip_uri);
  if (*name) ATRIUM_TRY(validateName(**name, "name"));
  p.name = std::move(*name);
  if (*family) ATRIUM_TRY(validateFamily(**family));
  p.family = std::move(*family);
  if (*model) ATRIUM_TRY(validateText(**model, "model"));
  p.model = std::move(*model);
  if (*addresses) {
    auto checked = checkAddresses(**addresses);
    if (!checked.ok()) return checked.error();
    p.addresses = std::move(*checked);
  }
  if (*folder_id) ATRIUM_TRY(checkFolderId(**folder_id));
  p.folder_id = std::move(*folder_id);
  if (*connectivity) ATRIUM_TRY(validateConnectivity(**connectivity));
  p.connectivity = std::move(*connectivity);
  if (*serial) ATRIUM_TRY(checkSerial(**serial));
  p.serial_number = std::move(*serial);
  if (*version) ATRIUM_TRY(validateText(**version, "software_version"));
  p.software_version = std::move(*version);
  if (*credentials) {
    p.username = std::move((*credentials)->username);
    p.password = std::move((*credentials)->password);
  }
  return p;
}

Result<std::optional<std::string>> parseSystemMove(std::string_view body) {
  auto parsed = parseJsonObject(body, "move");
  if (!parsed.ok()) return parsed.error();
  JsonFields f(*parsed);
  auto folder_id = f.nullableString("folder_id");
  if (!folder_id.ok()) return folder_id.error();
  ATRIUM_TRY(f.finish());
  if (!*folder_id) {
    return Error::invalid("\"folder_id\" is required: a folder's id, or null for no folder",
                          "folder_id");
  }
  ATRIUM_TRY(checkFolderId(**folder_id));
  return std::move(**folder_id);
}

json systemToJson(const store::System& s) {
  json j = {
      {"id", s.id},
      {"name", s.name},
      {"family", s.family},
      {"model", s.model},
      {"addresses", s.addresses},
      {"folder_id", s.folder_id ? json(*s.folder_id) : json(nullptr)},
      {"connectivity", s.connectivity},
      {"serial_number", s.serial_number ? json(*s.serial_number) : json(nullptr)},
      {"software_version", s.software_version},
      {"status", s.status},
      {"last_seen", s.last_seen ? json(formatTimestamp(*s.last_seen)) : json(nullptr)},
      {"created_at", formatTimestamp(s.created_at)},
      {"updated_at", formatTimestamp(s.updated_at)},
      {"credentials", {{"set", !s.username.empty() || !s.password.empty()}}},
      {"h323_id", s.h323_id},
      {"e164_alias", s.e164_alias},
      {"sip_uri", s.sip_uri},
      {"last_polled_at", s.last_polled_at ? json(formatTimestamp(*s.last_polled_at)) : json(nullptr)},
      {"last_poll_error", s.last_poll_error},
      {"active_calls", s.active_calls},
      {"registration", {{"h323", s.h323_status}, {"sip", s.sip_status}}},
      {"bucket", store::bucketOf(s.id)},
      {"last_polled_by", s.last_polled_by ? json(*s.last_polled_by) : json(nullptr)},
  };
  return j;
}

}  // namespace atrium::api
