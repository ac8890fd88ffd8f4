#include "sim/manifest.h"

namespace atrium::sim {

nlohmann::json manifestJson(const std::vector<SimulatedSystem>& systems) {
  nlohmann::json out = nlohmann::json::array();
  for (const SimulatedSystem& s : systems) {
    out.push_back({{"index", s.index},
                   {"family", s.family},
                   {"name", s.name},
                   {"model", s.model},
                   {"address", s.address},
                   {"http_port", s.http_port},
                   {"snmp_port", s.snmp_port},
                   {"username", s.username},
                   {"password", s.password},
                   {"snmp_community", s.snmp_community},
                   {"serial_number", s.serial_number},
                   {"software_version", s.software_version},
                   {"mac_address", s.mac_address}});
  }
  return out;
}

Result<std::vector<SimulatedSystem>> parseManifest(const nlohmann::json& manifest) {
  if (!manifest.is_array()) return Error::invalid("a fleet manifest is a JSON array");
  std::vector<SimulatedSystem> out;
  try {
    for (const auto& item : manifest) {
      SimulatedSystem s;
      s.index = item.at("index").get<int>();
      s.family = item.at("family").get<std::string>();
      s.name = item.at("name").get<std::string>();
      s.model = item.value("model", "");
      s.address = item.at("address").get<std::string>();
      s.http_port = item.value("http_port", std::uint16_t{0});
      s.snmp_port = item.value("snmp_port", std::uint16_t{0});
      s.username = item.value("username", "");
      s.password = item.value("password", "");
      s.snmp_community = item.value("snmp_community", "");
      s.serial_number = item.value("serial_number", "");
      s.software_version = item.value("software_version", "");
      s.mac_address = item.value("mac_address", "");
      out.push_back(std::move(s));
    }
  } catch (const nlohmann::json::exception& e) {
    return Error::invalid(std::string("malformed fleet manifest: ") + e.what());
  }
  return out;
}

}  // namespace atrium::sim
