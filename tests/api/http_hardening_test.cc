// Smaller HTTP points on a real node: HEAD on a GET route answers like GET without the body; an
// oversized header block gets 431 "headers_too_large"; a JSON body naming a key twice is refused
// with 400 naming the key; `atrium keys rotate` works on SQLite while the node runs.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/atrium_node.h"

namespace atrium::testing {
namespace {

using nlohmann::json;

const net::Headers kJson = {{"Content-Type", "application/json"}};

// The value of a header in a raw response ("" when absent), case-insensitive name.
std::string headerOf(const std::string& response, std::string name) {
  std::string lower = response.substr(0, response.find("\r\n\r\n") + 2);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto pos = lower.find("\r\n" + name + ":");
  if (pos == std::string::npos) return {};
  auto start = pos + 2 + name.size() + 1;
  auto end = lower.find("\r\n", start);
  std::string v = response.substr(start, end - start);
  while (!v.empty() && v.front() == ' ') v.erase(v.begin());
  return v;
}

class HttpHardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<AtriumNode>(tmp_.path() / "node", AtriumNode::Options{});
    ASSERT_EQ(node_->init().exit_code, 0);
    ASSERT_TRUE(node_->start().ok()) << node_->log();
    ASSERT_TRUE(node_->waitReady()) << node_->log();
  }
  void TearDown() override {
    // The node still answers after everything the test sent it.
    EXPECT_EQ(node_->http("GET", "/healthz")->status, 200u);
    EXPECT_EQ(node_->http("GET", "/readyz")->status, 200u);
  }
  TempDir tmp_;
  std::unique_ptr<AtriumNode> node_;
};

TEST_F(HttpHardeningTest, HeadOnGetRoutesAnswersLikeGetWithoutTheBody) {
  ASSERT_EQ(node_->http("POST", "/api/v1/folders", R"({"name":"Europe"})", kJson)->status, 201u);
  auto token = node_->adminToken();
  ASSERT_TRUE(token.ok());
  const std::string signed_in = "Host: 127.0.0.1\r\nAuthorization: Bearer " + *token + "\r\n";
  for (std::string target : {"/healthz", "/readyz", "/api/v1/folders", "/api/v1/systems?limit=5"}) {
    auto get = node_->http("GET", target);
    ASSERT_TRUE(get.ok());
    const std::string head =
        rawHttpExchange(node_->port(), "HEAD " + target + " HTTP/1.1\r\n" + signed_in +
                                           "Connection: close\r\n\r\n");
    ASSERT_FALSE(head.empty()) << target;
    EXPECT_EQ(head.substr(0, 12), fmt::format("HTTP/1.1 {}", get->status)) << target << "\n"
                                                                           << head;
    EXPECT_EQ(headerOf(head, "Content-Length"), std::to_string(get->body.size())) << head;
    EXPECT_EQ(headerOf(head, "Content-Type"), "application/json") << head;
    // Nothing after the headers.
    EXPECT_EQ(head.size(), head.find("\r\n\r\n") + 4) << head;
  }
  // An unknown id answers HEAD with GET's 404 (no body), a POST-only route with 405.
  const std::string missing = rawHttpExchange(
      node_->port(), "HEAD /api/v1/systems/0b9f5c2e-8a3d-4f7e-9c1a-2d4e6f8a0b1c HTTP/1.1\r\n" +
                         signed_in + "Connection: close\r\n\r\n");
  EXPECT_EQ(missing.substr(0, 12), "HTTP/1.1 404") << missing;
  EXPECT_EQ(missing.size(), missing.find("\r\n\r\n") + 4) << missing;
  const std::string post_only = rawHttpExchange(
      node_->port(),
      "HEAD /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(post_only.substr(0, 12), "HTTP/1.1 405") << post_only;
  EXPECT_EQ(headerOf(post_only, "Allow"), "POST") << post_only;
  // Allow lists HEAD wherever it lists GET.
  auto put = node_->http("PUT", "/api/v1/folders");
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->status, 405u);
  EXPECT_NE(put->body.find("GET, HEAD, POST"), std::string::npos) << put->body;
}

TEST_F(HttpHardeningTest, OversizedHeadersGet431HeadersTooLarge) {
  auto r = node_->http("GET", "/api/v1/systems", {}, {{"X-Big", std::string(32 * 1024, 'h')}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 431u);
  EXPECT_EQ(AtriumNode::json(*r)["error"]["code"], "headers_too_large") << r->body;
}

TEST_F(HttpHardeningTest, DuplicateKeysInAJsonBodyAreRefusedNamingTheKey) {
  auto r = node_->http("POST", "/api/v1/folders", R"({"name":"A","name":"B"})", kJson);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400u) << r->body;
  auto j = AtriumNode::json(*r);
  EXPECT_EQ(j["error"]["code"], "invalid_argument");
  EXPECT_EQ(j["error"]["field"], "name") << r->body;
  EXPECT_NE(j["error"]["message"].get<std::string>().find("\"name\" twice"), std::string::npos)
      << r->body;
  // Nothing was made.
  EXPECT_EQ(AtriumNode::json(*node_->http("GET", "/api/v1/folders"))["items"].size(), 0u);

  // Inside a nested object too; the same key in two different objects is fine.
  auto nested = node_->http("POST", "/api/v1/tasks",
                            R"({"kind":"wait","payload":{"seconds":1,"seconds":86401}})", kJson);
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->status, 400u) << nested->body;
  EXPECT_EQ(AtriumNode::json(*nested)["error"]["field"], "seconds") << nested->body;
  auto fine = node_->http("POST", "/api/v1/tasks",
                          R"({"kind":"wait","name":"w","payload":{"seconds":0}})", kJson);
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->status, 201u) << fine->body;
}

std::string newToken(const AtriumNode& node, const std::string& /*user*/) {
  auto token = node.signIn(AtriumNode::kAdminUser, AtriumNode::kAdminPassword);
  return token.ok() ? *token : std::string();
}

unsigned statusWith(const AtriumNode& node, const std::string& token) {
  auto r = node.http("GET", "/api/v1/systems", {}, {{"Authorization", "Bearer " + token}});
  return r.ok() ? r->status : 0u;
}

TEST_F(HttpHardeningTest, KeysRotateOnSqliteWorksWhileTheNodeRuns) {
  const std::string old_token = newToken(*node_, "alice");
  ASSERT_FALSE(old_token.empty());
  auto reloads = [&] {
    const std::string log = node_->log();
    std::size_t n = 0;
    for (auto pos = log.find("keys.reloaded"); pos != std::string::npos;
         pos = log.find("keys.reloaded", pos + 1)) {
      ++n;
    }
    return n;
  };
  const std::size_t reloads_before = reloads();
  ASSERT_EQ(statusWith(*node_, old_token), 200u);

  auto rotate = node_->run(
      {"keys", "rotate", "--config", node_->configPath().string(), "--grace-hours", "0"});
  ASSERT_EQ(rotate.exit_code, 0) << rotate.output << node_->log();
  EXPECT_NE(rotate.output.find("is no longer accepted"), std::string::npos) << rotate.output;

  // The running node picks the new key up: the old token is refused, a new one works.
  std::string new_token;
  const bool rotated = waitFor(
      [&] {
        new_token = newToken(*node_, "bob");
        return statusWith(*node_, old_token) == 401u && !new_token.empty() &&
               statusWith(*node_, new_token) == 200u;
      },
      std::chrono::seconds(20));
  EXPECT_TRUE(rotated) << statusWith(*node_, old_token) << " " << statusWith(*node_, new_token)
                       << "\n"
                       << node_->log();
  // The node's log says it took the new key.
  EXPECT_GT(reloads(), reloads_before) << node_->log();
  // A second server on the file is still refused while the node runs.
  auto migrate = node_->run({"db", "migrate", "--config", node_->configPath().string()});
  EXPECT_NE(migrate.exit_code, 0) << migrate.output;
}

}  // namespace
}  // namespace atrium::testing
