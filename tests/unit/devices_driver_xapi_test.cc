// The cisco-xapi driver against canned HTTP servers: what it sends, what it reads, and the error
// policy (401, errors answered with HTTP 200, malformed bodies, timeouts, refused connections),
// and HTTPS against a test TLS server with a self-signed certificate.
#include <gtest/gtest.h>

#include <chrono>

#include "devices/cisco_xapi/document_builder.h"
#include "devices/cisco_xapi/putxml.h"
#include "devices/cisco_xapi/xapi_driver.h"
#include "net/http_client.h"
#include "support/canned_http.h"
#include "support/tls_test_server.h"

namespace atrium::devices::cisco_xapi {
namespace {

using namespace std::chrono_literals;
using testing::CannedHttpServer;

SystemIdentity sampleIdentity() {
  SystemIdentity id;
  id.system_name = "Room-1";
  id.product = "Cisco TelePresence SX20";
  id.software_version = "ce9.1.4.3ae3106";
  id.serial_number = "FTT1234ABCD";
  id.mac_address = "00:50:60:01:02:03";
  id.ipv4_address = "127.0.0.1";
  id.h323_id = "room1@example.com";
  id.e164 = "4001";
  id.sip_uri = "room1@example.com";
  return id;
}

DeviceStatus sampleStatus(int calls = 0) {
  DeviceStatus status;
  status.identity = sampleIdentity();
  for (int i = 1; i <= calls; ++i) {
    CallInfo call;
    call.call_id = std::to_string(i + 2);
    call.remote_number = "far" + std::to_string(i) + "@example.com";
    call.protocol = "Sip";
    call.state = CallState::kConnected;
    call.direction = CallDirection::kOutgoing;
    status.calls.push_back(call);
  }
  return status;
}

// Serves status.xml and configuration.xml of sampleStatus(calls), and answers putxml with `putxml`.
CannedHttpServer::Answer endpoint(int calls = 0, std::string putxml_answer =
                                                     "<Command><DialResult status=\"OK\">"
                                                     "<CallId>7</CallId><ConferenceId>5</ConferenceId>"
                                                     "</DialResult></Command>") {
  return [calls, putxml_answer](const net::Request& req) -> std::optional<net::Response> {
    if (req.target() == "/status.xml") {
      return CannedHttpServer::reply(200, buildStatusXml(sampleStatus(calls)));
    }
    if (req.target() == "/configuration.xml") {
      auto config = buildConfigurationXml(defaultConfiguration(sampleIdentity()), sampleIdentity());
      return CannedHttpServer::reply(200, config.ok() ? *config : "");
    }
    if (req.target() == "/putxml") return CannedHttpServer::reply(200, putxml_answer);
    return CannedHttpServer::reply(404, "not found", "text/plain");
  };
}

DriverTarget targetFor(std::uint16_t port) {
  DriverTarget t;
  t.system_id = "sys-1";
  t.address = "127.0.0.1";
  t.port = port;
  t.username = "admin";
  t.password = "secret";
  t.timeout = 2000ms;
  return t;
}

std::vector<std::string> putxmlBodies(const CannedHttpServer& server) {
  std::vector<std::string> out;
  for (const auto& r : server.requests()) {
    if (r.target() == "/putxml") out.push_back(r.body());
  }
  return out;
}

TEST(XapiDriverTest, PollReadsStatusAndConfigurationWithBasicAuth) {
  CannedHttpServer server(endpoint(1));
  XapiDriver driver;
  auto status = driver.poll(targetFor(server.port()));
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->identity.product, "Cisco TelePresence SX20");
  EXPECT_EQ(status->identity.serial_number, "FTT1234ABCD");
  EXPECT_EQ(status->identity.software_version, "ce9.1.4.3ae3106");
  EXPECT_EQ(status->identity.system_name, "Room-1");
  EXPECT_EQ(status->identity.h323_id, "room1@example.com");
  EXPECT_EQ(status->identity.e164, "4001");
  ASSERT_EQ(status->calls.size(), 1u);
  EXPECT_EQ(status->calls[0].call_id, "3");

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target(), "/status.xml");
  EXPECT_EQ(requests[1].target(), "/configuration.xml");
  for (const auto& r : requests) {
    EXPECT_EQ(std::string(r[boost::beast::http::field::authorization]),
              net::basicAuthorization("admin", "secret"));
  }
  EXPECT_EQ(net::basicAuthorization("admin", "secret"), "Basic YWRtaW46c2VjcmV0");
}

TEST(XapiDriverTest, CommandsSendThePutxmlTheEndpointExpects) {
  CannedHttpServer server(endpoint());
  XapiDriver driver;
  DriverTarget target = targetFor(server.port());

  auto call_id = driver.dial(target, {"far@example.com", "SIP", 768});
  ASSERT_TRUE(call_id.ok()) << call_id.error().message;
  EXPECT_EQ(*call_id, "7");

  PersistentSettings settings;
  settings.system_name = "Room-2";
  settings.h323_id = "room2@example.com";
  settings.e164_alias = "4002";
  settings.sip_uri = "room2@example.com";
  ASSERT_TRUE(driver.applySettings(target, settings).ok());
  ASSERT_TRUE(driver.registerFeedback(target, {3, "http://atrium/feedback/s3cr3t",
                                               {"/Event/CallSuccessful", "/Status/Call"}})
                  .ok());
  ASSERT_TRUE(driver.deregisterFeedback(target, 3).ok());
  ASSERT_TRUE(driver.disconnect(target, "7").ok());

  auto bodies = putxmlBodies(server);
  ASSERT_EQ(bodies.size(), 5u);
  EXPECT_EQ(bodies[0], *dialCommand("far@example.com", "Sip", 768));
  EXPECT_EQ(bodies[1], *buildConfigurationPutxml({{"SystemUnit/Name", "Room-2"},
                                                  {"H323/H323Alias/ID", "room2@example.com"},
                                                  {"H323/H323Alias/E164", "4002"},
                                                  {"SIP/URI", "room2@example.com"}}));
  FeedbackSlot slot;
  slot.slot = 3;
  slot.url = "http://atrium/feedback/s3cr3t";
  slot.expressions = {"/Event/CallSuccessful", "/Status/Call"};
  EXPECT_EQ(bodies[2], *httpFeedbackRegisterCommand(slot));
  EXPECT_EQ(bodies[3], *httpFeedbackDeregisterCommand(3));
  EXPECT_EQ(bodies[4], *callDisconnectCommand("7"));
}

TEST(XapiDriverTest, DisconnectWithoutIdEndsEveryCall) {
  CannedHttpServer server(endpoint(2, "<Command><CallDisconnectResult status=\"OK\"/></Command>"));
  XapiDriver driver;
  ASSERT_TRUE(driver.disconnect(targetFor(server.port()), "").ok());
  auto bodies = putxmlBodies(server);
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[0], *callDisconnectCommand("3"));
  EXPECT_EQ(bodies[1], *callDisconnectCommand("4"));
}

TEST(XapiDriverTest, RejectedCredentialsAreUnauthorized) {
  CannedHttpServer server([](const net::Request&) -> std::optional<net::Response> {
    return CannedHttpServer::reply(401, "Unauthorized", "text/plain");
  });
  XapiDriver driver;
  auto status = driver.poll(targetFor(server.port()));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(status.error().message.find("cisco-xapi system at 127.0.0.1"), std::string::npos);
  EXPECT_EQ(status.error().message.find("secret"), std::string::npos);
}

TEST(XapiDriverTest, ErrorsAnsweredWithHttp200AreRefusals) {
  CannedHttpServer server(endpoint(
      0, "<Command><DialResult status=\"Error\"><Reason>Invalid number</Reason></DialResult>"
         "</Command>"));
  XapiDriver driver;
  auto call_id = driver.dial(targetFor(server.port()), {"???", "", 0});
  ASSERT_FALSE(call_id.ok());
  EXPECT_EQ(call_id.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(call_id.error().message.find("Invalid number"), std::string::npos);

  CannedHttpServer params(endpoint(
      0, "<Configuration><ParameterError/><Reason>No match on address expression</Reason>"
         "</Configuration>"));
  PersistentSettings settings;
  settings.system_name = "x";
  auto applied = driver.applySettings(targetFor(params.port()), settings);
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.error().code, ErrorCode::kInternal);
  EXPECT_NE(applied.error().code, ErrorCode::kUnavailable);
}

TEST(XapiDriverTest, MalformedDocumentsAreInternal) {
  CannedHttpServer server([](const net::Request&) -> std::optional<net::Response> {
    return CannedHttpServer::reply(200, "<Status><SystemUnit>");
  });
  XapiDriver driver;
  auto status = driver.poll(targetFor(server.port()));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInternal);
  EXPECT_NE(status.error().message.find("status.xml"), std::string::npos);

  CannedHttpServer wrong_root([](const net::Request&) -> std::optional<net::Response> {
    return CannedHttpServer::reply(200, "<html><body>login</body></html>");
  });
  auto other = driver.poll(targetFor(wrong_root.port()));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kInternal);
}

TEST(XapiDriverTest, AHangingSystemIsUnavailableWithinTheTimeout) {
  CannedHttpServer server([](const net::Request&) -> std::optional<net::Response> {
    return std::nullopt;
  });
  XapiDriver driver;
  DriverTarget target = targetFor(server.port());
  target.timeout = 300ms;
  auto t0 = std::chrono::steady_clock::now();
  auto status = driver.poll(target);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
  EXPECT_LT(took, 2s);
}

TEST(XapiDriverTest, ARefusedConnectionIsUnavailable) {
  XapiDriver driver;
  auto status = driver.poll(targetFor(testing::closedPort()));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(status.error().message.rfind("cisco-xapi system at 127.0.0.1:", 0), 0u)
      << status.error().message;
}

TEST(XapiDriverTest, PollsOverHttpsWithASelfSignedCertificate) {
  auto answer = endpoint(1);
  testing::TlsTestServer server([&answer](const net::Request& req) { return *answer(req); });
  XapiDriver driver;
  DriverTarget target = targetFor(server.port());
  target.tls = true;
  auto status = driver.poll(target);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->identity.serial_number, "FTT1234ABCD");
  EXPECT_EQ(server.handshakes(), 2);

  // With verification on, the self-signed certificate is refused.
  target.verify_tls = true;
  auto verified = driver.poll(target);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(verified.error().message.find("TLS"), std::string::npos) << verified.error().message;
}

TEST(HttpClientTest, CookiesAndHeaderValues) {
  net::HttpResponse response;
  response.headers = {{"Set-Cookie", "session_id=abc; Path=/; HttpOnly"},
                      {"Content-Type", "application/json"},
                      {"set-cookie", "lang=en"}};
  EXPECT_EQ(response.headerValues("SET-COOKIE").size(), 2u);
  EXPECT_EQ(net::cookiesFrom(response), "session_id=abc; lang=en");
  EXPECT_EQ(net::cookiesFrom(net::HttpResponse{}), "");
}

}  // namespace
}  // namespace atrium::devices::cisco_xapi
