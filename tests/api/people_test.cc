// Signing in and who may do what, through a real `atrium serve` on SQLite: every API route asks
// for a signed-in caller with the right permission (401 without one, 403 without the permission,
// and nothing changes); wrong passwords say no more than that and are rate-limited; a browser's
// changes need the session's CSRF token and an Origin of this installation; a foreign Host gets
// nothing (DNS rebinding); a token's claims are checked, not only its signature.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "support/atrium_node.h"

namespace atrium::testing {
namespace {

using nlohmann::json;

const net::Headers kJson = {{"Content-Type", "application/json"}};

class PeopleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<AtriumNode>(tmp_.path() / "n", AtriumNode::Options{});
    ASSERT_EQ(node_->init().exit_code, 0) << node_->log();
    ASSERT_TRUE(node_->start().ok()) << node_->log();
    ASSERT_TRUE(node_->waitReady());
  }
  void TearDown() override {
    EXPECT_EQ(node_->http("GET", "/healthz")->status, 200u);
    if (HasFailure()) std::cerr << node_->log();
  }
  std::int64_t total(const std::string& target) {
    auto r = node_->http("GET", target);
    return r.ok() && r->status == 200 ? AtriumNode::json(*r).value("total", std::int64_t{-1}) : -1;
  }
  TempDir tmp_;
  std::unique_ptr<AtriumNode> node_;
};

// Each route with the permission it asks for ("" any signed-in user).
struct Route {
  const char* method;
  std::string target;
  std::string body;
  std::string needs;
};

TEST_F(PeopleTest, EveryRouteAsksForASignedInCallerWithItsPermission) {
  const std::string some = "0b9f5c2e-8a3d-4f7e-9c1a-2d4e6f8a0b1c";
  const std::vector<Route> routes = {
      {"GET", "/api/v1/installation", "", ""},
      {"GET", "/api/v1/systems", "", "systems.read"},
      {"POST", "/api/v1/systems", R"({"name":"X","family":"snmp","addresses":["192.0.2.1"]})",
       "systems.edit"},
      {"GET", "/api/v1/systems/" + some, "", "systems.read"},
      {"PATCH", "/api/v1/systems/" + some, R"({"model":"x"})", "systems.edit"},
      {"DELETE", "/api/v1/systems/" + some, "", "systems.edit"},
      {"POST", "/api/v1/systems/" + some + "/move", R"({"folder_id":null})", "systems.edit"},
      {"GET", "/api/v1/folders", "", "systems.read"},
      {"POST", "/api/v1/folders", R"({"name":"F"})", "systems.edit"},
      {"GET", "/api/v1/audit", "", "administration"},
      {"GET", "/api/v1/events", "", "systems.read"},
      {"GET", "/api/v1/calls", "", "systems.read"},
      {"GET", "/api/v1/tickets", "", "systems.read"},
      {"POST", "/api/v1/tickets/1/acknowledge", "", "systems.edit"},
      {"GET", "/api/v1/settings/server-addresses", "", ""},
      {"PUT", "/api/v1/settings/server-addresses", R"({"lan_ipv4":"10.0.0.5"})", "administration"},
      {"PUT", "/api/v1/settings/software-versions", R"({})", "administration"},
      {"GET", "/api/v1/cluster/nodes", "", ""},
      {"POST", "/api/v1/cluster/nodes/node-1/demote", "", "administration"},
      {"GET", "/api/v1/tasks", "", "administration"},
      {"POST", "/api/v1/tasks", R"({"kind":"wait","payload":{"seconds":1}})", "administration"},
      {"GET", "/api/v1/users", "", "administration"},
      {"POST", "/api/v1/users", R"({"name":"eve","password":"eve-password-123"})",
       "administration"},
      {"GET", "/api/v1/groups", "", "administration"},
      {"POST", "/api/v1/groups", R"({"name":"G","permissions":["administration"]})",
       "administration"},
      {"DELETE", "/api/v1/sessions/" + some, "", "administration"},
      {"GET", "/api/v1/sessions/current", "", ""},
      {"GET", "/api/v1/tokens", "", ""},
  };
  // Readers may read systems, nothing else; nobody has no group at all.
  ASSERT_TRUE(node_->addUser("reader", {"systems.read"}).ok());
  auto reader = node_->signIn("reader", AtriumNode::kUserPassword);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  const std::int64_t users_before = total("/api/v1/users");
  const std::int64_t groups_before = total("/api/v1/groups");
  for (const auto& r : routes) {
    SCOPED_TRACE(std::string(r.method) + " " + r.target);
    auto anonymous = node_->anonymous(r.method, r.target, r.body, kJson);
    ASSERT_TRUE(anonymous.ok());
    EXPECT_EQ(anonymous->status, 401u) << anonymous->body;
    EXPECT_EQ(AtriumNode::json(*anonymous)["error"]["code"], "unauthorized");
    auto as_reader = node_->httpAs(*reader, r.method, r.target, r.body, kJson);
    ASSERT_TRUE(as_reader.ok());
    if (r.needs.empty() || r.needs == "systems.read") {
      EXPECT_NE(as_reader->status, 401u) << as_reader->body;
      EXPECT_NE(as_reader->status, 403u) << as_reader->body;
    } else {
      EXPECT_EQ(as_reader->status, 403u) << as_reader->body;
      EXPECT_NE(as_reader->body.find(r.needs), std::string::npos) << as_reader->body;
    }
  }
  // Nothing the refused calls asked for happened.
  EXPECT_EQ(total("/api/v1/systems"), 0);
  EXPECT_EQ(total("/api/v1/users"), users_before);
  EXPECT_EQ(total("/api/v1/groups"), groups_before);
  EXPECT_EQ(total("/api/v1/tasks"), 0);
  // The probes and the device-facing feedback need no session.
  EXPECT_EQ(node_->anonymous("GET", "/healthz")->status, 200u);
  EXPECT_EQ(node_->anonymous("GET", "/readyz")->status, 200u);
  EXPECT_EQ(node_->anonymous("GET", "/metrics")->status, 200u);
  EXPECT_EQ(node_->anonymous("POST", "/feedback/" + std::string(32, 'a'), "<Event/>")->status,
            404u);
}

TEST_F(PeopleTest, WrongPasswordsSayNoMoreAndAreRateLimited) {
  auto attempt = [&](const std::string& user, const std::string& password,
                     const std::string& extra = {}) {
    return node_->anonymous(
        "POST", "/api/v1/sessions",
        extra.empty() ? json{{"user", user}, {"password", password}}.dump() : extra, kJson);
  };
  auto wrong = attempt("admin", "not-the-password");
  auto unknown = attempt("nobody", "not-the-password");
  ASSERT_TRUE(wrong.ok() && unknown.ok());
  EXPECT_EQ(wrong->status, 401u);
  EXPECT_EQ(unknown->status, 401u);
  EXPECT_EQ(AtriumNode::json(*wrong)["error"]["message"], "wrong user name or password");
  EXPECT_EQ(wrong->body, unknown->body);  // nothing tells whether the name exists
  // Malformed and oversized bodies: 400 / 413, nothing else.
  EXPECT_EQ(attempt("", "", R"({"user":"admin"})")->status, 400u);
  EXPECT_EQ(attempt("", "", R"({"user":"admin","password":"x","extra":1})")->status, 400u);
  EXPECT_EQ(attempt("", "", "{not json")->status, 400u);
  EXPECT_EQ(attempt("", "",
                    json{{"user", "admin"}, {"password", std::string(2 * 1024 * 1024, 'p')}}.dump())
                ->status,
            413u);
  // Ten failures (one above and nine here) for one account hold it for a while, even with the right
  // password; every failure is in the log, no password is.
  for (int i = 0; i < 9; ++i)
    EXPECT_EQ(attempt("admin", "wrong-" + std::to_string(i))->status, 401u);
  auto held = attempt("admin", AtriumNode::kAdminPassword);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->status, 429u) << held->body;
  EXPECT_TRUE(held->header("Retry-After").has_value());
  const std::string log = node_->log();
  EXPECT_NE(log.find("session.sign_in_refused"), std::string::npos);
  EXPECT_EQ(log.find("not-the-password"), std::string::npos);
  EXPECT_EQ(log.find(AtriumNode::kAdminPassword), std::string::npos);
}

TEST_F(PeopleTest, ABrowsersChangesNeedTheCsrfTokenAndAnOriginOfThisInstallation) {
  auto signIn = [&] {
    auto r = node_->anonymous(
        "POST", "/api/v1/sessions",
        json{{"user", "admin"}, {"password", AtriumNode::kAdminPassword}}.dump(), kJson);
    EXPECT_TRUE(r.ok() && r->status == 201) << (r.ok() ? r->body : r.error().message);
    return *r;
  };
  auto session = signIn();
  const std::string cookie = net::cookiesFrom(session);
  const std::string set_cookie = session.header("Set-Cookie").value_or("");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
  const std::string csrf = AtriumNode::json(session)["csrf_token"];
  const std::string other_csrf = AtriumNode::json(signIn())["csrf_token"];
  const std::string self = fmt::format("http://127.0.0.1:{}", node_->port());
  auto post = [&](const net::Headers& extra, const std::string& content_type = "application/json") {
    net::Headers h = {{"Cookie", cookie}, {"Content-Type", content_type}};
    h.insert(h.end(), extra.begin(), extra.end());
    return node_->anonymous("POST", "/api/v1/folders", R"({"name":"From a browser"})", h);
  };
  // Reading with the cookie alone works.
  EXPECT_EQ(node_->anonymous("GET", "/api/v1/folders", {}, {{"Cookie", cookie}})->status, 200u);
  // A change without the token, with another session's, from another site, or as a form: refused.
  EXPECT_EQ(post({})->status, 403u);
  EXPECT_EQ(post({{"X-CSRF-Token", other_csrf}})->status, 403u);
  EXPECT_EQ(post({{"X-CSRF-Token", csrf}, {"Origin", "http://evil.example"}})->status, 403u);
  EXPECT_NE(post({{"X-CSRF-Token", csrf}}, "text/plain")->status / 100, 2u);
  EXPECT_NE(post({}, "application/x-www-form-urlencoded")->status / 100, 2u);
  EXPECT_EQ(AtriumNode::json(*node_->http("GET", "/api/v1/folders"))["items"].size(), 0u);
  // With its token and from this installation's page: done.
  EXPECT_EQ(post({{"X-CSRF-Token", csrf}, {"Origin", self}})->status, 201u);
  // DNS rebinding: a request for a name the installation does not answer to gets nothing, even
  // signed in; a page of another site cannot sign in either.
  auto token = node_->adminToken();
  ASSERT_TRUE(token.ok());
  const std::string rebound = rawHttpExchange(
      node_->port(),
      "GET /api/v1/systems HTTP/1.1\r\nHost: evil.example:8080\r\nAuthorization: Bearer " + *token +
          "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(rebound.substr(0, 12), "HTTP/1.1 403") << rebound;
  const std::string named = rawHttpExchange(
      node_->port(), "GET /api/v1/systems HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " +
                         *token + "\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(named.substr(0, 12), "HTTP/1.1 200") << named;
  auto foreign_sign_in =
      node_->anonymous("POST", "/api/v1/sessions",
                       json{{"user", "admin"}, {"password", AtriumNode::kAdminPassword}}.dump(),
                       {{"Content-Type", "application/json"}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(foreign_sign_in->status, 403u);
  // Signing out ends the cookie's session.
  auto out = node_->anonymous("DELETE", "/api/v1/sessions/current", {},
                              {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Origin", self}});
  EXPECT_EQ(out->status, 204u) << out->body;
  EXPECT_EQ(node_->anonymous("GET", "/api/v1/folders", {}, {{"Cookie", cookie}})->status, 401u);
}

}  // namespace
}  // namespace atrium::testing
