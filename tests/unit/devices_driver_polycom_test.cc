// The polycom driver against a canned REST system: login and session cookie reuse, renewal on
// 401, the JSON it sends and reads, and the error policy.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>

#include "devices/polycom/polycom_driver.h"
#include "devices/polycom/polycom_json.h"
#include "support/canned_http.h"

namespace atrium::devices::polycom {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::CannedHttpServer;

DriverTarget targetFor(std::uint16_t port) {
  DriverTarget t;
  t.system_id = "group-1";
  t.address = "127.0.0.1";
  t.port = port;
  t.username = "admin";
  t.password = "secret";
  t.timeout = 2000ms;
  return t;
}

// A Group Series: sessions "s1", "s2", ... ; `expire` makes the current session invalid.
class FakeGroupSeries {
 public:
  std::optional<net::Response> operator()(const net::Request& req) {
    std::string target(req.target());
    if (target == "/rest/session") {
      auto body = json::parse(req.body(), nullptr, false);
      if (body.is_discarded() || body["action"] != "Login" || body["user"] != "admin" ||
          body["password"] != "secret") {
        return CannedHttpServer::reply(401, R"({"success":false})", "application/json");
      }
      session = "s" + std::to_string(++logins);
      auto res = CannedHttpServer::reply(200, R"({"success":true,"sessionId":")" + session + "\"}",
                                         "application/json");
      res.insert(boost::beast::http::field::set_cookie, "session_id=" + session + "; Path=/");
      return res;
    }
    if (std::string(req[boost::beast::http::field::cookie]) != "session_id=" + session ||
        expire.exchange(false)) {
      session.clear();
      return CannedHttpServer::reply(401, "", "application/json");
    }
    if (target == "/rest/system") {
      SystemIdentity id;
      id.system_name = "Board Room";
      id.product = "Group 500";
      id.serial_number = "8215ABC";
      id.software_version = "6.2.2.1-600063";
      return CannedHttpServer::reply(200, buildSystemJson(id, 120s), "application/json");
    }
    if (target == "/rest/system/status") {
      Registration h323;
      h323.state = RegistrationState::kRegistered;
      Registration sip;
      sip.state = RegistrationState::kFailed;
      return CannedHttpServer::reply(200, buildSystemStatusJson(h323, sip), "application/json");
    }
    if (target == "/rest/conferences" && req.method_string() == "GET") {
      CallInfo call;
      call.call_id = "0";
      call.remote_number = "far@example.com";
      call.state = CallState::kConnected;
      call.rate_kbps = 1024;
      return CannedHttpServer::reply(200, buildConferencesJson({call}), "application/json");
    }
    if (target == "/rest/conferences" && req.method_string() == "POST") {
      return CannedHttpServer::reply(200, R"({"id":0})", "application/json");
    }
    if (target == "/rest/config" || target == "/rest/conferences/0") {
      return CannedHttpServer::reply(200, "", "application/json");
    }
    return CannedHttpServer::reply(404, "", "application/json");
  }

  std::string session;
  int logins = 0;
  std::atomic<bool> expire{false};
};

TEST(PolycomDriverTest, PollLogsInOnceAndReusesTheSession) {
  FakeGroupSeries fake;
  CannedHttpServer server([&fake](const net::Request& r) { return fake(r); });
  PolycomDriver driver;
  DriverTarget target = targetFor(server.port());
  for (int i = 0; i < 2; ++i) {
    auto status = driver.poll(target);
    ASSERT_TRUE(status.ok()) << status.error().message;
    EXPECT_EQ(status->identity.product, "Group 500");
    EXPECT_EQ(status->identity.serial_number, "8215ABC");
    EXPECT_EQ(status->identity.software_version, "6.2.2.1-600063");
    EXPECT_EQ(status->identity.system_name, "Board Room");
    EXPECT_EQ(status->uptime, 120s);
    EXPECT_EQ(status->h323.state, RegistrationState::kRegistered);
    EXPECT_EQ(status->sip.state, RegistrationState::kFailed);
    ASSERT_EQ(status->calls.size(), 1u);
    EXPECT_EQ(status->calls[0].call_id, "0");
    EXPECT_EQ(status->calls[0].remote_number, "far@example.com");
    EXPECT_EQ(status->calls[0].state, CallState::kConnected);
  }
  EXPECT_EQ(driver.logins(), 1u);
  EXPECT_EQ(fake.logins, 1);
}

TEST(PolycomDriverTest, AnExpiredSessionIsRenewed) {
  FakeGroupSeries fake;
  CannedHttpServer server([&fake](const net::Request& r) { return fake(r); });
  PolycomDriver driver;
  DriverTarget target = targetFor(server.port());
  ASSERT_TRUE(driver.poll(target).ok());
  fake.expire = true;
  auto status = driver.poll(target);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(driver.logins(), 2u);
}

TEST(PolycomDriverTest, DialHangUpAndSettings) {
  FakeGroupSeries fake;
  CannedHttpServer server([&fake](const net::Request& r) { return fake(r); });
  PolycomDriver driver;
  DriverTarget target = targetFor(server.port());
  auto id = driver.dial(target, {"far@example.com", "SIP", 1024});
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(*id, "0");
  ASSERT_TRUE(driver.disconnect(target, *id).ok());
  ASSERT_TRUE(driver.disconnect(target, "").ok());  // lists, then hangs up conference 0
  PersistentSettings settings;
  settings.system_name = "Board Room 2";
  settings.e164_alias = "5001";
  ASSERT_TRUE(driver.applySettings(target, settings).ok());
  auto bad = driver.disconnect(target, "../system");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);

  std::vector<std::string> seen;
  for (const auto& r : server.requests()) {
    seen.push_back(std::string(r.method_string()) + " " + std::string(r.target()));
    if (r.target() == "/rest/conferences" && r.method_string() == "POST") {
      auto body = json::parse(r.body());
      EXPECT_EQ(body["address"], "far@example.com");
      EXPECT_EQ(body["rate"], 1024);
      EXPECT_EQ(body["dialType"], "SIP");
    }
    if (r.target() == "/rest/config") {
      auto parsed = parseConfigBody(r.body());
      ASSERT_TRUE(parsed.ok());
      EXPECT_EQ(parsed->system_name, "Board Room 2");
      EXPECT_EQ(parsed->e164_alias, "5001");
      EXPECT_EQ(parsed->h323_id, "");
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"POST /rest/session", "POST /rest/conferences",
                                            "DELETE /rest/conferences/0", "GET /rest/conferences",
                                            "DELETE /rest/conferences/0", "POST /rest/config"}));
}

TEST(PolycomDriverTest, WrongCredentialsAreUnauthorized) {
  FakeGroupSeries fake;
  CannedHttpServer server([&fake](const net::Request& r) { return fake(r); });
  PolycomDriver driver;
  DriverTarget target = targetFor(server.port());
  target.password = "wrong";
  auto status = driver.poll(target);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(status.error().message.rfind("polycom system at 127.0.0.1:", 0), 0u);
  EXPECT_EQ(status.error().message.find("wrong"), std::string::npos);
}

TEST(PolycomDriverTest, MalformedJsonIsInternal) {
  CannedHttpServer server([](const net::Request& req) -> std::optional<net::Response> {
    if (req.target() == "/rest/session") {
      auto res = CannedHttpServer::reply(200, "{}", "application/json");
      res.insert(boost::beast::http::field::set_cookie, "session_id=x");
      return res;
    }
    return CannedHttpServer::reply(200, "{\"model\": [", "application/json");
  });
  PolycomDriver driver;
  auto status = driver.poll(targetFor(server.port()));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInternal);
  EXPECT_NE(status.error().message.find("/rest/system"), std::string::npos);
}

TEST(PolycomDriverTest, HangingAndRefusedAreUnavailable) {
  PolycomDriver driver;
  {
    CannedHttpServer server([](const net::Request&) -> std::optional<net::Response> {
      return std::nullopt;
    });
    DriverTarget target = targetFor(server.port());
    target.timeout = 300ms;
    auto t0 = std::chrono::steady_clock::now();
    auto status = driver.poll(target);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  }
  auto refused = driver.poll(targetFor(testing::closedPort()));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
}

TEST(PolycomJsonTest, ConferencesRoundTrip) {
  CallInfo call;
  call.call_id = "3";
  call.remote_number = "a@b";
  call.display_name = "A";
  call.protocol = "H323";
  call.rate_kbps = 768;
  call.state = CallState::kRinging;
  call.direction = CallDirection::kIncoming;
  call.duration = 5s;
  auto back = parseConferences(buildConferencesJson({call}));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0], call);
  EXPECT_FALSE(parseConferences("{}").ok());
  EXPECT_EQ(parseConferences("[").error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace atrium::devices::polycom
