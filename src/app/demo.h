// `atrium demo`: one server on SQLite with a simulated fleet (endpoints of every family and two
// bridges) registered, polled, posting feedback and sending traps, with calls being made and
// ended, so the API shows live systems, calls and events within seconds.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/clock.h"

namespace atrium::app {

struct DemoOptions {
  std::filesystem::path data_dir = "demo-data";
  std::string listen = "127.0.0.1:8080";
  int endpoints = 30;  // cisco-xapi, polycom and snmp systems
  int bridges = 2;     // cisco-mcu
  std::string sim_base_address = "127.20.0.1";
  std::uint16_t sim_http_port = 18080;
  std::uint16_t sim_snmp_port = 16161;
  bool activity = true;  // make and end calls, reboot now and then
  // The demo's administrator "admin": this password, else one made up on the first run and kept
  // in the data dir (demo-admin-password, mode 0600); printed at start.
  std::string admin_password;
};

int runDemo(const DemoOptions& options, const Clock& clock);

}  // namespace atrium::app
