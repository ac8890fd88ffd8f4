// ApiServer end to end on an embedded SQLite database in a temporary directory: routing, the
// error shape and statuses, readiness, metrics, the actor in the audit log.
#include "api/api_server.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/authenticator.h"
#include "api/people_endpoints.h"
#include "cluster/keyring.h"
#include "common/clock.h"
#include "common/ids.h"
#include "net/http_client.h"
#include "people/bootstrap.h"
#include "people/people_cache.h"
#include "people/sign_in.h"
#include "store/cluster_store.h"
#include "store/people_store.h"
#include "store/store.h"

namespace atrium::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("atrium-api-" + newUuid());
    fs::create_directories(dir_);
    auto db = store::Database::open("sqlite:" + (dir_ / "atrium.db").string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    store_ = std::make_unique<store::Store>(*db_, clock_);
    auto migrated = store_->migrate();
    ASSERT_TRUE(migrated.ok()) << migrated.error().message;
    ASSERT_TRUE(store_->createInstallation("Unit installation", "test").ok());
    ApiOptions options;
    options.port = 0;
    options.max_body_bytes = 4096;
    options.version = "9.9.9";
    server_ = std::make_unique<ApiServer>(options, *store_, *db_, clock_);
    // The people stack a node wires: keys, sessions, users; an administrator to sign in as.
    cluster_ = std::make_unique<store::ClusterStore>(*db_);
    ASSERT_TRUE(cluster_->rotateValidationKey(randomHex(32), 0).ok());
    keyring_ = std::make_unique<cluster::Keyring>(*cluster_, clock_);
    signer_ = std::make_unique<TokenSigner>(*keyring_);
    people_ = std::make_unique<store::PeopleStore>(*db_, clock_);
    ASSERT_TRUE(people::ensureAdministrator(*people_, "alice", "alice-password-1", "test").ok());
    cache_ = std::make_unique<people::PeopleCache>(*people_, [] { return Result<people::FolderTree>(people::FolderTree{}); },
                                                   clock_);
    sign_in_ = std::make_unique<people::SignIn>(*people_, nullptr, clock_);
    server_->attachSessions(*signer_);
    server_->attachPeople(std::make_unique<PeopleEndpoints>(*people_, *store_, *sign_in_, *cache_, *signer_, clock_,
                                                            std::chrono::hours(12)),
                          std::make_unique<Authenticator>(*signer_, *cache_, clock_, AuthOptions{},
                                                          [](std::string_view) { return false; }));
    auto port = server_->start();
    ASSERT_TRUE(port.ok()) << port.error().message;
    port_ = *port;
    auto session = net::HttpClient().request("POST", "127.0.0.1", port_, "/api/v1/sessions",
                                             R"({"user":"alice","password":"alice-password-1"})");
    ASSERT_TRUE(session.ok() && session->status == 201) << (session.ok() ? session->body : session.error().message);
    token_ = json::parse(session->body)["token"];
  }

  void TearDown() override {
    if (server_) server_->stop();
    server_.reset();
    sign_in_.reset();
    cache_.reset();
    people_.reset();
    signer_.reset();
    keyring_.reset();
    cluster_.reset();
    store_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Signed in as alice (an administrator) unless `headers` brings its own Authorization.
  net::HttpResponse call(std::string_view method, std::string_view target, std::string body = {},
                         net::Headers headers = {}) {
    bool own = false;
    for (const auto& [k, v] : headers) own = own || k == "Authorization";
    if (!own) headers.emplace_back("Authorization", "Bearer " + token_);
    auto r = net::HttpClient().request(method, "127.0.0.1", port_, target, body, headers);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : net::HttpResponse{};
  }

  static json body(const net::HttpResponse& r) { return json::parse(r.body); }

  static void expectError(const net::HttpResponse& r, unsigned status, const std::string& code,
                          const std::string& field = {}, const std::string& needle = {}) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
    auto j = json::parse(r.body);
    EXPECT_EQ(j["error"]["code"], code) << r.body;
    if (!field.empty()) {
      EXPECT_EQ(j["error"].value("field", ""), field) << r.body;
    }
    if (!needle.empty()) {
      EXPECT_NE(j["error"]["message"].get<std::string>().find(needle), std::string::npos) << r.body;
    }
  }

  SystemClock clock_;
  fs::path dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<store::ClusterStore> cluster_;
  std::unique_ptr<cluster::Keyring> keyring_;
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<store::PeopleStore> people_;
  std::unique_ptr<people::PeopleCache> cache_;
  std::unique_ptr<people::SignIn> sign_in_;
  std::unique_ptr<ApiServer> server_;
  std::uint16_t port_ = 0;
  std::string token_;
};

TEST_F(ApiServerTest, HealthReadinessMetrics) {
  auto health = call("GET", "/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(body(health), json({{"status", "ok"}}));
  auto ready = call("GET", "/readyz");
  EXPECT_EQ(ready.status, 200u) << ready.body;
  EXPECT_EQ(body(ready), json({{"status", "ready"}}));
  call("GET", "/api/v1/systems/0b9f5c2e-8a3d-4f7e-9c1a-2d4e6f8a0b1c");
  auto metrics = call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_EQ(metrics.header("Content-Type").value_or(""),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics.body.find("atrium_http_requests_total{method=\"GET\",route=\"/api/v1/systems/"
                              "{id}\",status=\"404\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("atrium_db_ready 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("atrium_build_info{version=\"9.9.9\"} 1"), std::string::npos);
  EXPECT_EQ(metrics.body.find("0b9f5c2e"), std::string::npos);  // never the raw path
}

TEST_F(ApiServerTest, RoutingErrors) {
  expectError(call("GET", "/api/v1/nothing-here"), 404, "not_found", "", "/api/v1/nothing-here");
  auto put = call("PUT", "/api/v1/systems");
  expectError(put, 405, "method_not_allowed");
  EXPECT_EQ(put.header("Allow").value_or(""), "GET, HEAD, POST");
  expectError(call("POST", "/api/v1/systems", "name=x", {{"Content-Type", "text/plain"}}), 415,
              "unsupported_media_type");
  expectError(call("POST", "/api/v1/systems", std::string(5000, ' ')), 413, "payload_too_large");
  expectError(call("GET", "/api/v1/systems/not-a-uuid"), 404, "not_found", "", "not-a-uuid");
  expectError(call("GET", "/api/v1/systems?limit=0"), 400, "invalid_argument", "limit");
  expectError(call("GET", "/api/v1/systems?sort=colour"), 400, "invalid_argument", "sort");
  expectError(
      call("POST", "/api/v1/systems", R"({"name":"x","family":"sony","addresses":["192.0.2.1"]})"),
      400, "invalid_argument", "family", "cisco-xapi, cisco-mcu, polycom, snmp");
  expectError(call("POST", "/api/v1/systems", R"({"name":"x", "family": )"), 400,
              "invalid_argument", "", "malformed JSON");
}

TEST_F(ApiServerTest, SystemsFoldersAndAudit) {
  auto created = call("POST", "/api/v1/systems",
                      R"({"name":"Room 1","family":"cisco-xapi","addresses":["192.0.2.10"],
                          "serial_number":"SN1","credentials":{"username":"admin","password":"pw-secret"}})",
                      {{"X-Atrium-Actor", "mallory"}});
  ASSERT_EQ(created.status, 201u) << created.body;
  auto sys = body(created);
  const std::string id = sys["id"];
  EXPECT_EQ(created.header("Location").value_or(""), "/api/v1/systems/" + id);
  EXPECT_EQ(sys["credentials"]["set"], true);
  EXPECT_EQ(created.body.find("pw-secret"), std::string::npos);

  expectError(call("POST", "/api/v1/systems",
                   R"({"name":"Room 1","family":"snmp","addresses":["192.0.2.11"]})"),
              409, "conflict", "name", "a system named \"Room 1\" already exists");
  expectError(
      call("POST", "/api/v1/systems",
           R"({"name":"Room 2","family":"snmp","addresses":["192.0.2.11"],"serial_number":"SN1"})"),
      409, "conflict", "serial_number", "\"SN1\"");

  auto folder = call("POST", "/api/v1/folders", R"({"name":"Europe"})");
  ASSERT_EQ(folder.status, 201u) << folder.body;
  const std::string europe = body(folder)["id"];
  auto child = call("POST", "/api/v1/folders", R"({"name":"Oslo","parent_id":")" + europe + "\"}");
  ASSERT_EQ(child.status, 201u) << child.body;
  auto tree = body(call("GET", "/api/v1/folders?tree=true"));
  ASSERT_EQ(tree["items"].size(), 1u) << tree.dump();
  EXPECT_EQ(tree["items"][0]["children"][0]["name"], "Oslo");
  EXPECT_EQ(body(call("GET", "/api/v1/folders"))["items"].size(), 2u);

  auto moved =
      call("POST", "/api/v1/systems/" + id + "/move", R"({"folder_id":")" + europe + "\"}");
  ASSERT_EQ(moved.status, 200u) << moved.body;
  EXPECT_EQ(body(moved)["folder_id"], europe);
  auto in_folder = body(call("GET", "/api/v1/systems?folder_id=" + europe));
  EXPECT_EQ(in_folder["total"], 1);
  EXPECT_EQ(in_folder["limit"], 50);
  EXPECT_EQ(in_folder["offset"], 0);
  EXPECT_EQ(body(call("GET", "/api/v1/systems?unfiled=true"))["total"], 0);

  auto patched = call("PATCH", "/api/v1/systems/" + id, R"({"model":"SX80"})");
  ASSERT_EQ(patched.status, 200u) << patched.body;
  EXPECT_EQ(body(patched)["model"], "SX80");
  EXPECT_EQ(body(call("GET", "/api/v1/systems/" + id))["model"], "SX80");

  EXPECT_EQ(call("DELETE", "/api/v1/systems/" + id).status, 204u);
  expectError(call("GET", "/api/v1/systems/" + id), 404, "not_found");

  auto audit = call("GET", "/api/v1/audit?entity_type=system&entity_id=" + id);
  ASSERT_EQ(audit.status, 200u) << audit.body;
  EXPECT_EQ(audit.body.find("pw-secret"), std::string::npos);
  auto items = body(audit)["items"];
  ASSERT_EQ(items.size(), 4u) << audit.body;
  EXPECT_EQ(items[3]["action"], "create");
  // The actor is always the signed-in user: a header naming another changes nothing.
  EXPECT_EQ(items[3]["actor"], "alice");
  EXPECT_EQ(items[0]["actor"], "alice");

  auto inst = call("GET", "/api/v1/installation");
  ASSERT_EQ(inst.status, 200u);
  EXPECT_EQ(body(inst)["name"], "Unit installation");
}

}  // namespace
}  // namespace atrium::api
