// The HTTP API of a real `atrium serve` process, on SQLite and on a real PostgreSQL: the same
// tests for both.
#include <gtest/gtest.h>

#include <set>

#include <fmt/format.h>

#include "support/atrium_node.h"
#include "support/backends.h"

namespace atrium::testing {
namespace {

using nlohmann::json;

class ApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    AtriumNode::Options options;
    options.database_url = freshDatabaseUrl(GetParam(), tmp_.path());
    options.api_section_extra = "max_body_bytes = 65536\n";
    node_ = std::make_unique<AtriumNode>(tmp_.path() / "node", options);
    auto init = node_->init();
    ASSERT_EQ(init.exit_code, 0) << init.output;
    auto started = node_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
  }

  void TearDown() override {
    if (HasFailure() && node_) std::cerr << "--- node log ---\n" << node_->log() << "\n";
  }

  net::HttpResponse call(std::string_view method, std::string_view target, const json& body = nullptr,
                         const net::Headers& headers = {}) {
    auto r = node_->http(method, target, body.is_null() ? std::string() : body.dump(), headers);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : net::HttpResponse{};
  }

  json createSystem(const std::string& name, const std::string& family = "cisco-xapi",
                    const std::string& address = "192.0.2.10", json extra = json::object()) {
    json body = {{"name", name}, {"family", family}, {"addresses", {address}}};
    body.update(extra);
    auto r = call("POST", "/api/v1/systems", body);
    EXPECT_EQ(r.status, 201u) << r.body;
    return AtriumNode::json(r);
  }

  static void expectError(const net::HttpResponse& r, unsigned status, const std::string& code,
                          const std::string& field = {}) {
    EXPECT_EQ(r.status, status) << r.body;
    auto j = AtriumNode::json(r);
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
    EXPECT_EQ(j["error"]["code"], code) << r.body;
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
    if (!field.empty()) {
      EXPECT_EQ(j["error"].value("field", ""), field) << r.body;
    }
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json") << r.body;
  }

  TempDir tmp_;
  std::unique_ptr<AtriumNode> node_;
};

TEST_P(ApiTest, HealthReadinessAndMetrics) {
  auto health = call("GET", "/healthz");
  EXPECT_EQ(health.status, 200u);
  ASSERT_TRUE(node_->waitReady());
  EXPECT_EQ(call("GET", "/api/v1/systems").status, 200u);
  auto metrics = call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_NE(metrics.body.find("atrium_http_requests_total{"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("route=\"/api/v1/systems\""), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("atrium_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.body.find("atrium_db_pool_size"), std::string::npos);
  EXPECT_NE(metrics.body.find("atrium_db_ready 1"), std::string::npos) << metrics.body;
}

TEST_P(ApiTest, InstallationIsShown) {
  auto r = call("GET", "/api/v1/installation");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto j = AtriumNode::json(r);
  EXPECT_EQ(j["name"], "Test installation");
  EXPECT_EQ(j["id"].get<std::string>().size(), 36u);
}

TEST_P(ApiTest, SystemLifecycleNeverReturnsCredentials) {
  auto created = createSystem("Board Room", "cisco-xapi", "192.0.2.10",
                              {{"model", "SX20"},
                               {"serial_number", "FTT1234"},
                               {"credentials", {{"username", "admin"}, {"password", "s3cret-pw"}}}});
  const std::string id = created["id"];
  EXPECT_EQ(created["name"], "Board Room");
  EXPECT_EQ(created["family"], "cisco-xapi");
  EXPECT_EQ(created["model"], "SX20");
  EXPECT_EQ(created["addresses"], json({"192.0.2.10"}));
  EXPECT_EQ(created["credentials"]["set"], true);
  EXPECT_EQ(created["connectivity"], "reachable-lan");

  auto got = call("GET", "/api/v1/systems/" + id);
  ASSERT_EQ(got.status, 200u);
  EXPECT_EQ(got.body.find("s3cret-pw"), std::string::npos);
  EXPECT_EQ(got.body.find("\"admin\""), std::string::npos);

  auto patched = call("PATCH", "/api/v1/systems/" + id,
                      {{"name", "Board Room 2"}, {"addresses", {"2001:db8::5", "codec.example.com"}}});
  ASSERT_EQ(patched.status, 200u) << patched.body;
  auto pj = AtriumNode::json(patched);
  EXPECT_EQ(pj["name"], "Board Room 2");
  EXPECT_EQ(pj["addresses"], json({"2001:db8::5", "codec.example.com"}));
  EXPECT_EQ(pj["model"], "SX20");

  auto list = call("GET", "/api/v1/systems");
  EXPECT_EQ(list.body.find("s3cret-pw"), std::string::npos);

  EXPECT_EQ(call("DELETE", "/api/v1/systems/" + id).status, 204u);
  expectError(call("GET", "/api/v1/systems/" + id), 404, "not_found");
  expectError(call("DELETE", "/api/v1/systems/" + id), 404, "not_found");
}

TEST_P(ApiTest, UniqueFieldsConflictWith409) {
  createSystem("Room A", "polycom", "192.0.2.1", {{"serial_number", "SN-1"}});
  auto dup_name = call("POST", "/api/v1/systems",
                       {{"name", "Room A"}, {"family", "polycom"}, {"addresses", {"192.0.2.2"}}});
  expectError(dup_name, 409, "conflict", "name");
  auto dup_serial = call("POST", "/api/v1/systems",
                         {{"name", "Room B"}, {"family", "polycom"}, {"addresses", {"192.0.2.2"}},
                          {"serial_number", "SN-1"}});
  expectError(dup_serial, 409, "conflict", "serial_number");
  auto b = createSystem("Room B", "polycom", "192.0.2.3");
  expectError(call("PATCH", "/api/v1/systems/" + b["id"].get<std::string>(), {{"name", "Room A"}}), 409,
              "conflict", "name");
}

TEST_P(ApiTest, BadInputGetsClearErrors) {
  auto post = [&](const std::string& body) {
    auto r = node_->http("POST", "/api/v1/systems", body, {{"Content-Type", "application/json"}});
    EXPECT_TRUE(r.ok());
    return *r;
  };
  expectError(post(R"({"name":"x","family":"sony","addresses":["192.0.2.1"]})"), 400, "invalid_argument", "family");
  expectError(post(R"({"name":"x","family":"snmp","addresses":["not an address!"]})"), 400, "invalid_argument",
              "addresses");
  expectError(post(R"({"name":"x","family":"snmp","addresses":[]})"), 400, "invalid_argument", "addresses");
  expectError(post(R"({"family":"snmp","addresses":["192.0.2.1"]})"), 400, "invalid_argument", "name");
  expectError(post(R"({"name":"x","family":"snmp","addresses":["192.0.2.1"],"colour":"red"})"), 400,
              "invalid_argument", "colour");
  expectError(post(R"({"name":"x","family":"snmp","addresses":["192.0.2.1"],"connectivity":"lan"})"), 400,
              "invalid_argument", "connectivity");
  expectError(post(R"({"name":5,"family":"snmp","addresses":["192.0.2.1"]})"), 400, "invalid_argument", "name");
  expectError(post(R"({"name":"x", "family": )"), 400, "invalid_argument");
  expectError(post("[1,2,3]"), 400, "invalid_argument");
  auto wrong_type = node_->http("POST", "/api/v1/systems", "name=x", {{"Content-Type", "text/plain"}});
  ASSERT_TRUE(wrong_type.ok());
  EXPECT_EQ(wrong_type->status, 415u) << wrong_type->body;
  auto big = post(std::string(70000, ' ') + "{}");
  expectError(big, 413, "payload_too_large");
  expectError(call("GET", "/api/v1/systems?limit=0"), 400, "invalid_argument", "limit");
  expectError(call("GET", "/api/v1/systems?sort=colour"), 400, "invalid_argument", "sort");
  expectError(call("GET", "/api/v1/nothing-here"), 404, "not_found");
  auto wrong_method = call("PUT", "/api/v1/systems");
  expectError(wrong_method, 405, "method_not_allowed");
  // The server is still healthy, and nothing was created.
  auto list = AtriumNode::json(call("GET", "/api/v1/systems"));
  EXPECT_EQ(list["total"], 0);
}

TEST_P(ApiTest, ListFiltersSortsAndPages) {
  for (int i = 0; i < 25; ++i) {
    createSystem(fmt::format("Endpoint {:02}", i), i % 2 == 0 ? "cisco-xapi" : "snmp",
                 fmt::format("192.0.2.{}", i + 1));
  }
  auto page = AtriumNode::json(call("GET", "/api/v1/systems?limit=10&offset=20"));
  EXPECT_EQ(page["total"], 25);
  EXPECT_EQ(page["items"].size(), 5u);
  EXPECT_EQ(page["items"][0]["name"], "Endpoint 20");

  auto desc = AtriumNode::json(call("GET", "/api/v1/systems?sort=-name&limit=3"));
  ASSERT_EQ(desc["items"].size(), 3u);
  EXPECT_EQ(desc["items"][0]["name"], "Endpoint 24");
  EXPECT_EQ(desc["items"][2]["name"], "Endpoint 22");

  auto snmp = AtriumNode::json(call("GET", "/api/v1/systems?family=snmp&limit=100"));
  EXPECT_EQ(snmp["total"], 12);
  for (const auto& s : snmp["items"]) EXPECT_EQ(s["family"], "snmp");

  auto q = AtriumNode::json(call("GET", "/api/v1/systems?q=endpoint%201"));
  EXPECT_EQ(q["total"], 10);  // Endpoint 10..19

  auto by_address = AtriumNode::json(call("GET", "/api/v1/systems?address=192.0.2.7"));
  ASSERT_EQ(by_address["total"], 1);
  EXPECT_EQ(by_address["items"][0]["name"], "Endpoint 06");
}

TEST_P(ApiTest, FoldersFormATreeAndHoldSystems) {
  auto r = call("POST", "/api/v1/folders", {{"name", "Europe"}});
  ASSERT_EQ(r.status, 201u) << r.body;
  const std::string europe = AtriumNode::json(r)["id"];
  r = call("POST", "/api/v1/folders", {{"name", "Oslo"}, {"parent_id", europe}});
  ASSERT_EQ(r.status, 201u) << r.body;
  const std::string oslo = AtriumNode::json(r)["id"];
  expectError(call("POST", "/api/v1/folders", {{"name", "Oslo"}, {"parent_id", europe}}), 409, "conflict", "name");

  auto sys = createSystem("Oslo Boardroom");
  const std::string sys_id = sys["id"];
  auto moved = call("POST", "/api/v1/systems/" + sys_id + "/move", {{"folder_id", oslo}});
  ASSERT_EQ(moved.status, 200u) << moved.body;
  EXPECT_EQ(AtriumNode::json(moved)["folder_id"], oslo);

  auto in_oslo = AtriumNode::json(call("GET", "/api/v1/systems?folder_id=" + oslo));
  EXPECT_EQ(in_oslo["total"], 1);

  // A folder cannot move under its own child, and a non-empty folder cannot be deleted.
  expectError(call("PATCH", "/api/v1/folders/" + europe, {{"parent_id", oslo}}), 409, "conflict");
  expectError(call("DELETE", "/api/v1/folders/" + oslo), 409, "conflict");
  expectError(call("POST", "/api/v1/systems/" + sys_id + "/move", {{"folder_id", "no-such-folder"}}), 400,
              "invalid_argument", "folder_id");

  auto tree = AtriumNode::json(call("GET", "/api/v1/folders?tree=true"));
  ASSERT_TRUE(tree.is_object() || tree.is_array()) << tree.dump();
  EXPECT_NE(tree.dump().find("Oslo"), std::string::npos);

  ASSERT_EQ(call("POST", "/api/v1/systems/" + sys_id + "/move", {{"folder_id", nullptr}}).status, 200u);
  EXPECT_EQ(call("DELETE", "/api/v1/folders/" + oslo).status, 204u);
  EXPECT_EQ(call("DELETE", "/api/v1/folders/" + europe).status, 204u);
}

TEST_P(ApiTest, EveryChangeIsAudited) {
  auto sys = createSystem("Audited", "cisco-mcu", "192.0.2.50",
                          {{"credentials", {{"username", "u"}, {"password", "hunter2-pw"}}}});
  const std::string id = sys["id"];
  // Each change is audited as the user signed in; a header naming someone else changes nothing.
  ASSERT_TRUE(node_->addUser("alice", {"systems.edit"}).ok());
  ASSERT_TRUE(node_->addUser("bob", {"systems.edit"}).ok());
  auto alice = node_->signIn("alice", AtriumNode::kUserPassword);
  auto bob = node_->signIn("bob", AtriumNode::kUserPassword);
  ASSERT_TRUE(alice.ok() && bob.ok());
  call("PATCH", "/api/v1/systems/" + id, {{"model", "MCU 5320"}},
       {{"Authorization", "Bearer " + *alice}, {"X-Atrium-Actor", "mallory"}});
  call("DELETE", "/api/v1/systems/" + id, nullptr, {{"Authorization", "Bearer " + *bob}});

  auto audit = call("GET", "/api/v1/audit?entity_type=system&entity_id=" + id);
  ASSERT_EQ(audit.status, 200u) << audit.body;
  EXPECT_EQ(audit.body.find("hunter2-pw"), std::string::npos);
  auto items = AtriumNode::json(audit)["items"];
  ASSERT_EQ(items.size(), 3u) << audit.body;
  std::set<std::string> actions;
  for (const auto& e : items) actions.insert(e["action"].get<std::string>());
  EXPECT_EQ(actions, (std::set<std::string>{"create", "update", "delete"}));
  // Newest first: the delete by bob, then the update by alice with old and new model.
  EXPECT_EQ(items[0]["action"], "delete");
  EXPECT_EQ(items[0]["actor"], "bob");
  EXPECT_EQ(items[1]["actor"], "alice");
  auto as_json = [](const json& v) { return v.is_string() ? json::parse(v.get<std::string>()) : v; };
  EXPECT_EQ(as_json(items[1]["new_value"])["model"], "MCU 5320");
  EXPECT_EQ(as_json(items[1]["old_value"])["model"], "");
  EXPECT_EQ(items[2]["actor"], AtriumNode::kAdminUser);
}

TEST_P(ApiTest, CliManagesSystemsAndFolders) {
  const std::string server = fmt::format("127.0.0.1:{}", node_->port());
  auto folder = node_->run({"folders", "add", "--server", server, "--name", "Labs"});
  ASSERT_EQ(folder.exit_code, 0) << folder.output;
  auto add = node_->run({"systems", "add", "--server", server, "--name", "Lab SX80", "--family", "cisco-xapi",
                         "--address", "198.51.100.7", "--folder", "Labs", "--username", "admin", "--password", "pw"});
  ASSERT_EQ(add.exit_code, 0) << add.output;
  auto list = node_->run({"systems", "list", "--config", node_->configPath().string()});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("Lab SX80"), std::string::npos) << list.output;
  EXPECT_NE(list.output.find("198.51.100.7"), std::string::npos) << list.output;

  auto dup = node_->run({"systems", "add", "--server", server, "--name", "Lab SX80", "--family", "cisco-xapi",
                         "--address", "198.51.100.8"});
  EXPECT_NE(dup.exit_code, 0);
  EXPECT_NE(dup.output.find("Lab SX80"), std::string::npos) << dup.output;

  auto folder_rm = node_->run({"folders", "remove", "--server", server, "Labs"});
  EXPECT_NE(folder_rm.exit_code, 0) << folder_rm.output;  // not empty

  auto rm = node_->run({"systems", "remove", "--server", server, "Lab SX80"});
  ASSERT_EQ(rm.exit_code, 0) << rm.output;
  auto after = AtriumNode::json(call("GET", "/api/v1/systems"));
  EXPECT_EQ(after["total"], 0);
  EXPECT_EQ(node_->run({"folders", "remove", "--server", server, "Labs"}).exit_code, 0);

  auto unreachable = node_->run({"systems", "list", "--server", "127.0.0.1:1"});
  EXPECT_NE(unreachable.exit_code, 0);
  EXPECT_NE(unreachable.output.find("cannot reach"), std::string::npos) << unreachable.output;
}

TEST_P(ApiTest, SigtermStopsCleanly) {
  auto code = node_->stop(SIGTERM);
  ASSERT_TRUE(code.has_value()) << node_->log();
  EXPECT_EQ(*code, 0) << node_->log();
  EXPECT_NE(node_->log().find("node.stopped"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiTest, ::testing::Values(kSqlite, kPostgres),
                         [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace atrium::testing
