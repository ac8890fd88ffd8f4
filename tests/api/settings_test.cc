// Installation settings through a real `atrium serve`: expected software versions are read back
// as written, refused with a clear error when malformed, and audited.
#include <gtest/gtest.h>

#include "support/atrium_node.h"
#include "support/process.h"

namespace atrium::testing {
namespace {

using nlohmann::json;

const net::Headers kJson{{"Content-Type", "application/json"}};

TEST(SettingsTest, ExpectedSoftwareVersionsRoundTripAndAreValidated) {
  TempDir tmp;
  AtriumNode node(tmp.path() / "n", AtriumNode::Options{});
  ASSERT_EQ(node.init().exit_code, 0);
  ASSERT_TRUE(node.start().ok()) << node.log();
  const std::string url = "/api/v1/settings/software-versions";

  auto empty = node.http("GET", url);
  ASSERT_TRUE(empty.ok());
  ASSERT_EQ(empty->status, 200u) << empty->body;
  EXPECT_EQ(AtriumNode::json(*empty), json::object());

  auto put = node.http("PUT", url, R"({"Cisco TelePresence SX80":"ce9.15.0","Polycom Group 500":"6.2.2.1"})",
                       kJson);
  ASSERT_TRUE(put.ok());
  ASSERT_EQ(put->status, 200u) << put->body;
  auto back = node.http("GET", url);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(AtriumNode::json(*back),
            (json{{"Cisco TelePresence SX80", "ce9.15.0"}, {"Polycom Group 500", "6.2.2.1"}}));

  for (const char* body : {R"({"SX80":""})", R"({"SX80":9})", R"({"SX80":null})", R"({"":"ce9.15.0"})",
                           R"(["SX80","ce9.15.0"])", R"({"SX80":)"}) {
    auto bad = node.http("PUT", url, body, kJson);
    ASSERT_TRUE(bad.ok());
    EXPECT_EQ(bad->status, 400u) << body;
    auto error = AtriumNode::json(*bad)["error"];
    EXPECT_FALSE(error.value("message", "").empty()) << bad->body;
  }
  EXPECT_EQ(AtriumNode::json(*node.http("GET", url))["Polycom Group 500"], "6.2.2.1")
      << "a refused PUT changed nothing";

  auto audit = node.http("GET", "/api/v1/audit?entity_type=settings&entity_id=software-versions");
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(AtriumNode::json(*audit)["total"], 1) << audit->body;
  if (HasFailure()) std::cerr << node.log();
}

}  // namespace
}  // namespace atrium::testing
