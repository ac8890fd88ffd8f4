// The shipped load-balancer configuration, run for real: two `atrium serve` nodes on one
// PostgreSQL behind a real nginx started from deploy/nginx/atrium.conf (ports, log and temp paths
// substituted, nothing else). Through its one address: HTTP feedback is stored, net-snmp's own
// snmptrap and snmpinform from a system's 127.x address are stored as that system's events, the
// node sees the system's address (X-Forwarded-For from a trusted proxy), and with one node
// SIGKILLed every post keeps being acknowledged and is stored exactly once.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>
#include <sstream>

#include "devices/cisco_xapi/document_builder.h"
#include "support/atrium_node.h"
#include "support/backends.h"
#include "support/feedback_load.h"

namespace atrium::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const net::Headers kJson{{"Content-Type", "application/json"}};
constexpr const char* kNginx = "/usr/sbin/nginx";
constexpr const char* kFeedbackAddress = "127.0.0.21";  // the Cisco endpoint's own address
constexpr const char* kTrapAddress = "127.0.0.22";      // the SNMP system's own address
constexpr const char* kMarkerOid = "1.3.6.1.4.1.55555.1.1";

// Replaces the address of each `server` line in `upstream NAME { ... }`, in order, keeping the
// line's parameters. Fails the test when the block or its count of servers is not as expected.
std::string rewriteUpstream(std::string text, const std::string& name,
                            const std::vector<std::string>& addresses) {
  const auto open = text.find("upstream " + name + " {");
  if (open == std::string::npos) {
    ADD_FAILURE() << "deploy/nginx/atrium.conf has no upstream " << name;
    return text;
  }
  const auto close = text.find('}', open);
  std::string block = text.substr(open, close - open);
  static const std::regex kServer(R"((\n\s*server\s+)(\S+?)([\s;]))");
  std::string out;
  std::size_t n = 0;
  auto last = block.cbegin();
  for (std::sregex_iterator it(block.begin(), block.end(), kServer), end; it != end; ++it, ++n) {
    out.append(last, (*it)[0].first);
    out += (*it)[1].str() + (n < addresses.size() ? addresses[n] : (*it)[2].str()) + (*it)[3].str();
    last = (*it)[0].second;
  }
  out.append(last, block.cend());
  EXPECT_EQ(n, addresses.size()) << "servers in upstream " << name;
  return text.replace(open, close - open, out);
}

// Replaces the argument of every `directive ARG` (up to the ';' or a space).
std::string rewriteDirective(const std::string& text, const std::string& directive,
                             const std::string& value) {
  const std::regex re("(\\n\\s*" + directive + "\\s+)[^;\\s]+");
  EXPECT_TRUE(std::regex_search(text, re)) << "deploy/nginx/atrium.conf has no " << directive;
  return std::regex_replace(text, re, "$1" + value);
}

// deploy/nginx/atrium.conf with this test's ports and paths.
std::string nginxConfig(const std::filesystem::path& dir, std::uint16_t http_port,
                        std::uint16_t udp_port, const std::vector<const AtriumNode*>& nodes) {
  std::string text =
      readFile(std::filesystem::path(ATRIUM_SOURCE_DIR) / "deploy/nginx/atrium.conf");
  EXPECT_FALSE(text.empty());
  std::vector<std::string> http_servers;
  std::vector<std::string> snmp_servers;
  for (const auto* n : nodes) {
    http_servers.push_back(fmt::format("127.0.0.1:{}", n->port()));
    snmp_servers.push_back(fmt::format("127.0.0.1:{}", n->snmpPort()));
  }
  text = rewriteUpstream(text, "atrium_http", http_servers);
  text = rewriteUpstream(text, "atrium_snmp", snmp_servers);
  const std::regex http_listen(R"(\blisten\s+80;)");
  const std::regex udp_listen(R"(\blisten\s+162 udp;)");
  EXPECT_TRUE(std::regex_search(text, http_listen));
  EXPECT_TRUE(std::regex_search(text, udp_listen));
  text = std::regex_replace(text, http_listen, fmt::format("listen 127.0.0.1:{};", http_port));
  text = std::regex_replace(text, udp_listen, fmt::format("listen 127.0.0.1:{} udp;", udp_port));
  text = rewriteDirective(text, "pid", (dir / "nginx.pid").string());
  text = rewriteDirective(text, "error_log", (dir / "error.log").string());
  text = rewriteDirective(text, "access_log", (dir / "access.log").string());
  text = rewriteDirective(text, "client_body_temp_path", (dir / "body").string());
  text = rewriteDirective(text, "proxy_temp_path", (dir / "proxy").string());
  // An nginx with the stream module built in has nothing to load.
  const auto version = runProgram({kNginx, "-V"});
  if (version.output.find("--with-stream=dynamic") == std::string::npos) {
    text = std::regex_replace(text, std::regex(R"(\nload_module [^;]*;)"), "\n");
  }
  // Not root: no IP_TRANSPARENT, and no other user to switch to. On loopback every 127.x
  // address is local, so binding to the system's address still works without it.
  if (::geteuid() != 0) {
    text = std::regex_replace(text, std::regex(R"(\nuser [^;]*;)"), "\n");
    text = std::regex_replace(text, std::regex(R"((proxy_bind \S+) transparent;)"), "$1;");
  } else if (::getpwnam("www-data") == nullptr) {
    text = std::regex_replace(text, std::regex(R"(\nuser [^;]*;)"), "\nuser nobody;");
  }
  return text;
}

// nginx in the foreground as a child; stopped gracefully (its workers would outlive a SIGKILLed
// master and keep the ports).
class Nginx {
 public:
  Status start(const std::filesystem::path& dir, const std::string& config) {
    dir_ = dir;
    writeFile(dir / "nginx.conf", config);
    auto check = runProgram({kNginx, "-t", "-p", dir.string(), "-e", (dir / "error.log").string(),
                             "-c", (dir / "nginx.conf").string()});
    if (check.exit_code != 0)
      return Error::internal("nginx -t refused the configuration:\n" + check.output + config);
    auto child =
        ChildProcess::spawn({kNginx, "-p", dir.string(), "-e", (dir / "error.log").string(), "-c",
                             (dir / "nginx.conf").string(), "-g", "daemon off;"},
                            dir / "nginx.out");
    if (!child) return child.error();
    process_ = std::move(*child);
    return okStatus();
  }
  ~Nginx() {
    if (process_ && process_->running()) {
      process_->signal(SIGTERM);
      if (!process_->wait(10s)) process_->kill();
    }
  }
  std::string log() const {
    return process_ ? process_->output() + readFile(dir_ / "error.log") : std::string();
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> process_;
};

json getJson(const AtriumNode& node, const std::string& target) {
  auto r = node.http("GET", target);
  if (!r.ok() || r->status != 200) return nullptr;
  return AtriumNode::json(*r);
}

std::string createSystem(const AtriumNode& via, const std::string& name, const std::string& family,
                         const std::string& address) {
  json body = {{"name", name}, {"family", family}, {"addresses", {address}}};
  auto r = via.http("POST", "/api/v1/systems", body.dump(), kJson);
  EXPECT_TRUE(r.ok() && r->status == 201) << (r.ok() ? r->body : r.error().message);
  return r.ok() ? AtriumNode::json(*r).value("id", "") : "";
}

class LoadBalancerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::chmod(tmp_.path().c_str(), 0755);  // nginx's workers run as another user
    const std::string url = freshDatabaseUrl(kPostgres, tmp_.path());
    database_ = url.substr(url.rfind('/') + 1);
    for (const char* name : {"node-a", "node-b"}) {
      AtriumNode::Options o;
      o.database_url = url;
      o.name = name;
      o.api_section_extra = "trusted_proxies = [\"127.0.0.1\"]\n";
      o.extra_config = "[cluster]\nheartbeat_ms = 250\nfailover_timeout_ms = 2000\n";
      nodes_.push_back(std::make_unique<AtriumNode>(tmp_.path() / name, o));
    }
    auto init = nodes_[0]->init("Load balancer test");
    ASSERT_EQ(init.exit_code, 0) << init.output;
    for (auto& n : nodes_) {
      auto started = n->start(60s);
      ASSERT_TRUE(started.ok()) << started.error().message;
      ASSERT_TRUE(n->waitReady(30s)) << n->log();
    }

    http_port_ = freePort();
    udp_port_ = freeUdpPort();
    const auto dir = tmp_.path() / "nginx";
    std::filesystem::create_directories(dir);
    ::chmod(dir.c_str(), 0755);
    const std::string config =
        nginxConfig(dir, http_port_, udp_port_, {nodes_[0].get(), nodes_[1].get()});
    ASSERT_FALSE(HasFailure()) << config;
    auto started = nginx_.start(dir, config);
    ASSERT_TRUE(started.ok()) << started.error().message;
    net::HttpClient client;
    ASSERT_TRUE(waitFor(
        [&] {
          auto r = client.request("GET", "127.0.0.1", http_port_, "/readyz", {}, {}, 2s);
          return r.ok() && r->status == 200;
        },
        20s))
        << nginx_.log();
  }

  void TearDown() override {
    if (!HasFailure()) return;
    for (auto& n : nodes_) std::cerr << "---- " << n->dir().filename() << "\n" << n->log();
    std::cerr << "---- nginx\n" << nginx_.log();
  }

  std::string secretOf(const std::string& system_id) {
    auto secret = sharedPostgres().sql(
        "SELECT feedback_secret FROM systems WHERE id = '" + system_id + "'", database_);
    EXPECT_TRUE(secret.ok()) << (secret.ok() ? "" : secret.error().message);
    return secret.ok() ? *secret : "";
  }

  // A feedback post sent with curl from `source` (a system's own address) to host:port.
  RunResult curlPost(const std::string& source, std::uint16_t port, const std::string& path,
                     const std::string& body, const std::vector<std::string>& extra = {}) {
    const auto file = tmp_.path() / "body.xml";
    writeFile(file, body);
    std::vector<std::string> argv = {"/usr/bin/curl",
                                     "-sS",
                                     "--max-time",
                                     "10",
                                     "--interface",
                                     source,
                                     "-o",
                                     "/dev/null",
                                     "-w",
                                     "%{http_code}",
                                     "-H",
                                     "Content-Type: text/xml",
                                     "--data-binary",
                                     "@" + file.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(fmt::format("http://127.0.0.1:{}{}", port, path));
    return runProgram(argv, 20s);
  }

  // The system's events from `source` ("feedback", "trap"), read through node a.
  json events(const std::string& system_id, const std::string& source) {
    return getJson(*nodes_[0], fmt::format("/api/v1/systems/{}/events?source={}&limit=1000",
                                           system_id, source));
  }

  TempDir tmp_{"atrium-lb"};
  std::string database_;
  std::vector<std::unique_ptr<AtriumNode>> nodes_;
  Nginx nginx_;
  std::uint16_t http_port_ = 0;
  std::uint16_t udp_port_ = 0;
};

TEST_F(LoadBalancerTest, FeedbackAndTrapsReachTheClusterThroughNginxAndSurviveANodeDeath) {
  const std::string room = createSystem(*nodes_[0], "Room LB", "cisco-xapi", kFeedbackAddress);
  const std::string sw = createSystem(*nodes_[0], "Switch LB", "snmp", kTrapAddress);
  ASSERT_FALSE(room.empty());
  ASSERT_FALSE(sw.empty());
  const std::string secret = secretOf(room);
  ASSERT_EQ(secret.size(), 32u);

  // 1. A post from the system's own address, through nginx: the node behind it records the
  // system's address (the last X-Forwarded-For entry, nginx being a trusted proxy), not nginx's.
  devices::SystemIdentity identity;
  identity.system_name = "Room LB";
  identity.ipv4_address = kFeedbackAddress;
  devices::CallInfo call;
  call.call_id = "900001";
  call.remote_number = "sip:alice@example.com";
  auto posted = curlPost(kFeedbackAddress, http_port_, "/feedback/" + secret,
                         devices::cisco_xapi::buildCallSuccessfulFeedback(identity, call));
  ASSERT_EQ(posted.output, "200") << posted.output;
  // A peer that is no trusted proxy cannot claim another address.
  call.call_id = "900002";
  posted = curlPost("127.0.0.23", nodes_[1]->port(), "/feedback/" + secret,
                    devices::cisco_xapi::buildCallSuccessfulFeedback(identity, call),
                    {"-H", "X-Forwarded-For: 198.51.100.7"});
  ASSERT_EQ(posted.output, "200") << posted.output;
  std::map<std::string, std::string> source_of_call;
  ASSERT_TRUE(waitFor(
      [&] {
        source_of_call.clear();
        json e = events(room, "feedback");
        if (e.is_null()) return false;
        for (const auto& item : e["items"]) {
          source_of_call[item["payload"]["call"].value("call_id", "")] =
              item.value("source_address", "");
        }
        return source_of_call.count("900001") == 1 && source_of_call.count("900002") == 1;
      },
      15s))
      << events(room, "feedback").dump();
  EXPECT_EQ(source_of_call["900001"], kFeedbackAddress);
  EXPECT_EQ(source_of_call["900002"], "127.0.0.23");

  // 2. SNMP through nginx's UDP port, from the system's own address: traps (fire and forget) and
  // an inform (answered by the node through nginx once durable: snmpinform exits 0).
  constexpr int kTraps = 6;
  const std::string target = fmt::format("127.0.0.1:{}", udp_port_);
  for (int i = 0; i < kTraps; ++i) {
    auto r = runProgram({"/usr/bin/snmptrap", "-v", "2c", "-c", "public",
                         "--clientaddr=" + std::string(kTrapAddress), target, "",
                         "1.3.6.1.6.3.1.1.5.3", kMarkerOid, "s", fmt::format("lb-trap-{}", i)});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  auto inform = runProgram({"/usr/bin/snmpinform", "-v", "2c", "-c", "public", "-t", "3", "-r", "2",
                            "--clientaddr=" + std::string(kTrapAddress), target, "",
                            "1.3.6.1.6.3.1.1.5.3", kMarkerOid, "s", "lb-inform"},
                           60s);
  ASSERT_EQ(inform.exit_code, 0) << inform.output;
  json traps;
  ASSERT_TRUE(waitFor(
      [&] {
        traps = events(sw, "trap");
        return !traps.is_null() && traps["total"] == kTraps + 1;
      },
      20s))
      << traps.dump();
  std::set<std::string> receiving_nodes;
  for (const auto& e : traps["items"]) {
    EXPECT_EQ(e["source_address"], kTrapAddress) << e.dump();
    receiving_nodes.insert(e.value("node", ""));
  }
  std::cerr << "traps were received by " << receiving_nodes.size() << " node(s)\n";
  // Nothing landed on no system (a wrong source address would make system-less events).
  json orphans = getJson(*nodes_[0], "/api/v1/events?source=trap&limit=1000");
  ASSERT_FALSE(orphans.is_null());
  EXPECT_EQ(orphans["total"], kTraps + 1) << orphans.dump();

  // 3. Continuous feedback through nginx; one node dies mid-stream (SIGKILL). nginx skips it and
  // resends what it had in flight there to the survivor: every post is acknowledged, and every
  // acknowledged post is stored exactly once.
  FeedbackPoster poster(secret, "127.0.0.1", http_port_, "Room LB");
  ASSERT_TRUE(waitFor([&] { return poster.acknowledgedCount() >= 40; }, 60s))
      << poster.acknowledgedCount();
  nodes_[1]->process()->kill();
  const std::size_t at_kill = poster.acknowledgedCount();
  ASSERT_TRUE(waitFor([&] { return poster.acknowledgedCount() >= at_kill + 80; }, 60s))
      << poster.acknowledgedCount() << " acknowledged, " << at_kill << " at the kill";
  poster.stop();
  const auto refusals = poster.refusals();
  EXPECT_TRUE(refusals.empty()) << refusals.size() << " posts refused, first: " << refusals.front();

  const auto acknowledged = poster.acknowledged();
  const auto stored = storedCallEvents(*nodes_[0], room);
  std::size_t missing = 0;
  std::size_t duplicated = 0;
  std::ostringstream detail;
  for (int id : acknowledged) {
    auto it = stored.find(id);
    const int count = it == stored.end() ? 0 : it->second;
    if (count == 0) ++missing;
    if (count > 1) ++duplicated;
    if (count != 1 && missing + duplicated <= 10)
      detail << " call " << id << " stored " << count << " times;";
  }
  EXPECT_EQ(missing, 0u) << detail.str();
  EXPECT_EQ(duplicated, 0u) << detail.str();
  std::cerr << acknowledged.size() << " posts acknowledged through nginx (" << at_kill
            << " before the kill)\n";
}

}  // namespace
}  // namespace atrium::testing
