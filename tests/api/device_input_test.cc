// What a hostile or broken device sends must not stop a real `atrium serve` node: a mistyped
// sysUpTime.0 in a trap, SNMPv3 notifications, a flood of traps from unknown senders, a poll
// answer that announces 100 GiB, an endless chunked poll answer. After each the node answers
// /healthz and /readyz, says in its log what happened, and (for the poll answers) stays small and
// survives a restart.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "common/clock.h"
#include "sim/snmp_codec.h"
#include "store/device_store.h"
#include "store/store.h"
#include "support/atrium_node.h"
#include "support/backends.h"
#include "support/feedback_load.h"
#include "support/snmpv3_message.h"

namespace atrium::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json getJson(const AtriumNode& node, const std::string& target) {
  auto r = node.http("GET", target);
  if (!r.ok() || r->status != 200) return nullptr;
  return AtriumNode::json(*r);
}

// The value of an unlabelled metric in /metrics, or -1.
long long metric(const AtriumNode& node, const std::string& name) {
  auto r = node.http("GET", "/metrics");
  if (!r.ok()) return -1;
  const std::string needle = "\n" + name + " ";
  auto at = r->body.find(needle);
  if (at == std::string::npos) return -1;
  return std::stoll(r->body.substr(at + needle.size()));
}

std::size_t occurrences(const std::string& text, const std::string& word) {
  std::size_t n = 0;
  for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
}

void expectHealthy(AtriumNode& node) {
  ASSERT_TRUE(node.process()->running()) << node.log();
  auto health = node.http("GET", "/healthz");
  ASSERT_TRUE(health.ok()) << node.log();
  EXPECT_EQ(health->status, 200u);
  EXPECT_TRUE(node.waitReady(10s)) << node.log();
}

// Sends one datagram from a UDP socket bound to `source` (any 127.x address) to the node.
bool sendFrom(const std::string& source, std::uint16_t port, const std::string& datagram) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) == 0 &&
            ::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to),
                     sizeof(to)) == static_cast<ssize_t>(datagram.size());
  ::close(fd);
  return ok;
}

std::string coldStartFrom(std::int64_t uptime) {
  auto d = sim::encodeSnmpTrap("public", uptime, sim::parseOid("1.3.6.1.6.3.1.1.5.1"), {}, uptime);
  EXPECT_TRUE(d.ok());
  return d.ok() ? *d : std::string();
}

long long vmRssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// ---- traps ----------------------------------------------------------------------------------

class TrapInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<AtriumNode>(tmp_.path() / "n", AtriumNode::Options{});
    ASSERT_EQ(node_->init().exit_code, 0);
    system_id_ = seedSystem(*node_, "Room 1", "127.0.0.1").id;
    ASSERT_TRUE(node_->start().ok()) << node_->log();
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << node_->log();
  }

  json systemEvents() { return getJson(*node_, "/api/v1/systems/" + system_id_ + "/events"); }

  TempDir tmp_;
  std::unique_ptr<AtriumNode> node_;
  std::string system_id_;
};

TEST_F(TrapInputTest, MistypedSysUpTimeAndTrapOidAreKeptAsVarbinds) {
  // The reported crash: a v2c trap with the right community whose sysUpTime.0 is an OCTET STRING.
  auto only_string = sim::encodeSnmpV2Notification(
      "public",
      {{sim::parseOid("1.3.6.1.2.1.1.3.0"), sim::SnmpValue::string("not a number")},
       {sim::parseOid("1.3.6.1.6.3.1.1.4.1.0"),
        sim::SnmpValue::objectId(sim::parseOid("1.3.6.1.6.3.1.1.5.1"))}},
      7);
  ASSERT_TRUE(only_string.ok());
  ASSERT_TRUE(sendFrom("127.0.0.1", node_->snmpPort(), *only_string));
  // An snmpTrapOID.0 that is an INTEGER, and no sysUpTime.0 at all.
  auto integer_oid = sim::encodeSnmpV2Notification(
      "public", {{sim::parseOid("1.3.6.1.6.3.1.1.4.1.0"), sim::SnmpValue::integer(5)}}, 8);
  ASSERT_TRUE(integer_oid.ok());
  ASSERT_TRUE(sendFrom("127.0.0.1", node_->snmpPort(), *integer_oid));
  // net-snmp's snmptrap puts its own TimeTicks first; a second sysUpTime.0 as a string follows.
  auto r = runProgram({"/usr/bin/snmptrap", "-v", "2c", "-c", "public",
                       fmt::format("udp:127.0.0.1:{}", node_->snmpPort()), "4242",
                       "1.3.6.1.6.3.1.1.5.2", "1.3.6.1.2.1.1.3.0", "s", "hello"});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  ASSERT_TRUE(waitFor([&] { return systemEvents().value("total", 0) == 3; }, 10s))
      << systemEvents();
  expectHealthy(*node_);
  json items = systemEvents()["items"];
  std::map<std::string, json> by_kind;
  for (const auto& e : items) by_kind[e["kind"].get<std::string>()] = e["payload"];
  ASSERT_EQ(by_kind.size(), 3u) << items.dump();
  // Mistyped sysUpTime.0: the trap is kept, uptime 0, the varbind as sent.
  json cold = by_kind["cold-start"];
  EXPECT_EQ(cold["uptime"], 0) << cold.dump();
  ASSERT_EQ(cold["varbinds"].size(), 1u) << cold.dump();
  EXPECT_EQ(cold["varbinds"][0]["oid"], "1.3.6.1.2.1.1.3.0");
  EXPECT_EQ(cold["varbinds"][0]["type"], "string");
  EXPECT_EQ(cold["varbinds"][0]["value"], "not a number");
  // Mistyped snmpTrapOID.0: no trap OID, kind "other", the varbind kept.
  json other = by_kind["other"];
  EXPECT_EQ(other["trap_oid"], "") << other.dump();
  ASSERT_EQ(other["varbinds"].size(), 1u);
  EXPECT_EQ(other["varbinds"][0]["type"], "integer");
  EXPECT_EQ(other["varbinds"][0]["value"], "5");
  // The well-typed first sysUpTime.0 is the uptime; the second one is an ordinary varbind.
  json warm = by_kind["warm-start"];
  EXPECT_EQ(warm["uptime"], 4242) << warm.dump();
  ASSERT_EQ(warm["varbinds"].size(), 1u);
  EXPECT_EQ(warm["varbinds"][0]["value"], "hello");
  EXPECT_EQ(metric(*node_, "atrium_snmp_trap_internal_errors_total"), 0);
  EXPECT_EQ(metric(*node_, "atrium_snmp_traps_accepted_total"), 3);
}

TEST_F(TrapInputTest, EverySnmpV3NotificationIsRefusedAndCounted) {
  const std::string target = fmt::format("udp:127.0.0.1:{}", node_->snmpPort());
  // The reported hole: an empty user name (snmptrap refuses to send one; the datagram is made
  // by hand, as a hostile sender would), from the address of a known system.
  ASSERT_TRUE(sendFrom("127.0.0.1", node_->snmpPort(), snmpV3ColdStart("")));
  auto named = runProgram({"/usr/bin/snmptrap", "-v", "3", "-u", "bob", "-l", "noAuthNoPriv",
                           target, "", "1.3.6.1.6.3.1.1.5.1"});
  ASSERT_EQ(named.exit_code, 0) << named.output;
  // With authentication too (a user the node cannot know).
  auto r = runProgram({"/usr/bin/snmptrap", "-v", "3", "-u", "alice", "-l", "authNoPriv", "-a",
                       "SHA", "-A", "secret-passphrase", target, "", "1.3.6.1.6.3.1.1.5.1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(
      waitFor([&] { return metric(*node_, "atrium_snmp_traps_rejected_v3_total") == 3; }, 10s))
      << metric(*node_, "atrium_snmp_traps_rejected_v3_total");
  // A v2c trap after them is taken: nothing of the v3 ones was stored before it.
  r = runProgram(
      {"/usr/bin/snmptrap", "-v", "2c", "-c", "public", target, "", "1.3.6.1.6.3.1.1.5.4"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(waitFor([&] { return systemEvents().value("total", 0) == 1; }, 10s))
      << systemEvents();
  EXPECT_EQ(systemEvents()["items"][0]["kind"], "link-up");
  EXPECT_EQ(getJson(*node_, "/api/v1/events").value("total", -1), 1);
  EXPECT_EQ(metric(*node_, "atrium_snmp_traps_received_total"), 1);
  expectHealthy(*node_);
  // One log line for the burst (rate-limited), never the passphrase.
  const std::string log = node_->log();
  EXPECT_EQ(occurrences(log, "snmp.v3_refused"), 1u) << log;
  EXPECT_EQ(log.find("secret-passphrase"), std::string::npos);
}

TEST_F(TrapInputTest, UnknownSendersAreRateLimitedAndKnownSystemsAreNot) {
  constexpr int kSenders = 100;  // 127.0.1.1 .. 127.0.1.100, listed by no system
  constexpr int kRounds = 30;
  constexpr int kKnown = 20;  // traps of the system at 127.0.0.1
  const auto started = std::chrono::steady_clock::now();
  for (int round = 0; round < kRounds; ++round) {
    for (int s = 1; s <= kSenders; ++s) {
      ASSERT_TRUE(
          sendFrom(fmt::format("127.0.1.{}", s), node_->snmpPort(), coldStartFrom(1000 + round)));
    }
    if (round < kKnown) {
      ASSERT_TRUE(sendFrom("127.0.0.1", node_->snmpPort(), coldStartFrom(round)));
    }
    std::this_thread::sleep_for(5ms);
  }
  const long long unknown_total = static_cast<long long>(kSenders) * kRounds;
  ASSERT_TRUE(waitFor(
      [&] {
        return metric(*node_, "atrium_snmp_traps_unknown_sender_stored_total") +
                   metric(*node_, "atrium_snmp_traps_unknown_sender_limited_total") ==
               unknown_total;
      },
      60s))
      << metric(*node_, "atrium_snmp_traps_unknown_sender_stored_total") << " "
      << metric(*node_, "atrium_snmp_traps_unknown_sender_limited_total");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const long long stored = metric(*node_, "atrium_snmp_traps_unknown_sender_stored_total");
  std::cerr << unknown_total << " traps from " << kSenders << " unknown senders in " << seconds
            << " s: " << stored << " stored, "
            << metric(*node_, "atrium_snmp_traps_unknown_sender_limited_total") << " limited\n";
  // The global bucket: 200 at once, then 50 a second; the per-address one: 10 at once, 1 a second.
  EXPECT_LE(stored, 200 + static_cast<long long>(50 * seconds) + 1) << seconds << " s";
  EXPECT_LE(stored, kSenders * (10 + static_cast<long long>(seconds) + 1));
  EXPECT_GE(stored, 200);
  EXPECT_GT(metric(*node_, "atrium_snmp_traps_unknown_sender_limited_total"), 0);
  EXPECT_LE(metric(*node_, "atrium_snmp_trap_address_cache_entries"), 4096);
  // Every trap of the known system is stored, flood or not.
  ASSERT_TRUE(waitFor([&] { return systemEvents().value("total", 0) == kKnown; }, 10s))
      << systemEvents();
  expectHealthy(*node_);
  const std::string log = node_->log();
  EXPECT_GE(occurrences(log, "trap.unknown_sender_limited"), 1u);
  EXPECT_LE(occurrences(log, "trap.unknown_sender_limited"), 2u) << "one line a minute";
  EXPECT_LE(occurrences(log, "trap.unknown_sender "), static_cast<std::size_t>(seconds / 10) + 2);
}

// ---- poll answers ---------------------------------------------------------------------------

// A TCP server on 127.0.0.1 that answers every request with `head` and then, when `endless`,
// an endless chunked body (until the client goes away). Counts the bytes it sent.
class RawHttpServer {
 public:
  RawHttpServer(std::string head, bool endless) : head_(std::move(head)), endless_(endless) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~RawHttpServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::uint64_t sent() const { return sent_; }
  int connections() const { return connections_; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      ++connections_;
      serve(c);
      ::close(c);
    }
  }
  void serve(int c) {
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) return;
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) return;
      request.append(buf, static_cast<std::size_t>(n));
    }
    if (!sendAll(c, head_)) return;
    if (!endless_) {
      sendAll(c, std::string(4096, 'x'));  // a little of the promised 100 GiB, then hang up
      return;
    }
    const std::string chunk = fmt::format("{:x}\r\n{}\r\n", 65536, std::string(65536, 'y'));
    while (!stop_ && sendAll(c, chunk)) {
    }
  }
  bool sendAll(int c, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
      pollfd p{c, POLLOUT, 0};
      if (::poll(&p, 1, 2000) <= 0 || stop_) return false;
      ssize_t n = ::send(c, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
      sent_ += static_cast<std::uint64_t>(n);
    }
    return true;
  }

  std::string head_;
  bool endless_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

class PollAnswerTest : public ::testing::TestWithParam<bool> {};

TEST_P(PollAnswerTest, OversizedAnswerIsAPollErrorAndTheNodeLives) {
  const bool endless = GetParam();
  RawHttpServer device(endless ? "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n"
                               : "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
                                 "Content-Length: 107374182400\r\n\r\n",
                       endless);
  TempDir tmp;
  AtriumNode::Options options;
  options.polling_section =
      fmt::format("enabled = true\ninterval_s = 5\nhttp_port = {}\n", device.port());
  options.extra_config = "[devices]\nmax_answer_bytes = 1048576\n";
  AtriumNode node(tmp.path() / "n", options);
  ASSERT_EQ(node.init().exit_code, 0);
  const std::string id = seedSystem(node, "Hostile codec", "127.0.0.1").id;
  const std::string limit_text = "exceeds the limit of 1048576 bytes";

  for (int run = 0; run < 2; ++run) {  // the second time: a restarted node polls it again
    const int connections_before = device.connections();
    ASSERT_TRUE(node.start().ok()) << node.log();
    ASSERT_TRUE(waitFor(
        [&] {
          json s = getJson(node, "/api/v1/systems/" + id);
          return device.connections() > connections_before && s.is_object() &&
                 s.value("last_poll_error", "").find(limit_text) != std::string::npos;
        },
        30s))
        << getJson(node, "/api/v1/systems/" + id).dump() << "\n"
        << node.log();
    std::this_thread::sleep_for(500ms);  // the node would have died within 0.1 s of the poll
    expectHealthy(node);
    const long long rss = vmRssKib(node.process()->pid());
    std::cerr << "run " << run << ": device sent " << device.sent() << " bytes, node VmRSS " << rss
              << " kB\n";
    EXPECT_GT(rss, 0);
    EXPECT_LT(rss, 150 * 1024) << "kB";
    json s = getJson(node, "/api/v1/systems/" + id);
    EXPECT_NE(s.value("last_poll_error", "").find("the answer from 127.0.0.1:"), std::string::npos)
        << s.dump();
    json tickets = getJson(node, "/api/v1/tickets?kind=unreadable-answer&system_id=" + id);
    ASSERT_EQ(tickets.value("total", 0), 1) << tickets.dump();
    EXPECT_NE(tickets["items"][0].value("message", "").find(limit_text), std::string::npos)
        << tickets.dump();
    EXPECT_EQ(getJson(node, "/api/v1/tickets?kind=no-response&system_id=" + id).value("total", -1),
              0);
    ASSERT_EQ(node.stop(), 0) << node.log();
  }
  if (endless) {
    EXPECT_LT(device.sent(), 64ull << 20) << "the client stopped reading at the limit";
  }
}

INSTANTIATE_TEST_SUITE_P(HugeContentLengthAndEndlessChunked, PollAnswerTest, ::testing::Bool(),
                         [](const auto& p) {
                           return p.param ? "EndlessChunked" : "HugeContentLength";
                         });

}  // namespace
}  // namespace atrium::testing
