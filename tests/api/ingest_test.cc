// What systems send, end to end through a real `atrium serve` on SQLite: HTTP feedback posted to
// /feedback/{secret} (stored once, browsable, call records, refusals) and SNMP traps sent with
// net-snmp's own snmptrap.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

#include "common/clock.h"
#include "devices/cisco_xapi/document_builder.h"
#include "store/device_store.h"
#include "store/store.h"
#include "support/atrium_node.h"
#include "support/backends.h"
#include "support/feedback_load.h"

namespace atrium::testing {
namespace {

using nlohmann::json;
namespace xapi = devices::cisco_xapi;

const net::Headers kXml{{"Content-Type", "text/xml"}};
const net::Headers kJson{{"Content-Type", "application/json"}};

devices::SystemIdentity identity() {
  devices::SystemIdentity id;
  id.system_name = "Room 1";
  id.product = "Cisco Codec";
  id.software_version = "ce9.15.3";
  id.serial_number = "FTT1234";
  id.mac_address = "00:50:60:01:02:03";
  id.ipv4_address = "127.0.0.1";
  return id;
}

json getJson(const AtriumNode& node, const std::string& target) {
  auto r = node.http("GET", target);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  EXPECT_EQ(r->status, 200u) << target << ": " << r->body;
  return AtriumNode::json(*r);
}

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A tight per-system rate, so the flood test can show it in a moment.
    node_ = std::make_unique<AtriumNode>(
        tmp_.path() / "n", AtriumNode::Options{.extra_config = "[ingest]\nmax_events_per_system_per_second = 50\n"});
    ASSERT_EQ(node_->init().exit_code, 0);
    system_ = seedSystem(*node_, "Room 1", "127.0.0.1");
    ASSERT_EQ(system_.secret.size(), 32u);
    ASSERT_TRUE(node_->start().ok()) << node_->log();
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << node_->log();
  }

  Result<net::HttpResponse> post(const std::string& body, const std::string& secret = {}) {
    return node_->http("POST", "/feedback/" + (secret.empty() ? system_.secret : secret), body,
                       kXml);
  }

  TempDir tmp_;
  std::unique_ptr<AtriumNode> node_;
  SeededSystem system_;
};

TEST_F(IngestTest, FeedbackIsStoredOnceAndMakesCallRecords) {
  const auto before = std::chrono::system_clock::now() - std::chrono::seconds(1);
  devices::CallInfo call;
  call.call_id = "7";
  call.direction = devices::CallDirection::kOutgoing;
  call.remote_number = "sip:alice@example.com";
  call.protocol = "Sip";
  const std::string connected = xapi::buildCallSuccessfulFeedback(identity(), call);
  call.duration = std::chrono::seconds(65);
  const std::string disconnected =
      xapi::buildCallDisconnectFeedback(identity(), call, "1", "LocalDisconnect", "Normal");

  for (int i = 0; i < 2; ++i) {  // the endpoint retried: stored once
    auto r = post(connected);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200u) << r->body;
  }
  auto r = post(disconnected);
  ASSERT_EQ(r->status, 200u) << r->body;

  json events = getJson(*node_, "/api/v1/systems/" + system_.id + "/events");
  ASSERT_EQ(events["total"], 2) << events.dump();
  EXPECT_EQ(events["items"][0]["kind"], "call-disconnected");
  EXPECT_EQ(events["items"][1]["kind"], "call-connected");
  EXPECT_EQ(events["items"][1]["source"], "feedback");
  EXPECT_EQ(events["items"][1]["node"], "node-1");
  EXPECT_EQ(events["items"][1]["source_address"], "127.0.0.1");
  EXPECT_EQ(events["items"][1]["payload"]["call"]["remote"], "sip:alice@example.com");

  json since = getJson(*node_, "/api/v1/events?since=" + formatTimestamp(before));
  ASSERT_EQ(since["total"], 2) << since.dump();
  EXPECT_EQ(since["items"][0]["kind"], "call-connected");  // oldest first with since
  json none = getJson(*node_, "/api/v1/events?since=2200-01-01T00:00:00Z");
  EXPECT_EQ(none["total"], 0);
  json later = getJson(*node_, fmt::format("/api/v1/events?since_id={}",
                                            since["items"][0]["id"].get<std::int64_t>()));
  EXPECT_EQ(later["total"], 1);

  json calls = getJson(*node_, "/api/v1/systems/" + system_.id + "/calls");
  ASSERT_EQ(calls["total"], 1) << calls.dump();
  const json& c = calls["items"][0];
  EXPECT_EQ(c["call_id"], "7");
  EXPECT_EQ(c["remote"], "sip:alice@example.com");
  EXPECT_EQ(c["direction"], "outgoing");
  EXPECT_EQ(c["duration_seconds"], 65);
  EXPECT_EQ(c["cause"], "Normal (1)") << c.dump();
  EXPECT_FALSE(c["ended_at"].is_null());
  EXPECT_EQ(getJson(*node_, "/api/v1/calls?open=true")["total"], 0);

  // The secret never appears in the API.
  auto system = node_->http("GET", "/api/v1/systems/" + system_.id);
  EXPECT_EQ(system->body.find(system_.secret), std::string::npos);
  EXPECT_TRUE(AtriumNode::json(*system).contains("registration"));
}

TEST_F(IngestTest, UnknownSecretAndMalformedInputAreRefused) {
  auto unknown = post(xapi::buildBootFeedback(identity()), "0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->status, 404u);
  EXPECT_EQ(AtriumNode::json(*unknown)["error"]["code"], "not_found") << unknown->body;
  EXPECT_EQ(post("<Event>", "nonsense")->status, 404u);
  EXPECT_EQ(getJson(*node_, "/api/v1/events")["total"], 0);

  auto bad = post("<Event><CallSuccessful><CallId>1</CallId></Event>");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 400u) << bad->body;
  EXPECT_EQ(AtriumNode::json(*bad)["error"]["code"], "invalid_argument");
  auto garbage = post(std::string("\x00\xff{not xml", 11));
  EXPECT_EQ(garbage->status, 400u) << garbage->body;

  // The node also polls the system (nothing answers at its address): only the feedback ticket
  // matters here.
  json tickets = getJson(*node_, "/api/v1/tickets?kind=malformed-input&system_id=" + system_.id);
  ASSERT_EQ(tickets["total"], 1) << tickets.dump();  // one open ticket per kind
  EXPECT_EQ(tickets["items"][0]["kind"], "malformed-input");
  json malformed = getJson(*node_, "/api/v1/events?kind=malformed");
  EXPECT_EQ(malformed["total"], 2) << malformed.dump();

  auto ack = node_->http(
      "POST", fmt::format("/api/v1/tickets/{}/acknowledge", tickets["items"][0]["id"].get<int>()));
  ASSERT_EQ(ack->status, 200u) << ack->body;
  EXPECT_FALSE(AtriumNode::json(*ack)["acknowledged_at"].is_null());
  EXPECT_EQ(node_->http("POST", "/api/v1/tickets/999999/acknowledge")->status, 404u);
}

TEST_F(IngestTest, TrapsFromSnmptrapArriveAsEventsOfTheSystem) {
  const std::string target = fmt::format("127.0.0.1:{}", node_->snmpPort());
  auto r = runProgram({"/usr/bin/snmptrap", "-v", "2c", "-c", "public", target, "", "1.3.6.1.6.3.1.1.5.3",
                       "1.3.6.1.2.1.2.2.1.1.2", "i", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = runProgram({"/usr/bin/snmptrap", "-v", "2c", "-c", "public", target, "", "1.3.6.1.6.3.1.1.5.1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string url = "/api/v1/systems/" + system_.id + "/events?source=trap";
  ASSERT_TRUE(waitFor([&] { return getJson(*node_, url)["total"] == 2; }, std::chrono::seconds(15)))
      << getJson(*node_, url).dump();
  json events = getJson(*node_, url);
  EXPECT_EQ(events["items"][0]["kind"], "cold-start");
  EXPECT_EQ(events["items"][1]["kind"], "link-down");
  EXPECT_EQ(events["items"][1]["payload"]["trap_oid"], "1.3.6.1.6.3.1.1.5.3");
  EXPECT_EQ(events["items"][1]["source_address"], "127.0.0.1");
  EXPECT_EQ(events["items"][1]["idempotency_key"].get<std::string>().size(), 64u);
}

TEST_F(IngestTest, SettingsAndAliasesAreValidated) {
  auto put = node_->http("PUT", "/api/v1/settings/server-addresses",
                         R"({"lan_ipv4":"10.0.0.5","lan_ipv6":"2001:db8::5","lan_fqdn":"atrium.corp.example","http_port":8080})",
                         kJson);
  ASSERT_EQ(put->status, 200u) << put->body;
  EXPECT_EQ(getJson(*node_, "/api/v1/settings/server-addresses")["lan_fqdn"], "atrium.corp.example");
  auto bad = node_->http("PUT", "/api/v1/settings/server-addresses", R"({"lan_ipv4":"10.0.0.300"})", kJson);
  EXPECT_EQ(bad->status, 400u);
  EXPECT_EQ(AtriumNode::json(*bad)["error"]["field"], "lan_ipv4");

  auto patch = node_->http("PATCH", "/api/v1/systems/" + system_.id,
                           R"({"h323_id":"room1","e164_alias":"4711","sip_uri":"sip:room1@example.com"})", kJson);
  ASSERT_EQ(patch->status, 200u) << patch->body;
  EXPECT_EQ(AtriumNode::json(*patch)["sip_uri"], "sip:room1@example.com");
  for (const char* body : {R"({"e164_alias":"12ab"})", R"({"sip_uri":"no-at-sign"})",
                           R"({"h323_id":"tab\there"})", R"({"active_calls":3})"}) {
    EXPECT_EQ(node_->http("PATCH", "/api/v1/systems/" + system_.id, body, kJson)->status, 400u) << body;
  }
}

// One post can no longer become tens of thousands of events: a post of 12,000 <BootEvent>s is
// answered, 100 of them (ingest.max_events_per_post) are stored, the rest counted and ticketed;
// and a system sending more than its rate has the excess dropped, counted and ticketed too.
TEST_F(IngestTest, AFloodOfEventsIsCappedCountedAndTicketed) {
  auto flood = [](int count, int offset) {
    std::string doc =
        "<?xml version=\"1.0\"?><Event><Identification><SystemName>Room 1</SystemName>"
        "<IPAddress>127.0.0.1</IPAddress></Identification>";
    for (int i = 0; i < count; ++i) {
      doc += fmt::format("<BootEvent item=\"{0}\"><Level>{0}</Level></BootEvent>", offset + i);
    }
    return doc + "</Event>";
  };
  auto posted = post(flood(12000, 0));
  ASSERT_TRUE(posted.ok()) << posted.error().message;
  EXPECT_EQ(posted->status, 200u) << posted->body;
  EXPECT_EQ(getJson(*node_, "/api/v1/events?system_id=" + system_.id)["total"], 100);
  EXPECT_EQ(metricValue(*node_, "atrium_feedback_events_dropped_total"), 11900);
  json tickets = getJson(*node_, "/api/v1/tickets?kind=feedback-flood&system_id=" + system_.id);
  ASSERT_EQ(tickets["total"], 1) << tickets.dump();
  EXPECT_NE(
      tickets["items"][0]["message"].get<std::string>().find("ingest.max_events_per_post (100)"),
      std::string::npos)
      << tickets.dump();

  // The system's burst allowance (500 at 50 per second) has 400 left: ten posts of 100 events in
  // a moment exceed it, and the excess is dropped.
  for (int i = 1; i <= 10; ++i) {
    auto more = post(flood(100, i * 1000));
    ASSERT_TRUE(more.ok());
    EXPECT_EQ(more->status, 200u) << more->body;
  }
  const auto stored =
      getJson(*node_, "/api/v1/events?system_id=" + system_.id)["total"].get<std::int64_t>();
  EXPECT_GE(stored, 500);
  EXPECT_LT(stored, 1100);
  EXPECT_EQ(metricValue(*node_, "atrium_feedback_events_dropped_total"), 11900 + (1100 - stored));
  // Another system is not held back by the first one's flood (its burst is its own).
  ASSERT_TRUE(node_->stop().has_value());
  auto other = seedSystem(*node_, "Room 2", "127.0.0.2");
  ASSERT_TRUE(node_->start().ok()) << node_->log();
  auto boot = post(xapi::buildBootFeedback(identity()), other.secret);
  ASSERT_TRUE(boot.ok());
  EXPECT_EQ(boot->status, 200u) << boot->body;
  EXPECT_EQ(getJson(*node_, "/api/v1/events?system_id=" + other.id)["total"], 1);
}

// Changing where a system is must not send its password to whoever answers at the new address.
TEST_F(IngestTest, ANewAddressDropsTheStoredPasswordUnlessItIsGivenAgain) {
  const std::string target = "/api/v1/systems/" + system_.id;
  auto set = node_->http("PATCH", target,
                         R"({"credentials":{"username":"admin","password":"pw-1"}})", kJson);
  ASSERT_EQ(set->status, 200u) << set->body;
  EXPECT_EQ(AtriumNode::json(*set)["credentials"]["set"], true);
  // Reordering the known addresses, or removing one, keeps it.
  auto same = node_->http("PATCH", target, R"({"addresses":["127.0.0.1"]})", kJson);
  ASSERT_EQ(same->status, 200u) << same->body;
  EXPECT_FALSE(AtriumNode::json(*same).contains("warnings"));
  // A new address drops the password (the user name stays) and says so.
  auto moved = node_->http("PATCH", target, R"({"addresses":["127.0.0.9"]})", kJson);
  ASSERT_EQ(moved->status, 200u) << moved->body;
  json body = AtriumNode::json(*moved);
  ASSERT_TRUE(body.contains("warnings")) << moved->body;
  EXPECT_NE(body["warnings"][0].get<std::string>().find("password was dropped"), std::string::npos);
  EXPECT_EQ(body["credentials"]["set"], true);  // the user name is still set
  ASSERT_TRUE(node_->stop().has_value());
  {
    SystemClock clock;
    auto db = store::Database::open("sqlite:" + (node_->dataDir() / "atrium.db").string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    store::Store st(**db, clock);
    auto s = st.system(system_.id);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->password, "");
    EXPECT_EQ(s->username, "admin");
  }
  ASSERT_TRUE(node_->start().ok()) << node_->log();
  // Given again with the change, it is kept.
  auto with = node_->http(
      "PATCH", target,
      R"({"addresses":["127.0.0.10"],"credentials":{"username":"admin","password":"pw-2"}})",
      kJson);
  ASSERT_EQ(with->status, 200u) << with->body;
  EXPECT_FALSE(AtriumNode::json(*with).contains("warnings")) << with->body;
}

}  // namespace
}  // namespace atrium::testing
