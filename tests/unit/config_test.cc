#include "config/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace atrium::config {
namespace {

TEST(ConfigTest, DefaultsWhenEmpty) {
  auto cfg = parse("", "/etc/atrium/atrium.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->node.data_dir, "/var/lib/atrium");
  EXPECT_EQ(cfg->database.url, "sqlite:/var/lib/atrium/atrium.db");
  EXPECT_EQ(cfg->api.listen.host, "127.0.0.1");
  EXPECT_EQ(cfg->api.listen.port, 8080);
  EXPECT_FALSE(cfg->node.name.empty());
}

TEST(ConfigTest, DevicesMaxAnswerBytes) {
  auto defaults = parse("", "/etc/atrium/atrium.toml");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->devices.max_answer_bytes, 16u * 1024 * 1024);
  auto set = parse("[devices]\nmax_answer_bytes = 1048576\n", "/etc/atrium/atrium.toml");
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ(set->devices.max_answer_bytes, 1048576u);
  for (const char* bad :
       {"[devices]\nmax_answer_bytes = 100\n", "[devices]\nmax_answer_bytes = 2147483648\n",
        "[devices]\nmax_answer_bytes = \"16M\"\n"}) {
    auto r = parse(bad, "/etc/atrium/atrium.toml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "devices.max_answer_bytes") << r.error().message;
  }
}

TEST(ConfigTest, ReadsEveryKey) {
  auto cfg = parse(R"(
[node]
name = "atrium-1"
data_dir = "data"
[database]
url = "host=db1,db2 dbname=atrium target_session_attrs=read-write"
pool_size = 8
connect_timeout_ms = 1500
[api]
listen = "[::1]:9090"
max_body_bytes = 4096
read_timeout_s = 5
network_threads = 3
db_threads = 6
[log]
format = "json"
level = "debug"
)",
                   "/etc/atrium/atrium.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->node.name, "atrium-1");
  EXPECT_EQ(cfg->node.data_dir, "/etc/atrium/data");
  EXPECT_EQ(cfg->database.url, "host=db1,db2 dbname=atrium target_session_attrs=read-write");
  EXPECT_EQ(cfg->database.pool_size, 8u);
  EXPECT_EQ(cfg->database.connect_timeout.count(), 1500);
  EXPECT_EQ(cfg->api.listen.host, "::1");
  EXPECT_EQ(cfg->api.listen.port, 9090);
  EXPECT_EQ(cfg->api.listen.text(), "[::1]:9090");
  EXPECT_EQ(cfg->api.max_body_bytes, 4096u);
  EXPECT_EQ(cfg->api.read_timeout.count(), 5);
  EXPECT_EQ(cfg->api.network_threads, 3u);
  EXPECT_EQ(cfg->api.db_threads, 6u);
  EXPECT_EQ(cfg->log.format, log::Format::kJson);
  EXPECT_EQ(cfg->log.level, log::Level::kDebug);
}

TEST(ConfigTest, IdentityLdapKeys) {
  auto defaults = parse("", "/etc/atrium/atrium.toml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->identity.user_filter, "(|(uid={name})(sAMAccountName={name}))");
  EXPECT_FALSE(defaults->identity.start_tls);
  EXPECT_EQ(defaults->identity.timeout, std::chrono::milliseconds(5000));

  auto cfg = parse(R"toml(
[identity]
source = "ldap://dc1.example.com"
base_dn = "dc=example,dc=com"
user_filter = "(&(objectClass=user)(sAMAccountName={name}))"
bind_dn = "cn=atrium,ou=Service,dc=example,dc=com"
bind_password_file = "ldap.password"
start_tls = true
ca_file = "ca.pem"
timeout_ms = 2500
)toml",
                   "/etc/atrium/atrium.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->identity.user_filter, "(&(objectClass=user)(sAMAccountName={name}))");
  EXPECT_EQ(cfg->identity.bind_dn, "cn=atrium,ou=Service,dc=example,dc=com");
  EXPECT_EQ(cfg->identity.bind_password_file, "/etc/atrium/ldap.password");
  EXPECT_TRUE(cfg->identity.start_tls);
  EXPECT_EQ(cfg->identity.ca_file, "/etc/atrium/ca.pem");
  EXPECT_EQ(cfg->identity.timeout, std::chrono::milliseconds(2500));

  const auto refused = [](const std::string& text, const std::string& key) {
    auto r = parse(text, "/etc/atrium/atrium.toml");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().field, key) << r.error().message;
  };
  const std::string ldap = "[identity]\nsource = \"ldap://dc1\"\nbase_dn = \"dc=x\"\n";
  refused(ldap + "user_filter = \"(uid=alice)\"\n", "identity.user_filter");  // no {name}
  refused(ldap + "timeout_ms = 10\n", "identity.timeout_ms");
  refused(ldap + "bind_password_file = \"p\"\n", "identity.bind_password_file");  // no bind_dn
  refused("[identity]\nsource = \"ldaps://dc1\"\nbase_dn = \"dc=x\"\nstart_tls = true\n",
          "identity.start_tls");
}

TEST(ConfigTest, RelativeSqlitePathFollowsTheFile) {
  auto cfg = parse("[database]\nurl = \"sqlite:db/atrium.db\"\n", "/srv/atrium/atrium.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_EQ(cfg->database.url, "sqlite:/srv/atrium/db/atrium.db");
}

TEST(ConfigTest, UnknownKeyIsNamed) {
  auto cfg = parse("[api]\nlisten_on = \"1.2.3.4:80\"\n", "a.toml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().field, "api.listen_on");
  EXPECT_NE(cfg.error().message.find("api.listen_on is not known"), std::string::npos)
      << cfg.error().message;
}

TEST(ConfigTest, UnknownTableAndTopLevelKeyAreNamed) {
  auto cfg = parse("[nodes]\nname = \"x\"\n", "a.toml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().field, "nodes.name");
  cfg = parse("verbose = true\n", "a.toml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().field, "verbose");
}

TEST(ConfigTest, BadValuesNameKeyAndExpectation) {
  struct Case {
    const char* text;
    const char* key;
    const char* expected;
  };
  const Case cases[] = {
      {"[api]\nlisten = \"localhost\"\n", "api.listen", "host:port"},
      {"[api]\nlisten = \"1.2.3.4:70000\"\n", "api.listen", "host:port"},
      {"[api]\nlisten = 8080\n", "api.listen", "a string"},
      {"[database]\npool_size = 0\n", "database.pool_size", "an integer from 1 to 64"},
      {"[database]\npool_size = \"4\"\n", "database.pool_size", "an integer"},
      {"[log]\nformat = \"xml\"\n", "log.format", "\"text\" or \"json\""},
      {"[log]\nlevel = \"loud\"\n", "log.level", "\"debug\""},
      {"[node]\nname = \"\"\n", "node.name", "non-empty"},
  };
  for (const auto& c : cases) {
    auto cfg = parse(c.text, "a.toml");
    ASSERT_FALSE(cfg.ok()) << c.text;
    EXPECT_EQ(cfg.error().field, c.key) << c.text;
    EXPECT_NE(cfg.error().message.find(c.key), std::string::npos) << cfg.error().message;
    EXPECT_NE(cfg.error().message.find(c.expected), std::string::npos) << cfg.error().message;
  }
}

TEST(ConfigTest, SyntaxErrorGivesLine) {
  auto cfg = parse("[api\nlisten = 1\n", "broken.toml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("broken.toml line 1"), std::string::npos) << cfg.error().message;
}

TEST(ConfigTest, ExampleConfigParsesBackToDefaults) {
  auto text = exampleConfig("/data/atrium", "node-a");
  auto cfg = parse(text, "/etc/atrium.toml");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message << "\n" << text;
  EXPECT_EQ(cfg->node.name, "node-a");
  EXPECT_EQ(cfg->node.data_dir, "/data/atrium");
  EXPECT_EQ(cfg->database.url, "sqlite:/data/atrium/atrium.db");
  EXPECT_EQ(cfg->api.listen.text(), "127.0.0.1:8080");
  // Every documented key appears in the example.
  for (const auto& k : documentedKeys()) {
    auto name = k.key.substr(k.key.find('.') + 1);
    EXPECT_NE(text.find(std::string(name) + " = "), std::string::npos) << k.key;
  }
}

TEST(ListenAddressTest, Forms) {
  EXPECT_TRUE(parseListenAddress("0.0.0.0:0").ok());
  EXPECT_TRUE(parseListenAddress("localhost:80").ok());
  EXPECT_TRUE(parseListenAddress("[::]:443").ok());
  EXPECT_FALSE(parseListenAddress("::1:80").ok());
  EXPECT_FALSE(parseListenAddress("[nothex]:80").ok());
  EXPECT_FALSE(parseListenAddress(":80").ok());
  EXPECT_FALSE(parseListenAddress("host:").ok());
  EXPECT_FALSE(parseListenAddress("host:8x").ok());
}

}  // namespace
}  // namespace atrium::config

namespace atrium::config {
namespace {

TEST(ConfigDocsTest, EveryKeyIsDocumented) {
  std::ifstream in(std::string(ATRIUM_SOURCE_DIR) + "/docs/configuration.md");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string docs = buf.str();
  ASSERT_FALSE(docs.empty());
  for (const auto& k : documentedKeys()) {
    EXPECT_NE(docs.find("| `" + std::string(k.key) + "` |"), std::string::npos) << k.key;
  }
}

}  // namespace
}  // namespace atrium::config
