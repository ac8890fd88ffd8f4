// The snmp driver against a tiny in-test UDP agent that answers with canned, hand-encoded SNMP v2c
// responses (or not at all), and against a closed port.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <atomic>
#include <chrono>
#include <thread>

#include "devices/snmp/snmp_driver.h"

namespace atrium::devices::snmp {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using udp = asio::ip::udp;

// BER helpers, just enough for a GetResponse.
std::string tlv(unsigned char tag, const std::string& value) {
  std::string out(1, static_cast<char>(tag));
  if (value.size() < 128) {
    out += static_cast<char>(value.size());
  } else {
    out += static_cast<char>(0x82);
    out += static_cast<char>((value.size() >> 8) & 0xff);
    out += static_cast<char>(value.size() & 0xff);
  }
  return out + value;
}

std::string integer(long v) {
  std::string bytes;
  do {
    bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
    v >>= 8;
  } while (v > 0);
  if (static_cast<unsigned char>(bytes[0]) & 0x80) bytes.insert(bytes.begin(), '\0');
  return bytes;
}

std::string oidBytes(std::vector<unsigned> arcs) {
  std::string out(1, static_cast<char>(arcs[0] * 40 + arcs[1]));
  for (std::size_t i = 2; i < arcs.size(); ++i) {
    unsigned a = arcs[i];
    std::string enc(1, static_cast<char>(a & 0x7f));
    while (a >>= 7) enc.insert(enc.begin(), static_cast<char>(0x80 | (a & 0x7f)));
    out += enc;
  }
  return out;
}

// Reads the request id out of a v2c GetRequest: SEQ{ INT version, OCTETS community, PDU{ INT id ...
long requestId(const std::string& packet) {
  std::size_t pos = 2;  // past the outer SEQUENCE header (short form in our small requests)
  if (static_cast<unsigned char>(packet[1]) & 0x80) pos += static_cast<unsigned char>(packet[1]) & 0x7f;
  pos += 2 + static_cast<unsigned char>(packet[pos + 1]);  // version
  pos += 2 + static_cast<unsigned char>(packet[pos + 1]);  // community
  pos += 1;                                               // PDU tag
  if (static_cast<unsigned char>(packet[pos]) & 0x80) pos += static_cast<unsigned char>(packet[pos]) & 0x7f;
  pos += 1;
  std::size_t len = static_cast<unsigned char>(packet[pos + 1]);
  long id = 0;
  for (std::size_t i = 0; i < len; ++i) id = (id << 8) | static_cast<unsigned char>(packet[pos + 2 + i]);
  return id;
}

std::string response(long id, const std::string& community, bool complete) {
  auto vb = [](std::vector<unsigned> name, const std::string& value) {
    return tlv(0x30, tlv(0x06, oidBytes(std::move(name))) + value);
  };
  std::string binds;
  if (complete) {
    binds += vb({1, 3, 6, 1, 2, 1, 1, 1, 0}, tlv(0x04, "Polycom HDX 8000, Version 3.1.5"));
    binds += vb({1, 3, 6, 1, 2, 1, 1, 2, 0}, tlv(0x06, oidBytes({1, 3, 6, 1, 4, 1, 2684, 1, 1})));
    binds += vb({1, 3, 6, 1, 2, 1, 1, 3, 0}, tlv(0x43, integer(123456)));
    binds += vb({1, 3, 6, 1, 2, 1, 1, 5, 0}, tlv(0x04, "hdx-lobby"));
    binds += vb({1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 1}, tlv(0x02, integer(2)));
  } else {
    for (std::vector<unsigned> name :
         {std::vector<unsigned>{1, 3, 6, 1, 2, 1, 1, 1, 0}, {1, 3, 6, 1, 2, 1, 1, 2, 0},
          {1, 3, 6, 1, 2, 1, 1, 3, 0}, {1, 3, 6, 1, 2, 1, 1, 5, 0},
          {1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 1}}) {
      binds += vb(name, tlv(0x80, ""));  // noSuchObject
    }
  }
  std::string pdu = tlv(0x02, integer(id)) + tlv(0x02, integer(0)) + tlv(0x02, integer(0)) +
                    tlv(0x30, binds);
  return tlv(0x30, tlv(0x02, integer(1)) + tlv(0x04, community) + tlv(0xa2, pdu));
}

// Answers every request with `complete` data, or never when `silent`.
class FakeAgent {
 public:
  FakeAgent(bool silent, bool complete)
      : socket_(ioc_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        silent_(silent),
        complete_(complete) {
    receive();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~FakeAgent() {
    ioc_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return socket_.local_endpoint().port(); }
  int received() const { return received_.load(); }

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(buffer_), peer_,
                               [this](boost::system::error_code ec, std::size_t n) {
                                 if (ec) return;
                                 ++received_;
                                 if (!silent_) {
                                   std::string packet(buffer_.data(), n);
                                   std::string answer =
                                       response(requestId(packet), "public", complete_);
                                   socket_.send_to(asio::buffer(answer), peer_);
                                 }
                                 receive();
                               });
  }

  asio::io_context ioc_;
  udp::socket socket_;
  udp::endpoint peer_;
  std::array<char, 2048> buffer_{};
  bool silent_;
  bool complete_;
  std::atomic<int> received_{0};
  std::thread thread_;
};

DriverTarget targetFor(std::uint16_t port) {
  DriverTarget t;
  t.system_id = "snmp-1";
  t.address = "127.0.0.1";
  t.port = port;
  t.timeout = 1000ms;
  return t;
}

TEST(SnmpDriverTest, PollReadsTheSystemGroup) {
  FakeAgent agent(false, true);
  SnmpDriver driver;
  auto status = driver.poll(targetFor(agent.port()));
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->identity.system_name, "hdx-lobby");
  EXPECT_EQ(status->identity.product, "Polycom HDX 8000, Version 3.1.5");
  EXPECT_EQ(status->identity.software_version, "3.1.5");
  EXPECT_EQ(status->identity.product_type, "1.3.6.1.4.1.2684.1.1");
  EXPECT_EQ(status->uptime, std::chrono::seconds(1234));
  EXPECT_EQ(status->interface_up, false);
}

TEST(SnmpDriverTest, AnAnswerWithoutTheSystemGroupIsInternal) {
  FakeAgent agent(false, false);
  SnmpDriver driver;
  auto status = driver.poll(targetFor(agent.port()));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInternal);
}

TEST(SnmpDriverTest, SilenceIsUnavailableWithinTheTimeout) {
  FakeAgent agent(true, true);
  SnmpDriver driver;
  DriverTarget target = targetFor(agent.port());
  target.timeout = 400ms;
  auto t0 = std::chrono::steady_clock::now();
  auto status = driver.poll(target);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(status.error().message.rfind("snmp system at 127.0.0.1:", 0), 0u);
  EXPECT_LT(took, 1500ms);
  EXPECT_GE(agent.received(), 1);
}

TEST(SnmpDriverTest, PollsFromSeveralThreadsAtOnce) {
  FakeAgent agent(false, true);
  SnmpDriver driver;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        if (driver.poll(targetFor(agent.port())).ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 20);
}

}  // namespace
}  // namespace atrium::devices::snmp
