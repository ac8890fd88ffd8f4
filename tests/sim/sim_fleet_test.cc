// The simulator answers every family's protocol the way real clients speak it.
#include <gtest/gtest.h>

#include <cstdio>
#include <mutex>

#include "devices/cisco_mcu/mcu_api.h"
#include "devices/cisco_mcu/xmlrpc.h"
#include "devices/cisco_xapi/configuration_document.h"
#include "devices/cisco_xapi/feedback_document.h"
#include "devices/cisco_xapi/putxml.h"
#include "devices/cisco_xapi/status_document.h"
#include "ingest/trap_receiver.h"
#include "sim/manifest.h"
#include "sim_test_support.h"

namespace atrium::sim {
namespace {

using namespace std::chrono_literals;
using testing::CollectingServer;
using testing::randomOptions;
using testing::waitFor;
namespace xapi = devices::cisco_xapi;
namespace mcu = devices::cisco_mcu;

class SimFleetTest : public ::testing::Test {
 protected:
  void startFleet(FleetOptions options) {
    auto started = Fleet::start(options);
    ASSERT_TRUE(started.ok()) << started.error().message;
    fleet_ = std::move(*started);
  }
  void TearDown() override {
    if (fleet_) fleet_->stop();
  }

  const SimulatedSystem& sys(int i) const { return fleet_->systems().at(static_cast<std::size_t>(i)); }

  Result<net::HttpResponse> xapiRequest(int i, std::string_view method, std::string_view target,
                                        std::string_view body = {}, std::string password = {}) {
    const auto& s = sys(i);
    return client_.request(method, s.address, s.http_port, target, body,
                           {{"Authorization", net::basicAuthorization(s.username, password.empty() ? s.password : password)},
                            {"Content-Type", "text/xml"}},
                           3s);
  }

  Result<mcu::XmlRpcValue> rpc(int i, const mcu::MethodCall& call) {
    const auto& s = sys(i);
    auto response = client_.request("POST", s.address, s.http_port, "/RPC2", mcu::encodeMethodCall(call),
                                    {{"Content-Type", "text/xml"}}, 3s);
    if (!response.ok()) return response.error();
    return mcu::decodeMethodResult(response->body);
  }

  mcu::McuCredentials credentials(int i) const { return {sys(i).username, sys(i).password}; }

  std::unique_ptr<Fleet> fleet_;
  net::HttpClient client_;
};

TEST_F(SimFleetTest, SystemsHaveAddressesOfTheirOwnAndAManifest) {
  startFleet(randomOptions(2, 1, 1, 1));
  ASSERT_EQ(fleet_->systems().size(), 5u);
  EXPECT_EQ(sys(0).family, "cisco-xapi");
  EXPECT_EQ(sys(2).family, "cisco-mcu");
  EXPECT_EQ(sys(3).family, "polycom");
  EXPECT_EQ(sys(4).family, "snmp");
  EXPECT_EQ(sys(4).http_port, 0);
  EXPECT_NE(sys(0).address, sys(1).address);
  auto parsed = parseManifest(manifestJson(fleet_->systems()));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->at(3).serial_number, sys(3).serial_number);
}

TEST_F(SimFleetTest, XapiStatusConfigurationAndBasicAuth) {
  startFleet(randomOptions(1, 0, 0, 0));
  auto status = xapiRequest(0, "GET", "/status.xml");
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_EQ(status->status, 200u);
  auto parsed = xapi::parseStatusXml(status->body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->identity.serial_number, sys(0).serial_number);
  EXPECT_EQ(parsed->identity.system_name, sys(0).name);
  EXPECT_EQ(parsed->identity.ipv4_address, sys(0).address);

  auto config = xapiRequest(0, "GET", "/configuration.xml");
  ASSERT_TRUE(config.ok());
  auto configuration = xapi::parseConfigurationXml(config->body);
  ASSERT_TRUE(configuration.ok()) << configuration.error().message;
  EXPECT_EQ(configuration->system_name, sys(0).name);

  auto refused = xapiRequest(0, "GET", "/status.xml", {}, "wrong");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 401u);
  auto anonymous = client_.request("GET", sys(0).address, sys(0).http_port, "/status.xml");
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 401u);

  auto subtree = xapiRequest(0, "GET", "/getxml?location=/Status/SystemUnit");
  ASSERT_TRUE(subtree.ok());
  EXPECT_NE(subtree->body.find("<SystemUnit>"), std::string::npos);
  EXPECT_EQ(subtree->body.find("<H323>"), std::string::npos);
  auto nomatch = xapiRequest(0, "GET", "/getxml?location=/Status/Frobnicator");
  ASSERT_TRUE(nomatch.ok());
  EXPECT_EQ(nomatch->status, 200u);
  EXPECT_FALSE(xapi::parseStatusXml(nomatch->body).ok());
}

TEST_F(SimFleetTest, XapiConfigurationDialAndDisconnect) {
  startFleet(randomOptions(1, 0, 0, 0));
  auto body = xapi::buildConfigurationPutxml({{"SystemUnit/Name", "Board Room"},
                                               {"H323/H323Alias/ID", "board.room"},
                                               {"H323/H323Alias/E164", "55501"},
                                               {"SIP/URI", "board.room@example.com"}});
  ASSERT_TRUE(body.ok());
  auto set = xapiRequest(0, "POST", "/putxml", *body);
  ASSERT_TRUE(set.ok());
  ASSERT_TRUE(xapi::parseCommandResult(set->body).ok()) << set->body;
  auto settings = fleet_->settings(0);
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->system_name, "Board Room");
  EXPECT_EQ(settings->h323_id, "board.room");
  EXPECT_EQ(settings->e164_alias, "55501");
  EXPECT_EQ(settings->sip_uri, "board.room@example.com");
  auto config = xapi::parseConfigurationXml(xapiRequest(0, "GET", "/configuration.xml")->body);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->system_name, "Board Room");
  EXPECT_EQ(config->e164, "55501");

  auto illegal = xapiRequest(0, "POST", "/putxml", *xapi::buildConfigurationPutxml({{"Conference/DefaultCall/Rate", "99999"}}));
  ASSERT_TRUE(illegal.ok());
  EXPECT_FALSE(xapi::parseCommandResult(illegal->body).ok());

  auto dial = xapiRequest(0, "POST", "/putxml", *xapi::dialCommand("alice@example.com", "Sip", 1920));
  ASSERT_TRUE(dial.ok());
  auto result = xapi::parseCommandResult(dial->body);
  ASSERT_TRUE(result.ok()) << dial->body;
  const std::string call_id = result->value("CallId");
  EXPECT_FALSE(call_id.empty());
  EXPECT_FALSE(result->value("ConferenceId").empty());
  ASSERT_TRUE(waitFor([&] {
    auto s = fleet_->status(0);
    return s.ok() && s->calls.size() == 1 && s->calls[0].state == devices::CallState::kConnected;
  }));
  auto polled = xapi::parseStatusXml(xapiRequest(0, "GET", "/status.xml")->body);
  ASSERT_TRUE(polled.ok());
  ASSERT_EQ(polled->calls.size(), 1u);
  EXPECT_EQ(polled->calls[0].remote_number, "alice@example.com");
  EXPECT_EQ(polled->calls[0].direction, devices::CallDirection::kOutgoing);
  EXPECT_EQ(polled->calls[0].rate_kbps, 1920);

  auto missing = xapiRequest(0, "POST", "/putxml", "<Command><Dial command=\"True\"></Dial></Command>");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 200u);
  EXPECT_FALSE(xapi::parseCommandResult(missing->body).ok());

  auto hangup = xapiRequest(0, "POST", "/putxml", *xapi::callDisconnectCommand(call_id));
  ASSERT_TRUE(hangup.ok());
  EXPECT_TRUE(xapi::parseCommandResult(hangup->body).ok()) << hangup->body;
  EXPECT_TRUE(fleet_->status(0)->calls.empty());
  auto again = xapiRequest(0, "POST", "/putxml", *xapi::callDisconnectCommand(call_id));
  EXPECT_FALSE(xapi::parseCommandResult(again->body).ok());
}

TEST_F(SimFleetTest, XapiHttpFeedbackPostsCallEventsAndBoot) {
  CollectingServer receiver;
  startFleet(randomOptions(1, 0, 0, 0));
  devices::FeedbackSlot slot{3, receiver.url(), {"/Event/CallSuccessful", "/Event/CallDisconnect", "/Event/BootEvent", "/Status/Call"}, "", ""};
  auto registered = xapiRequest(0, "POST", "/putxml", *xapi::httpFeedbackRegisterCommand(slot));
  ASSERT_TRUE(registered.ok());
  ASSERT_TRUE(xapi::parseCommandResult(registered->body).ok()) << registered->body;
  auto status = fleet_->status(0);
  ASSERT_EQ(status->feedback_slots.size(), 1u);
  EXPECT_EQ(status->feedback_slots[0].slot, 3);
  EXPECT_EQ(status->feedback_slots[0].status, "OK");

  ASSERT_TRUE(fleet_->incomingCall(0, "bob@example.com").ok());
  const auto kinds = [&] {
    std::vector<devices::EventKind> out;
    for (const std::string& body : receiver.collector.bodies()) {
      auto events = xapi::parseFeedbackXml(body, "sender");
      EXPECT_TRUE(events.ok()) << body;
      if (!events.ok()) continue;
      for (const auto& e : *events) {
        out.push_back(e.kind);
        EXPECT_EQ(e.identity.serial_number, sys(0).serial_number);
      }
    }
    return out;
  };
  const auto has = [&](devices::EventKind kind) {
    auto k = kinds();
    return std::find(k.begin(), k.end(), kind) != k.end();
  };
  ASSERT_TRUE(waitFor([&] { return has(devices::EventKind::kCallConnected); })) << receiver.collector.count();
  ASSERT_TRUE(fleet_->hangUp(0).ok());
  ASSERT_TRUE(waitFor([&] { return has(devices::EventKind::kCallDisconnected); }));
  ASSERT_TRUE(fleet_->reboot(0).ok());
  ASSERT_TRUE(waitFor([&] { return has(devices::EventKind::kBoot); }));
  for (const std::string& source : receiver.collector.sources()) EXPECT_EQ(source, sys(0).address);

  // The disconnect carries its cause.
  bool cause_seen = false;
  for (const std::string& body : receiver.collector.bodies()) {
    auto events = xapi::parseFeedbackXml(body, "sender");
    ASSERT_TRUE(events.ok());
    for (const auto& e : *events) {
      if (e.kind == devices::EventKind::kCallDisconnected && !e.cause_value.empty()) cause_seen = true;
    }
  }
  EXPECT_TRUE(cause_seen);

  auto deregistered = xapiRequest(0, "POST", "/putxml", *xapi::httpFeedbackDeregisterCommand(3));
  ASSERT_TRUE(xapi::parseCommandResult(deregistered->body).ok());
  EXPECT_TRUE(fleet_->status(0)->feedback_slots.empty());
  auto bad_slot = xapiRequest(0, "POST", "/putxml", *xapi::httpFeedbackDeregisterCommand(7));
  EXPECT_FALSE(xapi::parseCommandResult(bad_slot->body).ok());
}

TEST_F(SimFleetTest, McuXmlRpcConferencesParticipantsPagingAndNotifications) {
  CollectingServer receiver;
  startFleet(randomOptions(0, 1, 0, 0));
  auto refused = rpc(0, mcu::mcuCall("device.query", {"admin", "wrong"}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthorized);
  EXPECT_NE(refused.error().message.find("34"), std::string::npos);

  auto device = rpc(0, mcu::mcuCall("device.query", credentials(0)));
  ASSERT_TRUE(device.ok()) << device.error().message;
  EXPECT_EQ(*device->member("serial")->asString(), sys(0).serial_number);
  EXPECT_EQ(*device->member("model")->asString(), sys(0).model);

  auto configured = rpc(0, mcu::feedbackReceiverConfigureCall(credentials(0), receiver.url("/RPC2"), "atrium-test", 1));
  ASSERT_TRUE(configured.ok()) << configured.error().message;

  for (int i = 0; i < 12; ++i) {
    auto created = rpc(0, mcu::mcuCall("conference.create", credentials(0),
                                       {{"conferenceName", "Meeting " + std::to_string(i)},
                                        {"numericId", std::to_string(7000 + i)}}));
    ASSERT_TRUE(created.ok()) << created.error().message;
  }
  auto duplicate = rpc(0, mcu::mcuCall("conference.create", credentials(0), {{"conferenceName", "Meeting 0"}}));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, ErrorCode::kConflict);

  std::vector<std::string> names;
  std::optional<mcu::XmlRpcValue> next;
  int pages = 0;
  do {
    auto page = rpc(0, mcu::enumerateCall("conference.enumerate", credentials(0), next));
    ASSERT_TRUE(page.ok()) << page.error().message;
    auto parsed = mcu::parseEnumeratePage(*page, "conferences");
    ASSERT_TRUE(parsed.ok());
    for (const auto& item : parsed->items) names.push_back(*item.member("conferenceName")->asString());
    next = parsed->next_enumerate_id;
    ++pages;
  } while (next && pages < 10);
  EXPECT_EQ(names.size(), 12u);
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(fleet_->conferences(0)->size(), 12u);

  auto added = rpc(0, mcu::mcuCall("participant.add", credentials(0),
                                   {{"conferenceName", "Meeting 3"}, {"participantName", "alice"},
                                    {"address", "alice@example.com"}}));
  ASSERT_TRUE(added.ok()) << added.error().message;
  ASSERT_TRUE(waitFor([&] {
    auto page = rpc(0, mcu::enumerateCall("participant.enumerate", credentials(0), std::nullopt));
    if (!page.ok()) return false;
    auto parsed = mcu::parseEnumeratePage(*page, "participants");
    return parsed.ok() && parsed->items.size() == 1 &&
           *parsed->items[0].member("callState")->asString() == "connected";
  }));
  auto missing = rpc(0, mcu::mcuCall("participant.remove", credentials(0),
                                     {{"conferenceName", "Meeting 3"}, {"participantName", "nobody"}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(rpc(0, mcu::mcuCall("participant.remove", credentials(0),
                                  {{"conferenceName", "Meeting 3"}, {"participantName", "alice"}})).ok());
  ASSERT_TRUE(rpc(0, mcu::mcuCall("conference.destroy", credentials(0), {{"conferenceName", "Meeting 3"}})).ok());
  EXPECT_EQ(fleet_->conferences(0)->size(), 11u);
  auto unknown = rpc(0, mcu::mcuCall("frobnicate", credentials(0)));
  EXPECT_FALSE(unknown.ok());

  ASSERT_TRUE(waitFor([&] {
    for (const std::string& body : receiver.collector.bodies()) {
      auto n = mcu::decodeEventNotification(body);
      if (n.ok() && n->source_identifier == "atrium-test" &&
          std::find(n->events.begin(), n->events.end(), "participantJoined") != n->events.end()) {
        return true;
      }
    }
    return false;
  }));
  ASSERT_TRUE(fleet_->reboot(0).ok());
  ASSERT_TRUE(waitFor([&] {
    for (const std::string& body : receiver.collector.bodies()) {
      auto n = mcu::decodeEventNotification(body);
      if (n.ok() && std::find(n->events.begin(), n->events.end(), "restart") != n->events.end()) return true;
    }
    return false;
  }));
}

TEST_F(SimFleetTest, PolycomRestSessionSystemConfigAndCalls) {
  startFleet(randomOptions(0, 0, 1, 0));
  const auto& s = sys(0);
  auto refused = client_.request("POST", s.address, s.http_port, "/rest/session",
                                 R"({"action":"Login","user":"admin","password":"wrong"})");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 401u);
  auto no_session = client_.request("GET", s.address, s.http_port, "/rest/system");
  EXPECT_EQ(no_session->status, 401u);

  nlohmann::json login{{"action", "Login"}, {"user", s.username}, {"password", s.password}};
  auto session = client_.request("POST", s.address, s.http_port, "/rest/session", login.dump());
  ASSERT_TRUE(session.ok());
  ASSERT_EQ(session->status, 200u);
  const std::string cookie = net::cookiesFrom(*session);
  ASSERT_EQ(cookie.rfind("session_id=", 0), 0u) << cookie;
  const net::Headers with_cookie{{"Cookie", cookie}};
  const auto get = [&](const std::string& target) {
    auto r = client_.request("GET", s.address, s.http_port, target, {}, with_cookie);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200u) << target;
    return nlohmann::json::parse(r->body);
  };
  auto system = get("/rest/system");
  EXPECT_EQ(system["serialNumber"], s.serial_number);
  EXPECT_EQ(system["model"], s.model);
  EXPECT_EQ(system["systemName"], s.name);
  EXPECT_EQ(get("/rest/system/status")["state"], "READY");

  auto set = client_.request("POST", s.address, s.http_port, "/rest/config",
                             R"({"systemName":"Lobby","h323Extension":"4400"})", with_cookie);
  ASSERT_EQ(set->status, 200u);
  EXPECT_EQ(get("/rest/config")["systemName"], "Lobby");
  EXPECT_EQ(fleet_->settings(0)->system_name, "Lobby");
  EXPECT_EQ(fleet_->settings(0)->e164_alias, "4400");

  auto dial = client_.request("POST", s.address, s.http_port, "/rest/conferences",
                              R"({"address":"carol@example.com","rate":1024})", with_cookie);
  ASSERT_EQ(dial->status, 200u) << dial->body;
  const int id = nlohmann::json::parse(dial->body)["id"];
  ASSERT_TRUE(waitFor([&] { return get("/rest/conferences")[0]["state"] == "CONNECTED"; }));
  EXPECT_EQ(get("/rest/conferences")[0]["connections"][0]["address"], "carol@example.com");
  auto hangup = client_.request("POST", s.address, s.http_port, "/rest/conferences/" + std::to_string(id),
                                R"({"action":"hangup"})", with_cookie);
  EXPECT_EQ(hangup->status, 204u);
  EXPECT_TRUE(get("/rest/conferences").empty());

  ASSERT_TRUE(fleet_->incomingCall(0, "dave@example.com").ok());
  auto list = get("/rest/conferences");
  ASSERT_EQ(list.size(), 1u);
  auto deleted = client_.request("DELETE", s.address, s.http_port,
                                 "/rest/conferences/" + std::to_string(list[0]["id"].get<int>()), {}, with_cookie);
  EXPECT_EQ(deleted->status, 204u);
  EXPECT_TRUE(fleet_->status(0)->calls.empty());
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[512];
  while (std::fgets(buf, sizeof(buf), pipe) != nullptr) out += buf;
  ::pclose(pipe);
  return out;
}

TEST_F(SimFleetTest, SnmpAgentsAnswerSnmpgetAndTrapsComeFromEachSystemsAddress) {
  std::mutex mu;
  std::vector<ingest::SnmpTrap> traps;
  ingest::TrapReceiver receiver({"127.0.0.1", 0, {"public"}}, [&](const ingest::SnmpTrap& t) {
    std::lock_guard lock(mu);
    traps.push_back(t);
    return okStatus();
  });
  auto port = receiver.start();
  ASSERT_TRUE(port.ok()) << port.error().message;
  FleetOptions options = randomOptions(1, 0, 1, 2);
  options.trap_target = "127.0.0.1:" + std::to_string(*port);
  startFleet(options);

  const auto& s = sys(2);
  const std::string target = s.address + ":" + std::to_string(s.snmp_port);
  const std::string out = run("snmpget -v2c -c public -t 2 -r 1 -Oqv " + target +
                              " 1.3.6.1.2.1.1.5.0 1.3.6.1.2.1.2.1.0 1.3.6.1.2.1.2.2.1.8.1 2>&1");
  EXPECT_NE(out.find(s.name), std::string::npos) << out;
  const std::string walk = run("snmpwalk -v2c -c public -t 2 -r 1 -On " + target + " 1.3.6.1.2.1.1 2>&1");
  EXPECT_NE(walk.find(".1.3.6.1.2.1.1.3.0 = Timeticks"), std::string::npos) << walk;
  const std::string v1 = run("snmpget -v1 -c public -t 2 -r 1 -Oqv " + target + " 1.3.6.1.2.1.1.1.0 2>&1");
  EXPECT_NE(v1.find(s.model), std::string::npos) << v1;
  const std::string wrong = run("snmpget -v2c -c private -t 1 -r 0 " + target + " 1.3.6.1.2.1.1.5.0 2>&1");
  EXPECT_NE(wrong.find("Timeout"), std::string::npos) << wrong;

  ASSERT_TRUE(fleet_->sendTrap(2, "1.3.6.1.6.3.1.1.5.3").ok());  // linkDown
  ASSERT_TRUE(fleet_->reboot(3).ok());                          // coldStart
  ASSERT_TRUE(fleet_->dial(1, "erin@example.com").ok());         // Polycom callUp
  ASSERT_TRUE(waitFor([&] {
    std::lock_guard lock(mu);
    return traps.size() >= 3;
  }));
  std::lock_guard lock(mu);
  std::map<std::string, std::string> source_by_oid;
  for (const auto& t : traps) source_by_oid[t.trap_oid] = t.source_address;
  EXPECT_EQ(source_by_oid["1.3.6.1.6.3.1.1.5.3"], sys(2).address);
  EXPECT_EQ(source_by_oid["1.3.6.1.6.3.1.1.5.1"], sys(3).address);
  EXPECT_EQ(source_by_oid["1.3.6.1.4.1.2684.1.1.0.4"], sys(1).address);
  const std::string after = run("snmpget -v2c -c public -t 2 -r 1 -Oqv " + target + " 1.3.6.1.2.1.2.2.1.8.1 2>&1");
  EXPECT_NE(after.find("2"), std::string::npos) << after;  // linkDown set ifOperStatus down
}

TEST_F(SimFleetTest, FaultsUnreachableSlowWrongCredentialsMalformed) {
  startFleet(randomOptions(1, 1, 1, 1));
  // unreachable: refused, then back
  ASSERT_TRUE(fleet_->setFault(0, Fault::kUnreachable).ok());
  EXPECT_FALSE(xapiRequest(0, "GET", "/status.xml").ok());
  const std::string target = sys(3).address + ":" + std::to_string(sys(3).snmp_port);
  ASSERT_TRUE(fleet_->setFault(3, Fault::kUnreachable).ok());
  EXPECT_NE(run("snmpget -v2c -c public -t 1 -r 0 " + target + " 1.3.6.1.2.1.1.5.0 2>&1").find("Timeout"), std::string::npos);
  ASSERT_TRUE(fleet_->setFault(0, Fault::kNone).ok());
  ASSERT_TRUE(fleet_->setFault(3, Fault::kNone).ok());
  EXPECT_EQ(xapiRequest(0, "GET", "/status.xml")->status, 200u);

  // slow
  ASSERT_TRUE(fleet_->setFault(0, Fault::kSlow, 600ms).ok());
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(xapiRequest(0, "GET", "/status.xml")->status, 200u);
  EXPECT_GE(std::chrono::steady_clock::now() - before, 550ms);
  auto timed_out = client_.request("GET", sys(0).address, sys(0).http_port, "/status.xml", {},
                                   {{"Authorization", net::basicAuthorization(sys(0).username, sys(0).password)}}, 200ms);
  EXPECT_FALSE(timed_out.ok());

  // wrong credentials, every family
  ASSERT_TRUE(fleet_->setFault(0, Fault::kWrongCredentials).ok());
  ASSERT_TRUE(fleet_->setFault(1, Fault::kWrongCredentials).ok());
  ASSERT_TRUE(fleet_->setFault(2, Fault::kWrongCredentials).ok());
  EXPECT_EQ(xapiRequest(0, "GET", "/status.xml")->status, 401u);
  auto rpc_refused = rpc(1, mcu::mcuCall("device.query", credentials(1)));
  ASSERT_FALSE(rpc_refused.ok());
  EXPECT_EQ(rpc_refused.error().code, ErrorCode::kUnauthorized);
  nlohmann::json login{{"action", "Login"}, {"user", sys(2).username}, {"password", sys(2).password}};
  EXPECT_EQ(client_.request("POST", sys(2).address, sys(2).http_port, "/rest/session", login.dump())->status, 401u);

  // malformed
  ASSERT_TRUE(fleet_->setFault(0, Fault::kMalformed).ok());
  ASSERT_TRUE(fleet_->setFault(1, Fault::kMalformed).ok());
  ASSERT_TRUE(fleet_->setFault(2, Fault::kMalformed).ok());
  auto broken = xapiRequest(0, "GET", "/status.xml");
  ASSERT_TRUE(broken.ok());
  EXPECT_FALSE(xapi::parseStatusXml(broken->body).ok());
  EXPECT_FALSE(rpc(1, mcu::mcuCall("device.query", credentials(1))).ok());
  auto session = client_.request("POST", sys(2).address, sys(2).http_port, "/rest/session", login.dump());
  ASSERT_TRUE(session.ok());
  EXPECT_TRUE(nlohmann::json::parse(session->body, nullptr, false).is_discarded()) << session->body;

  EXPECT_FALSE(parseFault("sideways").ok());
  EXPECT_EQ(*parseFault("wrong-credentials"), Fault::kWrongCredentials);
}

}  // namespace
}  // namespace atrium::sim
