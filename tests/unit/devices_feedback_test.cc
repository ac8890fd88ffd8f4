// HTTP feedback posts of Cisco endpoints -> DeviceEvents, with identification and stable keys.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "devices/cisco_xapi/document_builder.h"
#include "devices/cisco_xapi/feedback_document.h"

namespace atrium::devices::cisco_xapi {
namespace {

std::string fixture(std::string_view name) {
  auto path = std::filesystem::path(ATRIUM_SOURCE_DIR) / "tests/fixtures/cisco_xapi" / name;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  EXPECT_FALSE(out.str().empty()) << "missing fixture " << path;
  return out.str();
}

TEST(XapiFeedbackTest, CallSuccessful) {
  auto events = parseFeedbackXml(fixture("feedback-call-successful.xml"), "system-31");
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->size(), 1u);
  const DeviceEvent& e = events->front();
  EXPECT_EQ(e.kind, EventKind::kCallConnected);
  EXPECT_EQ(e.identity.system_name, "Room 31");
  EXPECT_EQ(e.identity.mac_address, "70:7D:B9:10:22:33");
  EXPECT_EQ(e.identity.ipv4_address, "192.0.2.31");
  EXPECT_EQ(e.identity.ipv6_address, "2001:db8::31");
  EXPECT_EQ(e.identity.product, "Cisco Webex Room Kit");
  EXPECT_EQ(e.identity.product_type, "Cisco Codec");
  EXPECT_EQ(e.identity.software_version, "ce9.15.3.17e5d6e6f1d");
  EXPECT_EQ(e.identity.serial_number, "FOC2231N0ZZ");
  ASSERT_TRUE(e.call.has_value());
  EXPECT_EQ(e.call->call_id, "12");
  EXPECT_EQ(e.call->state, CallState::kConnected);
  EXPECT_EQ(e.call->direction, CallDirection::kOutgoing);
  EXPECT_EQ(e.call->remote_number, "sip:vmr-1001@video.example.org");
  EXPECT_EQ(e.call->rate_kbps, 6000);
  EXPECT_EQ(e.call->protocol, "Sip");
  EXPECT_EQ(e.idempotency_key.size(), 64u);
  EXPECT_FALSE(e.occurred_at.has_value());
  ASSERT_FALSE(e.values.empty());
  EXPECT_EQ(e.values.front().first, "Event/CallSuccessful[1]/Protocol[1]");
}

TEST(XapiFeedbackTest, CallDisconnectWithCauseAndDuration) {
  auto events = parseFeedbackXml(fixture("feedback-call-disconnect.xml"), "system-31");
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->size(), 1u);
  const DeviceEvent& e = events->front();
  EXPECT_EQ(e.kind, EventKind::kCallDisconnected);
  EXPECT_EQ(e.cause_value, "1");
  EXPECT_EQ(e.cause_string, "LocalDisconnect");  // CauseString empty: the cause type
  ASSERT_TRUE(e.call.has_value());
  EXPECT_EQ(e.call->duration, std::chrono::seconds(1834));
  EXPECT_EQ(e.call->call_id, "12");
  EXPECT_EQ(e.call->display_name, "VMR 1001");
  EXPECT_EQ(e.call->state, CallState::kDisconnected);
}

TEST(XapiFeedbackTest, NamespacedTcBootEvent) {
  auto events = parseFeedbackXml(fixture("feedback-tc-boot.xml"), "system-c60");
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().kind, EventKind::kBoot);
  EXPECT_EQ(events->front().identity.product, "Cisco TelePresence Codec C60");
  EXPECT_EQ(events->front().identity.software_version, "TC5.1.3.292001");

  auto unit_boot = parseFeedbackXml(
      "<Event><Identification><SystemName>x</SystemName></Identification>"
      "<SystemUnit><Boot/></SystemUnit></Event>",
      "s");
  ASSERT_TRUE(unit_boot.ok());
  EXPECT_EQ(unit_boot->front().kind, EventKind::kBoot);
}

TEST(XapiFeedbackTest, StatusPostGivesRegistrationAndCallGone) {
  auto events = parseFeedbackXml(fixture("feedback-status-registration.xml"), "system-31");
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].kind, EventKind::kRegistration);
  EXPECT_EQ((*events)[1].kind, EventKind::kStatusChanged);
  ASSERT_TRUE((*events)[1].call.has_value());
  EXPECT_EQ((*events)[1].call->call_id, "12");
  EXPECT_EQ((*events)[1].call->state, CallState::kDisconnected);
  ASSERT_EQ((*events)[1].values.size(), 1u);
  EXPECT_EQ((*events)[1].values[0], (PathValue{"Status/Call[12]/ghost", "True"}));
  EXPECT_NE((*events)[0].idempotency_key, (*events)[1].idempotency_key);
}

TEST(XapiFeedbackTest, ConfigurationPostIsOneEvent) {
  auto events = parseFeedbackXml(
      "<Configuration><Identification><SystemName>R</SystemName></Identification>"
      "<SystemUnit><Name>R2</Name></SystemUnit><SIP><URI>r2@example.org</URI></SIP>"
      "</Configuration>",
      "s");
  ASSERT_TRUE(events.ok()) << events.error().message;
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().kind, EventKind::kConfigurationChanged);
  EXPECT_EQ(events->front().values.size(), 2u);
}

TEST(XapiFeedbackTest, IdempotencyKeysAreStable) {
  std::string body = fixture("feedback-call-disconnect.xml");
  auto first = parseFeedbackXml(body, "system-31");
  auto retry = parseFeedbackXml(body, "system-31");
  ASSERT_TRUE(first.ok() && retry.ok());
  EXPECT_EQ(first->front().idempotency_key, retry->front().idempotency_key);

  // Formatting does not matter, content does.
  std::string reformatted = body;
  for (std::size_t pos; (pos = reformatted.find("\n    ")) != std::string::npos;) {
    reformatted.replace(pos, 5, "\r\n\t");
  }
  auto same = parseFeedbackXml(reformatted, "system-31");
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(first->front().idempotency_key, same->front().idempotency_key);

  auto other_sender = parseFeedbackXml(body, "system-32");
  ASSERT_TRUE(other_sender.ok());
  EXPECT_NE(first->front().idempotency_key, other_sender->front().idempotency_key);

  std::string other_call = body;
  const std::string from = "<CallId item=\"1\">12<";
  other_call.replace(other_call.find(from), from.size(), "<CallId item=\"1\">13<");
  auto different = parseFeedbackXml(other_call, "system-31");
  ASSERT_TRUE(different.ok());
  EXPECT_NE(first->front().idempotency_key, different->front().idempotency_key);
}

TEST(XapiFeedbackTest, MalformedAndUnknownPostsAreErrors) {
  EXPECT_FALSE(parseFeedbackXml("", "s").ok());
  EXPECT_FALSE(parseFeedbackXml("<Event>", "s").ok());
  auto unknown = parseFeedbackXml("<Banana><Identification/></Banana>", "s");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("Banana"), std::string::npos);
  EXPECT_FALSE(parseFeedbackXml("<Event><Identification/></Event>", "s").ok());
  EXPECT_FALSE(parseFeedbackXml("<Configuration/>", "s").ok());
}

TEST(XapiFeedbackTest, BuiltFeedbackReadsBack) {
  SystemIdentity id{"Sim 9",
                    "Cisco Webex Room Kit",
                    "Cisco Codec",
                    "ce9.15.3",
                    "SIM9",
                    "02:00:00:00:00:09",
                    "127.0.0.9",
                    "",
                    "",
                    "",
                    ""};
  CallInfo call{"5", CallDirection::kIncoming, "sip:alice@example.org", "Alice & Bob", "Sip",
                768, CallState::kConnected,    std::chrono::seconds(0)};

  auto connected = parseFeedbackXml(buildCallSuccessfulFeedback(id, call), "sim-9");
  ASSERT_TRUE(connected.ok()) << connected.error().message;
  EXPECT_EQ(connected->front().kind, EventKind::kCallConnected);
  EXPECT_EQ(connected->front().identity, id);
  EXPECT_EQ(*connected->front().call, call);

  call.duration = std::chrono::seconds(300);
  auto gone = parseFeedbackXml(
      buildCallDisconnectFeedback(id, call, "1", "RemoteDisconnect", "Normal call clearing"),
      "sim-9");
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  EXPECT_EQ(gone->front().kind, EventKind::kCallDisconnected);
  EXPECT_EQ(gone->front().cause_string, "Normal call clearing");
  EXPECT_EQ(gone->front().call->duration, std::chrono::seconds(300));

  DocumentStyle tc;
  tc.xmlns = "http://www.tandberg.com/XML/CUIL/2.0";
  auto boot = parseFeedbackXml(buildBootFeedback(id, tc), "sim-9");
  ASSERT_TRUE(boot.ok());
  EXPECT_EQ(boot->front().kind, EventKind::kBoot);
  EXPECT_EQ(boot->front().identity, id);

  auto status = buildStatusFeedback(
      id, {{"SIP/Registration[1]/Status", "Registered"}, {"Call[5]/ghost", "True"}});
  ASSERT_TRUE(status.ok());
  auto changes = parseFeedbackXml(*status, "sim-9");
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].kind, EventKind::kRegistration);
  EXPECT_EQ((*changes)[1].call->state, CallState::kDisconnected);

  auto config = buildConfigurationFeedback(id, {{"SystemUnit/Name", "Sim 9b"}});
  ASSERT_TRUE(config.ok());
  auto configured = parseFeedbackXml(*config, "sim-9");
  ASSERT_TRUE(configured.ok());
  EXPECT_EQ(configured->front().kind, EventKind::kConfigurationChanged);
  EXPECT_EQ(configured->front().values.front(),
            (PathValue{"Configuration/SystemUnit/Name", "Sim 9b"}));
}

}  // namespace
}  // namespace atrium::devices::cisco_xapi
