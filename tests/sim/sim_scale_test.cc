// The slow ones: Cisco's feedback slot giving up after ten failed posts, and 5,000 systems.
#include <gtest/gtest.h>

#include <fstream>

#include "devices/cisco_xapi/putxml.h"
#include "devices/cisco_xapi/status_document.h"
#include "sim_test_support.h"

namespace atrium::sim {
namespace {

using namespace std::chrono_literals;
using testing::CollectingServer;
using testing::randomOptions;
using testing::waitFor;
namespace xapi = devices::cisco_xapi;

long rssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

TEST(SimScaleTest, FeedbackSlotIsRetriedAboutTenTimesThenFailed) {
  CollectingServer refusing(503);
  auto fleet = Fleet::start(randomOptions(1, 0, 0, 0, 22));
  ASSERT_TRUE(fleet.ok()) << fleet.error().message;
  const SimulatedSystem& s = (*fleet)->systems()[0];
  net::HttpClient client;
  devices::FeedbackSlot slot{1, refusing.url(), {"/Event"}, "", ""};
  auto registered = client.request("POST", s.address, s.http_port, "/putxml", *xapi::httpFeedbackRegisterCommand(slot),
                                   {{"Authorization", net::basicAuthorization(s.username, s.password)}});
  ASSERT_TRUE(registered.ok());
  ASSERT_TRUE(xapi::parseCommandResult(registered->body).ok());
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE((*fleet)->reboot(0).ok());  // a boot event to post
  ASSERT_TRUE(waitFor([&] {
    auto status = (*fleet)->status(0);
    return status.ok() && !status->feedback_slots.empty() && status->feedback_slots[0].status == "Failed";
  }, 20s));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(refusing.collector.count(), 10u);
  EXPECT_GE(took, 8s);
  // status.xml shows it too, and nothing more is posted.
  auto polled = client.request("GET", s.address, s.http_port, "/status.xml", {},
                               {{"Authorization", net::basicAuthorization(s.username, s.password)}});
  auto parsed = xapi::parseStatusXml(polled->body);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->feedback_slots.size(), 1u);
  EXPECT_EQ(parsed->feedback_slots[0].status, "Failed");
  ASSERT_TRUE((*fleet)->dial(0, "x@example.com").ok());
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(refusing.collector.count(), 10u);
}

TEST(SimScaleTest, FiveThousandSystemsStartAndAnswer) {
  const long rss_before = rssKiB();
  const auto started = std::chrono::steady_clock::now();
  FleetOptions options = randomOptions(1250, 1250, 1250, 1250, 23);
  auto last = options.base_address.rfind('.');
  options.base_address = options.base_address.substr(0, last) + ".1";  // 5,000 addresses cross octets
  auto fleet = Fleet::start(options);
  ASSERT_TRUE(fleet.ok()) << fleet.error().message;
  const auto start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  const long rss_after = rssKiB();
  ASSERT_EQ((*fleet)->systems().size(), 5000u);
  std::printf("[ sim-scale ] 5000 systems started in %lld ms; RSS %ld KiB -> %ld KiB (%.1f KiB per system)\n",
              static_cast<long long>(start_ms), rss_before, rss_after,
              static_cast<double>(rss_after - rss_before) / 5000.0);
  net::HttpClient client;
  for (int i : {0, 1249, 1250, 2499, 2500, 3749}) {
    const SimulatedSystem& s = (*fleet)->systems()[static_cast<std::size_t>(i)];
    auto r = client.request("GET", s.address, s.http_port, s.family == "cisco-xapi" ? "/status.xml" : "/",
                            {}, {{"Authorization", net::basicAuthorization(s.username, s.password)}}, 5s);
    ASSERT_TRUE(r.ok()) << s.address << ": " << r.error().message;
  }
  const SimulatedSystem& last_system = (*fleet)->systems().back();
  EXPECT_TRUE((*fleet)->status(4999).ok());
  EXPECT_NE(last_system.address, options.base_address);
  const auto stop_started = std::chrono::steady_clock::now();
  (*fleet)->stop();
  std::printf("[ sim-scale ] stopped in %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - stop_started).count()));
}

}  // namespace
}  // namespace atrium::sim
