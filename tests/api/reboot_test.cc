// A boot re-applies Atrium's persistent settings, end to end: a simulated Cisco endpoint and a
// real `atrium serve` that polls it. The poller registers HTTP feedback on the endpoint; someone
// then changes the endpoint's own settings at the codec and it reboots; the boot event it posts
// must lead the node to write back the system name, H.323 ID, E.164 alias and SIP URI it keeps.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <random>

#include "devices/driver.h"
#include "sim/fleet.h"
#include "support/atrium_node.h"
#include "support/process.h"

namespace atrium::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const net::Headers kJson{{"Content-Type", "application/json"}};

// An address block of its own, so tests running side by side do not collide.
std::string simBaseAddress() {
  std::random_device rd;
  return fmt::format("127.{}.{}.1", 100 + rd() % 100, 1 + rd() % 250);
}

std::string describe(const Result<devices::PersistentSettings>& s) {
  if (!s.ok()) return s.error().message;
  return fmt::format("name={} h323_id={} e164={} sip_uri={}", s->system_name, s->h323_id, s->e164_alias,
                     s->sip_uri);
}

TEST(RebootTest, ABootEventReappliesThePersistentSettings) {
  TempDir tmp;
  sim::FleetOptions fleet_options;
  fleet_options.cisco_xapi = 1;
  fleet_options.base_address = simBaseAddress();
  fleet_options.http_port = freePort();
  fleet_options.snmp_port = freeUdpPort();
  fleet_options.feedback_retry_interval = 200ms;
  auto started = sim::Fleet::start(fleet_options);
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto& fleet = **started;
  const sim::SimulatedSystem sim_system = fleet.systems().at(0);

  AtriumNode::Options options;
  options.polling_section = fmt::format("enabled = true\ninterval_s = 5\ntimeout_ms = 3000\nhttp_port = {}\n"
                                        "snmp_port = {}\n",
                                        fleet_options.http_port, fleet_options.snmp_port);
  AtriumNode node(tmp.path() / "n", options);
  ASSERT_EQ(node.init().exit_code, 0);
  ASSERT_TRUE(node.start().ok()) << node.log();
  auto dump_log = [&] { return "\n--- node log ---\n" + node.log(); };

  auto put = node.http("PUT", "/api/v1/settings/server-addresses",
                       json{{"lan_ipv4", "127.0.0.1"}, {"http_port", node.port()}}.dump(), kJson);
  ASSERT_TRUE(put.ok() && put->status == 200u) << (put.ok() ? put->body : put.error().message) << dump_log();

  const json create{{"name", "Boardroom"},
                    {"family", "cisco-xapi"},
                    {"addresses", {sim_system.address}},
                    {"credentials", {{"username", sim_system.username}, {"password", sim_system.password}}},
                    {"h323_id", "boardroom"},
                    {"e164_alias", "4711"},
                    {"sip_uri", "boardroom@example.com"}};
  auto created = node.http("POST", "/api/v1/systems", create.dump(), kJson);
  ASSERT_TRUE(created.ok() && created->status == 201u)
      << (created.ok() ? created->body : created.error().message) << dump_log();
  const std::string id = AtriumNode::json(*created)["id"];

  // The poller registers the node for HTTP feedback on the endpoint.
  const std::string feedback_prefix = fmt::format("http://127.0.0.1:{}/feedback/", node.port());
  ASSERT_TRUE(waitFor(
      [&] {
        auto status = fleet.status(0);
        if (!status.ok()) return false;
        for (const auto& slot : status->feedback_slots) {
          if (slot.url.rfind(feedback_prefix, 0) == 0 && slot.status != "Failed") return true;
        }
        return false;
      },
      30s))
      << dump_log();

  // Someone changes the codec's own settings; Atrium is not told.
  devices::PersistentSettings local{"Somebody's codec", "not-boardroom", "9999", "other@example.com"};
  devices::DriverTarget target;
  target.system_id = id;
  target.address = sim_system.address;
  target.port = sim_system.http_port;
  target.username = sim_system.username;
  target.password = sim_system.password;
  auto drivers = devices::builtinDrivers();
  devices::Driver* driver = drivers->find("cisco-xapi");
  ASSERT_NE(driver, nullptr);
  auto applied = driver->applySettings(target, local);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  auto changed = fleet.settings(0);
  ASSERT_TRUE(changed.ok() && changed->h323_id == "not-boardroom") << describe(changed);

  ASSERT_TRUE(fleet.reboot(0).ok());

  const bool reapplied = waitFor(
      [&] {
        auto s = fleet.settings(0);
        return s.ok() && s->system_name == "Boardroom" && s->h323_id == "boardroom" && s->e164_alias == "4711" &&
               s->sip_uri == "boardroom@example.com";
      },
      30s, 100ms);
  EXPECT_TRUE(reapplied) << describe(fleet.settings(0)) << dump_log();

  const std::string events_url = "/api/v1/systems/" + id + "/events?kind=boot";
  const bool boot_seen = waitFor(
      [&] {
        auto r = node.http("GET", events_url);
        if (!r.ok() || r->status != 200) return false;
        return AtriumNode::json(*r).value("total", 0) >= 1;
      },
      15s);
  EXPECT_TRUE(boot_seen) << dump_log();
  if (boot_seen) {
    auto events = AtriumNode::json(*node.http("GET", events_url));
    EXPECT_EQ(events["items"][0]["source"], "feedback") << events.dump();
    EXPECT_EQ(events["items"][0]["source_address"], sim_system.address) << events.dump();
  }
  fleet.stop();
}

}  // namespace
}  // namespace atrium::testing
