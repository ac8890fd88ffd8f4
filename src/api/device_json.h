// Events, call records, tickets and server addresses as the API answers them, and the
// installation settings a PUT carries: server addresses (validated: IPv4/IPv6 literals and FQDN
// host names where each belongs) and expected software versions.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "store/device_types.h"

namespace atrium::api {

nlohmann::json eventToJson(const store::StoredEvent& event);
nlohmann::json callRecordToJson(const store::CallRecord& call);
nlohmann::json ticketToJson(const store::Ticket& ticket);
nlohmann::json serverAddressesToJson(const store::ServerAddresses& addresses);

// PUT /api/v1/settings/server-addresses: {"lan_ipv4","lan_ipv6","lan_fqdn","public_ipv4",
// "public_fqdn","http_port"}; every address optional ("" or absent: none), http_port 1..65535
// (default 8080).
Result<store::ServerAddresses> parseServerAddresses(std::string_view body);

// PUT /api/v1/settings/software-versions: {"<model>": "<expected version>", ...}, models as
// systems report them; every model and version a non-empty string of at most 255 bytes; {}
// clears the setting.
Result<std::map<std::string, std::string>> parseSoftwareVersions(std::string_view body);

}  // namespace atrium::api
