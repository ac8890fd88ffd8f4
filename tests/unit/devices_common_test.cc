// Shared pieces of the device layer: limited XML parsing, paths, timestamps, keys, names.
#include <gtest/gtest.h>

#include <limits>

#include "devices/device_time.h"
#include "devices/event_key.h"
#include "devices/types.h"
#include "devices/xml_tree.h"

namespace atrium::devices {
namespace {

TEST(DevicesXmlTest, LimitsAreEnforced) {
  std::string deep;
  for (int i = 0; i < 1000; ++i) deep += "<a>";
  for (int i = 0; i < 1000; ++i) deep += "</a>";
  auto nested = XmlDocument::parse(deep, "test");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().message.find("nested deeper"), std::string::npos);

  XmlLimits small;
  small.max_bytes = 10;
  auto large = XmlDocument::parse("<abcdefghijkl/>", "test", small);
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.error().code, ErrorCode::kPayloadTooLarge);

  XmlLimits few;
  few.max_nodes = 5;
  EXPECT_FALSE(XmlDocument::parse("<a><b/><b/><b/><b/><b/><b/></a>", "test", few).ok());

  EXPECT_FALSE(XmlDocument::parse("<" + std::string(300, 'n') + "/>", "test").ok());
  EXPECT_FALSE(XmlDocument::parse("<!-- only a comment -->", "test").ok());
  EXPECT_TRUE(XmlDocument::parse("<a><b>x</b></a>", "test").ok());
}

TEST(DevicesXmlTest, FlattenAndBuildAreInverse) {
  auto doc = XmlDocument::parse(
      "<x:Root xmlns:x=\"urn:x\"><x:A item=\"2\"><B>1</B><C/></x:A><D ghost=\"True\"/></x:Root>",
      "test");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(localName(doc->root()), "Root");
  auto flat = flattenXml(doc->root());
  ASSERT_TRUE(flat.ok());
  std::vector<PathValue> expected{{"A[2]/B", "1"}, {"A[2]/C", ""}, {"D/ghost", "True"}};
  EXPECT_EQ(*flat, expected);

  pugi::xml_document built;
  pugi::xml_node root = built.append_child("Root");
  for (const auto& [p, v] : expected) ASSERT_TRUE(addXmlPath(root, p, v).ok());
  auto again = flattenXml(root);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, expected);

  EXPECT_FALSE(splitXmlPath("A/[2]").ok());
  EXPECT_FALSE(splitXmlPath("A[0]").ok());
  EXPECT_FALSE(splitXmlPath("A[x]").ok());
  EXPECT_FALSE(splitXmlPath("A//B").ok());
  EXPECT_FALSE(splitXmlPath("").ok());
  EXPECT_EQ(joinXmlPath(*splitXmlPath("/Status/Call[3]/Status")), "Status/Call[3]/Status");
}

TEST(DevicesTimeTest, DeviceFormats) {
  using std::chrono::sys_days;
  auto expected = sys_days(std::chrono::year_month_day(
                      std::chrono::year(2021), std::chrono::month(3), std::chrono::day(2))) +
                  std::chrono::hours(19) + std::chrono::minutes(6) + std::chrono::seconds(31);
  EXPECT_EQ(parseDeviceTime("2021-03-02T14:06:31-0500"), expected);
  EXPECT_EQ(parseDeviceTime("2021-03-02T19:06:31Z"), expected);
  EXPECT_EQ(parseDeviceTime("2021-03-02T20:06:31+01:00"), expected);
  EXPECT_EQ(parseDeviceTime("20210302T19:06:31"), expected);
  EXPECT_EQ(parseDeviceTime("2021-03-02T19:06:31.250Z"), expected + std::chrono::milliseconds(250));
  EXPECT_FALSE(parseDeviceTime("2021-02-30T00:00:00Z").has_value());
  EXPECT_FALSE(parseDeviceTime("yesterday").has_value());
  EXPECT_FALSE(parseDeviceTime("2021-03-02T25:00:00Z").has_value());
  EXPECT_FALSE(parseDeviceTime("2021-03-02T10:00:00Zjunk").has_value());
}

TEST(DevicesKeyTest, KeysDependOnEveryPart) {
  DeviceEvent e;
  e.kind = EventKind::kBoot;
  e.values = {{"Event/BootEvent[1]/Level[1]", "Info"}};
  std::string key = eventIdempotencyKey("sys-1", e, 0);
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(key, eventIdempotencyKey("sys-1", e, 0));
  EXPECT_NE(key, eventIdempotencyKey("sys-2", e, 0));
  EXPECT_NE(key, eventIdempotencyKey("sys-1", e, 1));
  DeviceEvent other = e;
  other.identity.serial_number = "X";
  EXPECT_NE(key, eventIdempotencyKey("sys-1", other, 0));
  other = e;
  other.values = {{"Event/BootEvent[1]/Level[1]Info", ""}};
  EXPECT_NE(key, eventIdempotencyKey("sys-1", other, 0));
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DevicesTypesTest, CapabilitiesAndNames) {
  Capabilities c = Capability::kPolling | Capability::kHttpFeedback;
  c = c | Capability::kDialOut;
  EXPECT_TRUE(c.has(Capability::kPolling));
  EXPECT_FALSE(c.has(Capability::kSnmpTraps));
  EXPECT_EQ(capabilityNames(c),
            (std::vector<std::string_view>{"polling", "http-feedback", "dial-out"}));
  EXPECT_EQ(eventKindName(EventKind::kCallDisconnected), "call-disconnected");
  EXPECT_EQ(callStateName(CallState::kOnHold), "on-hold");
  EXPECT_EQ(registrationStateName(RegistrationState::kRegistered), "registered");
}

}  // namespace
}  // namespace atrium::devices

namespace atrium::devices {
namespace {

TEST(CallNumbersTest, ReportedRatesAndDurationsAreBroughtIntoRange) {
  EXPECT_EQ(callDuration(std::numeric_limits<long long>::max()).count(), kMaxCallNumber);
  EXPECT_EQ(callDuration(-5).count(), 0);
  EXPECT_EQ(callDuration(65).count(), 65);
  EXPECT_EQ(callRateKbps(1LL << 40), kMaxCallNumber);
  EXPECT_EQ(callRateKbps(-1), 0);
  EXPECT_EQ(callRateKbps(768), 768);
}

}  // namespace
}  // namespace atrium::devices
