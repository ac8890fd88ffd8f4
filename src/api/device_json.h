// Events, call records, tickets and server addresses as the API answers them, and the server
// addresses a PUT carries (validated: IPv4/IPv6 literals and FQDN host names where each belongs).
#pragma once

#include <nlohmann/json.hpp>
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

}  // namespace atrium::api
