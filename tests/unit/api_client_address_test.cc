// Whose address a request carries behind a load balancer: X-Forwarded-For is believed only from
// a trusted proxy, and then only its last entry (the one the proxy itself appended).
#include <gtest/gtest.h>

#include "api/client_address.h"
#include "config/config.h"

namespace atrium::api {
namespace {

TEST(ClientAddressTest, CanonicalForms) {
  EXPECT_EQ(canonicalIp("10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(canonicalIp(" 10.0.0.1 "), "10.0.0.1");
  EXPECT_EQ(canonicalIp("::ffff:10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(canonicalIp("2001:DB8:0:0::5"), "2001:db8::5");
  EXPECT_EQ(canonicalIp("[2001:db8::5]"), "2001:db8::5");
  EXPECT_EQ(canonicalIp("10.0.0.300"), "");
  EXPECT_EQ(canonicalIp("unknown"), "");
  EXPECT_EQ(canonicalIp(""), "");
}

TEST(ClientAddressTest, WithoutTrustedProxiesThePeerIsTheClient) {
  TrustedProxies none;
  EXPECT_EQ(none.clientAddress("127.0.0.1", {"192.0.2.7"}), "127.0.0.1");
}

TEST(ClientAddressTest, AnUntrustedPeerCannotClaimAnotherAddress) {
  TrustedProxies proxies({"10.0.0.2"});
  EXPECT_EQ(proxies.clientAddress("198.51.100.9", {"192.0.2.7"}), "198.51.100.9");
}

TEST(ClientAddressTest, ATrustedProxyNamesTheClientInItsLastEntry) {
  TrustedProxies proxies({"10.0.0.2", "2001:db8::2"});
  EXPECT_EQ(proxies.clientAddress("10.0.0.2", {"192.0.2.7"}), "192.0.2.7");
  // What the client wrote itself comes first; only the proxy's own entry counts.
  EXPECT_EQ(proxies.clientAddress("10.0.0.2", {"203.0.113.66, 192.0.2.7"}), "192.0.2.7");
  EXPECT_EQ(proxies.clientAddress("10.0.0.2", {"203.0.113.66", "192.0.2.8"}), "192.0.2.8");
  EXPECT_EQ(proxies.clientAddress("::ffff:10.0.0.2", {"2001:DB8::7"}), "2001:db8::7");
  EXPECT_EQ(proxies.clientAddress("2001:db8:0::2", {"192.0.2.7"}), "192.0.2.7");
}

TEST(ClientAddressTest, ATrustedProxyWithoutAUsableEntryLeavesThePeer) {
  TrustedProxies proxies({"10.0.0.2"});
  EXPECT_EQ(proxies.clientAddress("10.0.0.2", {}), "10.0.0.2");
  EXPECT_EQ(proxies.clientAddress("10.0.0.2", {"192.0.2.7, unknown"}), "10.0.0.2");
  EXPECT_EQ(proxies.clientAddress("10.0.0.2", {""}), "10.0.0.2");
}

TEST(ClientAddressTest, ConfigurationKey) {
  auto cfg = config::parse("[api]\ntrusted_proxies = [\"10.0.0.2\", \"2001:db8::2\"]\n",
                           "/etc/atrium/atrium.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->api.trusted_proxies, (std::vector<std::string>{"10.0.0.2", "2001:db8::2"}));
  auto empty = config::parse("", "/etc/atrium/atrium.toml");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->api.trusted_proxies.empty());
  for (const char* bad :
       {"[\"lb.example.com\"]", "[\"10.0.0.0/8\"]", "[\"[2001:db8::2]\"]", "\"10.0.0.2\"", "[1]"}) {
    auto refused = config::parse(std::string("[api]\ntrusted_proxies = ") + bad + "\n",
                                 "/etc/atrium/atrium.toml");
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().field, "api.trusted_proxies") << refused.error().message;
  }
}

}  // namespace
}  // namespace atrium::api
