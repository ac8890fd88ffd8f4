#include "services/connectivity.h"

#include <gtest/gtest.h>

namespace atrium::services {
namespace {

TEST(ConnectivityTest, PrivateAddresses) {
  for (const char* a : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "127.0.0.1",
                        "169.254.1.1", "fd00::1", "fe80::1", "::1", "::ffff:10.0.0.1"}) {
    EXPECT_TRUE(isPrivateAddress(a)) << a;
  }
  for (const char* a : {"8.8.8.8", "172.32.0.1", "192.0.2.1", "2001:db8::1", "codec.example.com", ""}) {
    EXPECT_FALSE(isPrivateAddress(a)) << a;
  }
}

TEST(ConnectivityTest, SuggestionFollowsTheDocumentedRule) {
  EXPECT_EQ(suggestedConnectivity("10.0.0.5", "10.0.0.5"), "reachable-lan");
  EXPECT_EQ(suggestedConnectivity("198.51.100.7", "198.51.100.7"), "reachable-public");
  EXPECT_EQ(suggestedConnectivity("10.0.0.5", "198.51.100.7"), "behind-firewall");
  EXPECT_EQ(suggestedConnectivity("10.0.0.5", "::ffff:10.0.0.5"), "reachable-lan");
  EXPECT_EQ(suggestedConnectivity("", "10.0.0.5"), std::nullopt);
}

TEST(ConnectivityTest, ChangesOnlyWhenTwoObservationsAgree) {
  ConnectivitySettler settler;
  // One NATed boot event is not enough...
  EXPECT_EQ(settler.observe("s1", "reachable-lan", "10.0.0.5", "198.51.100.7"), std::nullopt);
  // ...a direct one in between resets it...
  EXPECT_EQ(settler.observe("s1", "reachable-lan", "10.0.0.5", "10.0.0.5"), std::nullopt);
  EXPECT_EQ(settler.observe("s1", "reachable-lan", "10.0.0.5", "198.51.100.7"), std::nullopt);
  // ...two in a row settle it.
  EXPECT_EQ(settler.observe("s1", "reachable-lan", "10.0.0.5", "198.51.100.7"), "behind-firewall");
  // Systems are independent.
  EXPECT_EQ(settler.observe("s2", "reachable-lan", "10.0.0.6", "198.51.100.8"), std::nullopt);
}

TEST(ConnectivityTest, InaccessibleIsLeftAlone) {
  ConnectivitySettler settler;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(settler.observe("s1", "inaccessible", "10.0.0.5", "10.0.0.5"), std::nullopt);
  }
}

}  // namespace
}  // namespace atrium::services
