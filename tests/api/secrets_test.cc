// Secrets stay where they belong: a system's feedback secret (whoever knows it can post as the
// system) and its management password never appear in an API answer or a log line, although the
// node builds feedback addresses holding the secret, the system reports one back, and the system's
// error message echoes it. A Cisco endpoint stand-in on loopback reports a feedback slot with the
// node's secret at an old address and refuses the registration with an error that quotes the
// request; the node raises the tickets that say so, with the secret redacted.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "support/atrium_node.h"
#include "support/backends.h"
#include "support/canned_http.h"
#include "support/pg_cluster.h"

namespace atrium::testing {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

const net::Headers kJson{{"Content-Type", "application/json"}};
constexpr const char* kPassword = "pw-Zq8vT3-never-shown";

std::string fixture(const std::string& name) {
  std::ifstream in(std::filesystem::path(ATRIUM_SOURCE_DIR) / "tests/fixtures/cisco_xapi" / name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SecretsTest, NoAnswerAndNoLogLineHoldsAFeedbackSecretOrAPassword) {
  TempDir tmp;
  auto& pg = sharedPostgres();
  const std::string url = freshDatabaseUrl(kPostgres, tmp.path());
  const std::string db_name = url.substr(url.rfind('/') + 1);

  // The endpoint: its status shows a feedback slot with the node's secret at an old address, and
  // it refuses every putxml with an error that quotes the request (URL and all).
  std::string secret;  // set once the system exists
  std::mutex secret_mu;
  CannedHttpServer endpoint([&](const net::Request& req) -> std::optional<net::Response> {
    net::Response res{http::status::ok, 11};
    res.set(http::field::content_type, "text/xml");
    std::string known;
    {
      std::lock_guard lock(secret_mu);
      known = secret;
    }
    if (req.target() == "/status.xml") {
      res.body() = std::regex_replace(fixture("ce-status-idle.xml"),
                                      std::regex("https://atrium.example.org/feedback/5f0c/3c9a1e"),
                                      "http://192.0.2.99/feedback/" + known);
    } else if (req.target() == "/configuration.xml") {
      res.body() = fixture("tc-configuration.xml");
    } else {
      res.result(http::status::bad_request);
      res.body() = "<?xml version=\"1.0\"?><Error><Reason>Cannot register " + req.body() +
                   "</Reason></Error>";
    }
    return res;
  });

  AtriumNode node(tmp.path() / "n", {.database_url = url,
                                     .polling_section = fmt::format(
                                         "enabled = true\ninterval_s = 5\ntimeout_ms = 3000\n"
                                         "http_port = {}\n",
                                         endpoint.port())});
  ASSERT_EQ(node.init().exit_code, 0) << node.log();
  ASSERT_TRUE(node.start().ok()) << node.log();
  ASSERT_TRUE(node.waitReady());
  auto set = node.http("PUT", "/api/v1/settings/server-addresses",
                       json{{"lan_ipv4", "127.0.0.1"}, {"http_port", node.port()}}.dump(), kJson);
  ASSERT_TRUE(set.ok() && set->status == 200) << (set.ok() ? set->body : set.error().message);
  auto created = node.http("POST", "/api/v1/systems",
                           json{{"name", "Board Room"},
                                {"family", "cisco-xapi"},
                                {"addresses", {"127.0.0.1"}},
                                {"credentials", {{"username", "admin"}, {"password", kPassword}}}}
                               .dump(),
                           kJson);
  ASSERT_TRUE(created.ok() && created->status == 201) << (created.ok() ? created->body : "");
  const std::string id = AtriumNode::json(*created)["id"];
  auto stored_secret =
      pg.sql("SELECT feedback_secret FROM systems WHERE id = '" + id + "'", db_name);
  ASSERT_TRUE(stored_secret.ok() && stored_secret->size() == 32u);
  {
    std::lock_guard lock(secret_mu);
    secret = *stored_secret;
  }

  // The node polls, sees its secret at the old address, tries to register and is refused.
  std::string tickets_body;
  ASSERT_TRUE(waitFor(
      [&] {
        auto t = node.http("GET", "/api/v1/tickets?system_id=" + id);
        if (!t.ok() || t->status != 200) return false;
        tickets_body = t->body;
        return t->body.find("wrong-server-address") != std::string::npos &&
               t->body.find("feedback-not-registered") != std::string::npos;
      },
      std::chrono::seconds(30)))
      << tickets_body << node.log();
  // The tickets still say where: the address, with the secret taken out.
  EXPECT_NE(tickets_body.find("/feedback/<secret>"), std::string::npos) << tickets_body;
  // And the endpoint was really sent the secret (so the redaction had something to redact).
  bool sent = false;
  for (const auto& r : endpoint.requests())
    sent = sent || r.body().find(*stored_secret) != std::string::npos;
  EXPECT_TRUE(sent);
  // A feedback post with the secret, so that events and the ingest path have seen it too.
  auto posted = node.http("POST", "/feedback/" + *stored_secret,
                          fixture("feedback-call-successful.xml"), {{"Content-Type", "text/xml"}});
  ASSERT_TRUE(posted.ok() && posted->status == 200) << (posted.ok() ? posted->body : "");

  const std::vector<std::string> targets = {"/api/v1/systems",
                                            "/api/v1/systems/" + id,
                                            "/api/v1/tickets",
                                            "/api/v1/tickets?system_id=" + id,
                                            "/api/v1/events",
                                            "/api/v1/events?system_id=" + id,
                                            "/api/v1/calls",
                                            "/api/v1/audit",
                                            "/api/v1/folders",
                                            "/api/v1/settings/server-addresses",
                                            "/api/v1/cluster/nodes",
                                            "/api/v1/cluster/diagnostics",
                                            "/api/v1/tasks",
                                            "/metrics",
                                            "/healthz",
                                            "/readyz"};
  for (const auto& target : targets) {
    auto answer = node.http("GET", target);
    ASSERT_TRUE(answer.ok()) << target;
    EXPECT_EQ(answer->body.find(*stored_secret), std::string::npos)
        << target << ": " << answer->body;
    EXPECT_EQ(answer->body.find(kPassword), std::string::npos) << target << ": " << answer->body;
    for (const auto& [name, value] : answer->headers) {
      EXPECT_EQ(value.find(*stored_secret), std::string::npos) << target << " header " << name;
    }
  }
  const std::string log = node.log();
  EXPECT_EQ(log.find(*stored_secret), std::string::npos) << log;
  EXPECT_EQ(log.find(kPassword), std::string::npos);
}

}  // namespace
}  // namespace atrium::testing
