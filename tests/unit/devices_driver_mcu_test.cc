// The cisco-mcu driver against a canned /RPC2: credentials in every call, enumerateID paging,
// faults mapped to the error policy, malformed answers, timeouts, refused connections.
#include <gtest/gtest.h>

#include <chrono>

#include "devices/cisco_mcu/mcu_driver.h"
#include "devices/cisco_mcu/xmlrpc.h"
#include "support/canned_http.h"

namespace atrium::devices::cisco_mcu {
namespace {

using namespace std::chrono_literals;
using testing::CannedHttpServer;

DriverTarget targetFor(std::uint16_t port) {
  DriverTarget t;
  t.system_id = "bridge-1";
  t.address = "127.0.0.1";
  t.port = port;
  t.username = "admin";
  t.password = "secret";
  t.timeout = 2000ms;
  return t;
}

XmlRpcValue conference(const std::string& name, const std::string& numeric_id, bool active) {
  return XmlRpcStruct{{"conferenceName", name},
                      {"numericId", numeric_id},
                      {"conferenceActive", active},
                      {"participantCount", static_cast<std::int32_t>(active ? 2 : 0)}};
}

// A bridge with three conferences served two per page, and a configured feedback receiver.
std::optional<net::Response> bridge(const net::Request& req) {
  auto call = decodeMethodCall(req.body());
  if (!call.ok() || call->params.empty()) {
    return CannedHttpServer::reply(200, encodeFault({103, "malformed parameter"}));
  }
  const XmlRpcValue& params = call->params[0];
  const XmlRpcValue* user = params.member("authenticationUser");
  const XmlRpcValue* password = params.member("authenticationPassword");
  if (!user || !password || *user->asString() != "admin" || *password->asString() != "secret") {
    return CannedHttpServer::reply(200, encodeFault({34, "Authentication failure"}));
  }
  if (call->method == "device.query") {
    return CannedHttpServer::reply(
        200, encodeMethodResponse(XmlRpcStruct{{"model", "Codian MCU 4510"},
                                               {"serial", "SM123456"},
                                               {"softwareVersion", "4.5(1.45)"},
                                               {"uptime", static_cast<std::int32_t>(3600)}}));
  }
  if (call->method == "conference.enumerate") {
    const XmlRpcValue* id = params.member("enumerateID");
    if (!id) {
      return CannedHttpServer::reply(
          200, encodeMethodResponse(XmlRpcStruct{
                   {"conferences", XmlRpcArray{conference("Alpha", "8001", true),
                                               conference("Beta", "8002", false)}},
                   {"enumerateID", "page2"}}));
    }
    return CannedHttpServer::reply(
        200, encodeMethodResponse(XmlRpcStruct{
                 {"conferences", XmlRpcArray{conference("Gamma", "8003", true)}}}));
  }
  if (call->method == "feedbackReceiver.query") {
    return CannedHttpServer::reply(
        200, encodeMethodResponse(XmlRpcStruct{
                 {"receivers", XmlRpcArray{XmlRpcStruct{
                                   {"receiverURI", "http://atrium/feedback/x"},
                                   {"sourceIdentifier", "bridge-1"},
                                   {"receiverIndex", static_cast<std::int32_t>(1)}}}}}));
  }
  if (call->method == "conference.destroy") {
    return CannedHttpServer::reply(200, encodeFault({4, "no such conference"}));
  }
  if (call->method == "participant.enumerate") {
    return CannedHttpServer::reply(
        200, encodeMethodResponse(XmlRpcStruct{
                 {"participants",
                  XmlRpcArray{XmlRpcStruct{{"participantName", "p1"},
                                           {"conferenceName", "Alpha"},
                                           {"address", "room1@example.com"},
                                           {"callState", "connected"}},
                              XmlRpcStruct{{"participantName", "p2"},
                                           {"conferenceName", "Gamma"},
                                           {"address", "room2@example.com"},
                                           {"callState", "connecting"}}}}}));
  }
  return CannedHttpServer::reply(200, encodeMethodResponse(XmlRpcStruct{{"status", "operation successful"}}));
}

std::vector<MethodCall> callsTo(const CannedHttpServer& server) {
  std::vector<MethodCall> out;
  for (const auto& r : server.requests()) {
    EXPECT_EQ(r.target(), "/RPC2");
    EXPECT_EQ(r.method_string(), "POST");
    auto call = decodeMethodCall(r.body());
    EXPECT_TRUE(call.ok());
    if (call.ok()) out.push_back(*call);
  }
  return out;
}

TEST(McuDriverTest, PollQueriesTheDeviceAndPagesThroughConferences) {
  CannedHttpServer server(bridge);
  McuDriver driver;
  auto status = driver.poll(targetFor(server.port()));
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->identity.product, "Codian MCU 4510");
  EXPECT_EQ(status->identity.serial_number, "SM123456");
  EXPECT_EQ(status->identity.software_version, "4.5(1.45)");
  EXPECT_EQ(status->uptime, std::chrono::seconds(3600));
  ASSERT_EQ(status->calls.size(), 2u);  // the active conferences
  EXPECT_EQ(status->calls[0].call_id, "Alpha");
  EXPECT_EQ(status->calls[1].call_id, "Gamma");
  ASSERT_EQ(status->feedback_slots.size(), 1u);
  EXPECT_EQ(status->feedback_slots[0].url, "http://atrium/feedback/x");

  auto calls = callsTo(server);
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].method, "device.query");
  EXPECT_EQ(calls[1].method, "conference.enumerate");
  EXPECT_EQ(calls[2].method, "conference.enumerate");
  EXPECT_EQ(*calls[2].params[0].member("enumerateID")->asString(), "page2");
  EXPECT_EQ(calls[3].method, "feedbackReceiver.query");
}

TEST(McuDriverTest, ConferencesParticipantsAndFeedback) {
  CannedHttpServer server(bridge);
  McuDriver driver;
  DriverTarget target = targetFor(server.port());
  auto conferences = driver.listConferences(target);
  ASSERT_TRUE(conferences.ok()) << conferences.error().message;
  ASSERT_EQ(conferences->size(), 3u);
  EXPECT_EQ((*conferences)[1].name, "Beta");
  EXPECT_EQ((*conferences)[1].numeric_id, "8002");
  EXPECT_FALSE((*conferences)[1].active);
  EXPECT_EQ((*conferences)[0].participants, 2);

  auto participants = driver.listParticipants(target, "Gamma");
  ASSERT_TRUE(participants.ok());
  ASSERT_EQ(participants->size(), 1u);
  EXPECT_EQ((*participants)[0].address, "room2@example.com");
  EXPECT_EQ((*participants)[0].state, CallState::kConnecting);

  ASSERT_TRUE(driver.createConference(target, {"Delta", "8004", 0, false}).ok());
  ASSERT_TRUE(driver.addParticipant(target, "Delta", "room3@example.com").ok());
  ASSERT_TRUE(driver.removeParticipant(target, "Delta", "room3@example.com").ok());
  ASSERT_TRUE(driver.registerFeedback(target, {2, "http://atrium/feedback/y", {}}).ok());
  auto destroyed = driver.destroyConference(target, "Nope");
  ASSERT_FALSE(destroyed.ok());
  EXPECT_EQ(destroyed.error().code, ErrorCode::kNotFound);
  EXPECT_NE(destroyed.error().message.find("conference.destroy"), std::string::npos);

  auto calls = callsTo(server);
  auto find = [&](std::string_view method) -> const MethodCall* {
    for (const auto& c : calls) {
      if (c.method == method) return &c;
    }
    return nullptr;
  };
  const MethodCall* create = find("conference.create");
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(*create->params[0].member("conferenceName")->asString(), "Delta");
  EXPECT_EQ(*create->params[0].member("numericId")->asString(), "8004");
  const MethodCall* configure = find("feedbackReceiver.configure");
  ASSERT_NE(configure, nullptr);
  EXPECT_EQ(*configure->params[0].member("receiverURI")->asString(), "http://atrium/feedback/y");
  EXPECT_EQ(*configure->params[0].member("sourceIdentifier")->asString(), "bridge-1");
  EXPECT_EQ(configure->params[0].member("receiverIndex")->asInt(), 2);
  for (const auto& c : calls) {
    EXPECT_EQ(*c.params[0].member("authenticationUser")->asString(), "admin");
  }
}

TEST(McuDriverTest, AnAuthenticationFaultIsUnauthorized) {
  CannedHttpServer server(bridge);
  McuDriver driver;
  DriverTarget target = targetFor(server.port());
  target.password = "wrong";
  auto status = driver.poll(target);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnauthorized);
  EXPECT_EQ(status.error().message.rfind("cisco-mcu system at 127.0.0.1:", 0), 0u);
  EXPECT_EQ(status.error().message.find("wrong"), std::string::npos);
}

TEST(McuDriverTest, Http401IsUnauthorized) {
  CannedHttpServer server([](const net::Request&) -> std::optional<net::Response> {
    return CannedHttpServer::reply(401, "", "text/plain");
  });
  McuDriver driver;
  auto status = driver.poll(targetFor(server.port()));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kUnauthorized);
}

TEST(McuDriverTest, MalformedAnswersAreInternal) {
  for (std::string body : {std::string("<methodResponse><params>"), std::string("hello"),
                           encodeMethodResponse(XmlRpcValue("not a struct"))}) {
    CannedHttpServer server([body](const net::Request&) -> std::optional<net::Response> {
      return CannedHttpServer::reply(200, body);
    });
    McuDriver driver;
    auto status = driver.poll(targetFor(server.port()));
    ASSERT_FALSE(status.ok()) << body;
    EXPECT_EQ(status.error().code, ErrorCode::kInternal) << status.error().message;
  }
}

TEST(McuDriverTest, HangingAndRefusedAreUnavailable) {
  McuDriver driver;
  {
    CannedHttpServer server([](const net::Request&) -> std::optional<net::Response> {
      return std::nullopt;
    });
    DriverTarget target = targetFor(server.port());
    target.timeout = 300ms;
    auto t0 = std::chrono::steady_clock::now();
    auto status = driver.listConferences(target);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, ErrorCode::kUnavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  }
  auto refused = driver.poll(targetFor(testing::closedPort()));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
}

TEST(McuDriverTest, EndpointOperationsAreUnsupported) {
  McuDriver driver;
  auto dialled = driver.dial(targetFor(1), {"x", "", 0});
  ASSERT_FALSE(dialled.ok());
  EXPECT_EQ(dialled.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(dialled.error().message.find("cisco-mcu"), std::string::npos);
}

}  // namespace
}  // namespace atrium::devices::cisco_mcu
