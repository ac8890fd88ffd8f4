// Real SNMP notifications sent with net-snmp's own snmptrap and snmpinform commands reach the
// receiver, are translated, checked and acknowledged.
#include "ingest/trap_receiver.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>

#include "support/process.h"
#include "support/snmpv3_message.h"

namespace atrium::ingest {
namespace {

using testing::runProgram;
using testing::waitFor;

class TrapReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    receiver_ = std::make_unique<TrapReceiver>(
        TrapReceiverOptions{.host = "127.0.0.1", .port = 0, .communities = {"public", "atrium"}},
        [this](const SnmpTrap& trap) -> Status {
          std::lock_guard lock(mu_);
          if (fail_sink_) return Error::unavailable("database down and spool full");
          if (throw_sink_) throw std::runtime_error("the sink broke");
          traps_.push_back(trap);
          return okStatus();
        });
    auto port = receiver_->start();
    ASSERT_TRUE(port.ok()) << port.error().message;
    port_ = *port;
    ASSERT_NE(port_, 0);
  }

  std::string target() const { return fmt::format("udp:127.0.0.1:{}", port_); }

  std::vector<SnmpTrap> traps() {
    std::lock_guard lock(mu_);
    return traps_;
  }

  std::unique_ptr<TrapReceiver> receiver_;
  std::uint16_t port_ = 0;
  std::mutex mu_;
  std::vector<SnmpTrap> traps_;
  bool fail_sink_ = false;
  bool throw_sink_ = false;
};

TEST_F(TrapReceiverTest, V2cColdStartArrivesWithVarbinds) {
  auto r = runProgram({"/usr/bin/snmptrap", "-v", "2c", "-c", "public", target(), "4242", "1.3.6.1.6.3.1.1.5.1",
                       "1.3.6.1.2.1.1.5.0", "s", "Room 101 codec"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(waitFor([&] { return traps().size() == 1; }, std::chrono::seconds(10)));
  auto t = traps().front();
  EXPECT_EQ(t.version, 2);
  EXPECT_EQ(t.security_name, "public");
  EXPECT_EQ(t.source_address, "127.0.0.1");
  EXPECT_NE(t.source_port, 0);
  EXPECT_EQ(t.trap_oid, "1.3.6.1.6.3.1.1.5.1");
  EXPECT_EQ(classifyTrap(t.trap_oid), TrapKind::kColdStart);
  EXPECT_EQ(t.uptime_centiseconds, 4242);
  ASSERT_EQ(t.varbinds.size(), 1u);
  EXPECT_EQ(t.varbinds[0].oid, "1.3.6.1.2.1.1.5.0");
  EXPECT_EQ(t.varbinds[0].type, "string");
  EXPECT_EQ(t.varbinds[0].value, "Room 101 codec");
  EXPECT_EQ(receiver_->stats().accepted, 1u);
}

TEST_F(TrapReceiverTest, PolycomCallTrapsAndLinkTrapsAreClassified) {
  const std::vector<std::pair<std::string, TrapKind>> cases = {
      {"1.3.6.1.4.1.2684.1.1.0.4", TrapKind::kPolycomCallUp},
      {"1.3.6.1.4.1.2684.1.1.0.5", TrapKind::kPolycomCallDown},
      {"1.3.6.1.6.3.1.1.5.3", TrapKind::kLinkDown},
      {"1.3.6.1.6.3.1.1.5.4", TrapKind::kLinkUp},
      {"1.3.6.1.6.3.1.1.5.5", TrapKind::kAuthenticationFailure},
      {"1.3.6.1.6.3.1.1.5.2", TrapKind::kWarmStart},
  };
  for (const auto& [oid, kind] : cases) {
    auto r = runProgram({"/usr/bin/snmptrap", "-v", "2c", "-c", "atrium", target(), "", oid,
                         "1.3.6.1.2.1.2.2.1.1.1", "i", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  ASSERT_TRUE(waitFor([&] { return traps().size() == cases.size(); }, std::chrono::seconds(10)));
  auto got = traps();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(got[i].trap_oid, cases[i].first);
    EXPECT_EQ(classifyTrap(got[i].trap_oid), cases[i].second);
    ASSERT_EQ(got[i].varbinds.size(), 1u);
    EXPECT_EQ(got[i].varbinds[0].type, "integer");
  }
}

TEST_F(TrapReceiverTest, V1TrapIsTranslatedAsRfc3584Says) {
  // Generic trap 2 (linkDown) from agent 192.0.2.33, and an enterprise-specific one.
  auto r = runProgram({"/usr/bin/snmptrap", "-v", "1", "-c", "public", target(), "1.3.6.1.4.1.2684.1.1",
                       "192.0.2.33", "2", "0", "777", "1.3.6.1.2.1.2.2.1.1.3", "i", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = runProgram({"/usr/bin/snmptrap", "-v", "1", "-c", "public", target(), "1.3.6.1.4.1.2684.1.1", "192.0.2.33",
                  "6", "4", "778"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(waitFor([&] { return traps().size() == 2; }, std::chrono::seconds(10)));
  auto got = traps();
  EXPECT_EQ(got[0].version, 1);
  EXPECT_EQ(got[0].trap_oid, "1.3.6.1.6.3.1.1.5.3");
  EXPECT_EQ(got[0].agent_address, "192.0.2.33");
  EXPECT_EQ(got[0].uptime_centiseconds, 777);
  EXPECT_EQ(got[1].trap_oid, "1.3.6.1.4.1.2684.1.1.0.4");
  EXPECT_EQ(classifyTrap(got[1].trap_oid), TrapKind::kPolycomCallUp);
}

TEST_F(TrapReceiverTest, UnknownCommunityIsDropped) {
  auto r = runProgram({"/usr/bin/snmptrap", "-v", "2c", "-c", "guess", target(), "", "1.3.6.1.6.3.1.1.5.1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(waitFor([&] { return receiver_->stats().rejected_community == 1; }, std::chrono::seconds(10)));
  EXPECT_TRUE(traps().empty());
}

TEST_F(TrapReceiverTest, InformIsAnsweredOnlyOnceDurable) {
  auto r = runProgram({"/usr/bin/snmpinform", "-v", "2c", "-c", "public", "-t", "1", "-r", "1", target(), "",
                       "1.3.6.1.6.3.1.1.5.1"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(traps().size(), 1u);
  EXPECT_TRUE(traps().front().inform);

  {
    std::lock_guard lock(mu_);
    fail_sink_ = true;
  }
  r = runProgram({"/usr/bin/snmpinform", "-v", "2c", "-c", "public", "-t", "1", "-r", "0", target(), "",
                  "1.3.6.1.6.3.1.1.5.2"});
  EXPECT_NE(r.exit_code, 0) << r.output;  // no answer: the sender knows it was not taken
  EXPECT_GE(receiver_->stats().sink_failures, 1u);
  EXPECT_EQ(traps().size(), 1u);
}

TEST_F(TrapReceiverTest, GarbageDatagramsDoNotStopTheReceiver) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port_);
  const std::string junk[] = {"", "hello", std::string("\x30\x82\xff\xff\x02\x01", 6), std::string(1400, '\x30')};
  for (const auto& j : junk) {
    ::sendto(fd, j.data(), j.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
  ::close(fd);
  auto r = runProgram({"/usr/bin/snmptrap", "-v", "2c", "-c", "public", target(), "", "1.3.6.1.6.3.1.1.5.4"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(waitFor([&] { return traps().size() == 1; }, std::chrono::seconds(10)));
  EXPECT_EQ(traps().front().trap_oid, "1.3.6.1.6.3.1.1.5.4");
}

TEST_F(TrapReceiverTest, MistypedSysUpTimeIsAVarbindNotACrash) {
  // snmptrap sends its own TimeTicks sysUpTime.0 first; the string one after it once made
  // std::stoll throw on the receiver thread.
  auto r = runProgram({"/usr/bin/snmptrap", "-v", "2c", "-c", "public", target(), "55",
                       "1.3.6.1.6.3.1.1.5.1", "1.3.6.1.2.1.1.3.0", "s", "not a number",
                       "1.3.6.1.6.3.1.1.4.1.0", "i", "9"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(waitFor([&] { return traps().size() == 1; }, std::chrono::seconds(10)));
  auto t = traps().front();
  EXPECT_EQ(t.uptime_centiseconds, 55);
  EXPECT_EQ(t.trap_oid, "1.3.6.1.6.3.1.1.5.1");
  ASSERT_EQ(t.varbinds.size(), 2u);
  EXPECT_EQ(t.varbinds[0].value, "not a number");
  EXPECT_EQ(t.varbinds[1].type, "integer");
  EXPECT_EQ(receiver_->stats().internal_errors, 0u);
}

TEST_F(TrapReceiverTest, ASinkThatThrowsIsCountedAndTheReceiverCarriesOn) {
  {
    std::lock_guard lock(mu_);
    throw_sink_ = true;
  }
  for (int i = 0; i < 3; ++i) {
    auto r = runProgram(
        {"/usr/bin/snmptrap", "-v", "2c", "-c", "public", target(), "", "1.3.6.1.6.3.1.1.5.1"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  ASSERT_TRUE(
      waitFor([&] { return receiver_->stats().internal_errors == 3; }, std::chrono::seconds(10)));
  {
    std::lock_guard lock(mu_);
    throw_sink_ = false;
  }
  auto r = runProgram(
      {"/usr/bin/snmptrap", "-v", "2c", "-c", "public", target(), "", "1.3.6.1.6.3.1.1.5.4"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(waitFor([&] { return traps().size() == 1; }, std::chrono::seconds(10)));
  EXPECT_EQ(receiver_->stats().accepted, 1u);
}

TEST_F(TrapReceiverTest, SnmpV3IsRefusedWithAnEmptyOrANamedUser) {
  // The empty user (snmptrap will not send it; the datagram is made by hand), then a named one.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port_);
  for (const std::string& user : {std::string(), std::string("bob")}) {
    const std::string datagram = testing::snmpV3ColdStart(user);
    ASSERT_EQ(::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&addr),
                       sizeof(addr)),
              static_cast<ssize_t>(datagram.size()));
  }
  ::close(fd);
  auto sent = runProgram({"/usr/bin/snmptrap", "-v", "3", "-u", "bob", "-l", "noAuthNoPriv",
                          target(), "", "1.3.6.1.6.3.1.1.5.1"});
  ASSERT_EQ(sent.exit_code, 0) << sent.output;
  // An inform gets no answer: the sender knows it was not taken.
  auto r =
      runProgram({"/usr/bin/snmpinform", "-v", "3", "-u", "bob", "-l", "noAuthNoPriv", "-t", "1",
                  "-r", "0", "-e", "0x80001f8880aabbccdd", target(), "", "1.3.6.1.6.3.1.1.5.1"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  ASSERT_TRUE(
      waitFor([&] { return receiver_->stats().rejected_v3 >= 4; }, std::chrono::seconds(10)))
      << receiver_->stats().rejected_v3;
  EXPECT_TRUE(traps().empty());
  EXPECT_EQ(receiver_->stats().received, 0u);
}

TEST(TrapReceiverStartTest, PortInUseIsAClearError) {
  TrapReceiver first({.host = "127.0.0.1", .port = 0}, nullptr);
  auto port = first.start();
  ASSERT_TRUE(port.ok());
  TrapReceiver second({.host = "127.0.0.1", .port = *port}, nullptr);
  auto r = second.start();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("in use"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace atrium::ingest
