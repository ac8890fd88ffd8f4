// System passwords are encrypted at rest: a real node polls a simulated Cisco endpoint that
// requires its password. The database file holds no password in clear, only enc1 values naming
// the current validation key; `atrium keys rotate` beside the running node moves every value to
// the new key and polling goes on; a legacy clear value put into the database is encrypted at the
// next start. No log line holds a password.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>

#include "sim/fleet.h"
#include "store/database.h"
#include "support/atrium_node.h"
#include "support/process.h"

namespace atrium::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const net::Headers kJson{{"Content-Type", "application/json"}};
constexpr const char* kFleetPassword = "Fleet-pw-7Kq2x9-clear";
constexpr const char* kWrongPassword = "Wrong-pw-3Jd8s1-clear";

std::string simBaseAddress() {
  std::random_device rd;
  return fmt::format("127.{}.{}.1", 100 + rd() % 100, 1 + rd() % 250);
}

// The database file and its write-ahead log, as bytes.
std::string databaseBytes(const AtriumNode& node) {
  std::string bytes;
  for (const char* suffix : {"", "-wal", "-journal"}) {
    const auto path = node.dataDir() / (std::string("atrium.db") + suffix);
    if (std::filesystem::exists(path)) bytes += readFile(path);
  }
  return bytes;
}

struct Stored {
  std::map<std::string, std::string> passwords;  // system id -> stored text
  std::string current_key;
};

Stored readStored(const AtriumNode& node) {
  Stored out;
  auto db = store::Database::open("sqlite:" + (node.dataDir() / "atrium.db").string());
  EXPECT_TRUE(db.ok()) << db.error().message;
  if (!db.ok()) return out;
  auto pooled = (*db)->acquire();
  EXPECT_TRUE(pooled.ok());
  if (!pooled.ok()) return out;
  auto r = (**pooled).query("SELECT id, password FROM systems");
  EXPECT_TRUE(r.ok());
  for (std::size_t i = 0; r.ok() && i < r->size(); ++i)
    out.passwords[r->text(i, 0)] = r->text(i, 1);
  auto current = (**pooled).query("SELECT id FROM validation_keys WHERE retired_at IS NULL");
  EXPECT_TRUE(current.ok() && current->size() == 1u);
  if (current.ok() && current->size() == 1u) out.current_key = current->text(0, 0);
  return out;
}

void setStoredPassword(const AtriumNode& node, const std::string& id, const std::string& value) {
  auto db = store::Database::open("sqlite:" + (node.dataDir() / "atrium.db").string());
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto pooled = (*db)->acquire();
  ASSERT_TRUE(pooled.ok());
  auto r = (**pooled).query("UPDATE systems SET password = $2 WHERE id = $1",
                            std::vector<store::Value>{id, value});
  ASSERT_TRUE(r.ok()) << r.error().message;
}

json systemJson(const AtriumNode& node, const std::string& id) {
  auto r = node.http("GET", "/api/v1/systems/" + id);
  if (!r.ok() || r->status != 200) return nullptr;
  return AtriumNode::json(*r);
}

std::string text(const json& j, const char* key) {
  return j.is_object() && j[key].is_string() ? j[key].get<std::string>() : "";
}

// Waits for `n` polls that end after now, all of them successful.
bool pollsSucceed(const AtriumNode& node, const std::string& id, int n) {
  std::string last = text(systemJson(node, id), "last_polled_at");
  int seen = 0;
  return waitFor(
      [&] {
        auto s = systemJson(node, id);
        const std::string at = text(s, "last_polled_at");
        if (at.empty() || at == last) return false;
        last = at;
        if (!text(s, "last_poll_error").empty()) {
          seen = 0;
          return false;
        }
        return ++seen >= n;
      },
      40s, 100ms);
}

TEST(CredentialsTest, PasswordsAreEncryptedAtRestAndPollingSurvivesKeyRotation) {
  TempDir tmp;
  sim::FleetOptions fleet_options;
  fleet_options.cisco_xapi = 2;
  fleet_options.base_address = simBaseAddress();
  fleet_options.http_port = freePort();
  fleet_options.snmp_port = freeUdpPort();
  fleet_options.password = kFleetPassword;
  auto started = sim::Fleet::start(fleet_options);
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto& fleet = **started;

  AtriumNode::Options options;
  options.polling_section = fmt::format(
      "enabled = true\ninterval_s = 5\ntimeout_ms = 3000\nhttp_port = {}\n"
      "snmp_port = {}\n",
      fleet_options.http_port, fleet_options.snmp_port);
  AtriumNode node(tmp.path() / "n", options);
  ASSERT_EQ(node.init().exit_code, 0);
  ASSERT_TRUE(node.start().ok()) << node.log();
  auto dump_log = [&] { return "\n--- node log ---\n" + node.log(); };

  auto create = [&](const std::string& name, const sim::SimulatedSystem& s,
                    const std::string& password) {
    const json body{{"name", name},
                    {"family", "cisco-xapi"},
                    {"addresses", {s.address}},
                    {"credentials", {{"username", s.username}, {"password", password}}}};
    auto created = node.http("POST", "/api/v1/systems", body.dump(), kJson);
    EXPECT_TRUE(created.ok() && created->status == 201u)
        << (created.ok() ? created->body : created.error().message);
    return created.ok() ? AtriumNode::json(*created).value("id", "") : std::string();
  };
  const std::string good = create("Boardroom", fleet.systems().at(0), kFleetPassword);
  const std::string wrong = create("Lobby", fleet.systems().at(1), kWrongPassword);
  ASSERT_FALSE(good.empty());
  ASSERT_FALSE(wrong.empty());

  // The endpoint takes the right password and refuses the wrong one: it checks.
  ASSERT_TRUE(pollsSucceed(node, good, 1)) << systemJson(node, good).dump() << dump_log();
  ASSERT_TRUE(
      waitFor([&] { return !text(systemJson(node, wrong), "last_poll_error").empty(); }, 30s))
      << systemJson(node, wrong).dump();

  auto bytes = databaseBytes(node);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find(kFleetPassword), std::string::npos)
      << "a password is in clear in the database file";
  EXPECT_EQ(bytes.find(kWrongPassword), std::string::npos)
      << "a password is in clear in the database file";

  // Stored under the current key (read with the node stopped: SQLite serves one process).
  ASSERT_EQ(node.stop(), 0);
  const Stored before_rotation = readStored(node);
  ASSERT_TRUE(node.start().ok()) << node.log();
  ASSERT_EQ(before_rotation.passwords.size(), 2u);
  for (const auto& [id, stored] : before_rotation.passwords) {
    EXPECT_TRUE(stored.starts_with("enc1:" + before_rotation.current_key + ":"))
        << id << ": " << stored;
  }

  // Rotate beside the running node: every stored value moves to the new key; polling goes on.
  auto rotated = node.run({"keys", "rotate", "--config", node.configPath().string()});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.output;
  EXPECT_TRUE(pollsSucceed(node, good, 2)) << systemJson(node, good).dump() << dump_log();

  ASSERT_EQ(node.stop(), 0);
  Stored after_rotation = readStored(node);
  ASSERT_EQ(after_rotation.passwords.size(), 2u);
  EXPECT_NE(after_rotation.current_key, before_rotation.current_key);
  for (const auto& [id, stored] : after_rotation.passwords) {
    EXPECT_TRUE(stored.starts_with("enc1:" + after_rotation.current_key + ":"))
        << id << ": " << stored;
  }
  bytes = databaseBytes(node);
  EXPECT_EQ(bytes.find(kFleetPassword), std::string::npos);
  EXPECT_EQ(bytes.find(kWrongPassword), std::string::npos);

  // A legacy value in clear (as before encryption existed) is encrypted at the next start.
  setStoredPassword(node, good, kFleetPassword);
  ASSERT_TRUE(node.start().ok()) << node.log();
  EXPECT_TRUE(pollsSucceed(node, good, 1)) << systemJson(node, good).dump() << dump_log();
  EXPECT_NE(node.log().find("systems.passwords_encrypted"), std::string::npos) << dump_log();
  ASSERT_EQ(node.stop(), 0);
  Stored after_restart = readStored(node);
  EXPECT_TRUE(after_restart.passwords[good].starts_with("enc1:" + after_restart.current_key + ":"))
      << after_restart.passwords[good];
  bytes = databaseBytes(node);
  EXPECT_EQ(bytes.find(kFleetPassword), std::string::npos);

  // Nothing logged a password.
  EXPECT_EQ(node.log().find(kFleetPassword), std::string::npos) << dump_log();
  EXPECT_EQ(node.log().find(kWrongPassword), std::string::npos) << dump_log();
}

}  // namespace
}  // namespace atrium::testing
