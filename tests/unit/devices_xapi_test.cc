// Cisco xAPI documents: status.xml, configuration.xml, getxml, errors sent with HTTP 200, putxml.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "devices/cisco_xapi/configuration_document.h"
#include "devices/cisco_xapi/document_builder.h"
#include "devices/cisco_xapi/putxml.h"
#include "devices/cisco_xapi/status_document.h"
#include "devices/cisco_xapi/xapi_tree.h"

namespace atrium::devices::cisco_xapi {
namespace {

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string fixture(std::string_view name) {
  auto path = std::filesystem::path(ATRIUM_SOURCE_DIR) / "tests/fixtures/cisco_xapi" / name;
  std::string text = readFile(path);
  EXPECT_FALSE(text.empty()) << "missing fixture " << path;
  return text;
}

// The captured SX20 documents live beside the project (../shared/fixtures), never in it.
std::string sharedFixture(std::string_view name) {
  auto path =
      std::filesystem::path(ATRIUM_SOURCE_DIR) / ".." / "shared" / "fixtures" / "cisco" / name;
  if (!std::filesystem::exists(path)) {
    ADD_FAILURE() << "shared fixture " << path
                  << " is missing: the real-device documents must be checked out beside the "
                     "project as ../shared/fixtures (they are in CI)";
    return {};
  }
  return readFile(path);
}

TEST(XapiStatusTest, RealSx20StatusParses) {
  std::string body = sharedFixture("sx20-status.xml");
  ASSERT_FALSE(body.empty());
  ASSERT_NE(body.find("\r\n"), std::string::npos);  // CRLF as captured
  auto status = parseStatusXml(body);
  ASSERT_TRUE(status.ok()) << status.error().message;
  const SystemIdentity& id = status->identity;
  EXPECT_EQ(id.product, "Cisco TelePresence SX20");
  EXPECT_EQ(id.product_type, "Cisco Codec");
  EXPECT_EQ(id.software_version, "ce9.1.4.3ae3106");
  EXPECT_EQ(id.serial_number, "FTT181900JJ");
  EXPECT_EQ(id.mac_address, "E4:C7:22:66:9D:C2");
  EXPECT_EQ(id.ipv4_address, "172.31.254.109");
  EXPECT_EQ(id.ipv6_address, "fd00::c79a:e4d9:65f8:1dbd");
  EXPECT_EQ(id.system_name, "NH-SX20");
  EXPECT_EQ(id.sip_uri, "NH-SX20@nh.vnoc1.com");

  ASSERT_EQ(status->calls.size(), 1u);
  const CallInfo& call = status->calls[0];
  EXPECT_EQ(call.call_id, "26");
  EXPECT_EQ(call.state, CallState::kConnected);
  EXPECT_EQ(call.direction, CallDirection::kIncoming);
  EXPECT_EQ(call.protocol, "SIP");
  EXPECT_EQ(call.remote_number, "6251234567@vnoc1.com");
  EXPECT_EQ(call.display_name, "OdellQA (Pexip VMR Med).340@nh.vnoc1.com");
  EXPECT_EQ(call.rate_kbps, 3381);
  EXPECT_EQ(call.duration, std::chrono::seconds(25195));

  EXPECT_EQ(status->muted, std::optional<bool>(true));
  EXPECT_EQ(status->h323.state, RegistrationState::kRegistered);
  EXPECT_EQ(status->h323.server, "172.31.254.64");
  EXPECT_EQ(status->sip.state, RegistrationState::kRegistered);
  EXPECT_EQ(status->sip.uri, "NH-SX20@nh.vnoc1.com");
  EXPECT_EQ(status->sip.server, "172.31.254.64");
  EXPECT_EQ(status->uptime, std::chrono::seconds(344379));

  ASSERT_EQ(status->feedback_slots.size(), 1u);
  const FeedbackSlot& slot = status->feedback_slots[0];
  EXPECT_EQ(slot.slot, 3);
  EXPECT_EQ(slot.url, "https://172.31.11.70/tms/public/feedback/code.aspx");
  EXPECT_EQ(slot.format, "XML");
  ASSERT_EQ(slot.expressions.size(), 8u);
  EXPECT_EQ(slot.expressions[0], "/Status/Call[Status='Connected']");
  EXPECT_EQ(slot.expressions[4], "/Event/CallSuccessful");
  EXPECT_EQ(slot.expressions[6], "/Event/CallDisconnect");
  EXPECT_EQ(slot.expressions[7], "/Status/Provisioning/Software/UpgradeStatus");
}

TEST(XapiConfigurationTest, RealSx20ConfigurationParses) {
  std::string body = sharedFixture("sx20-configuration.xml");
  ASSERT_FALSE(body.empty());
  auto config = parseConfigurationXml(body);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->product_type, "Cisco Codec");
  EXPECT_EQ(config->software_version, "ce9.1.4.3ae3106");
  EXPECT_EQ(config->system_name, "NH-SX20");
  EXPECT_EQ(config->h323_id, "NH-SX20@nh.vnoc1.com");
  EXPECT_EQ(config->e164, "7771991010");
  EXPECT_EQ(config->sip_uri, "NH-SX20@nh.vnoc1.com");
  EXPECT_EQ(config->provisioning_mode, "TMS");
  EXPECT_EQ(config->external_manager_address, "172.31.11.70");
  EXPECT_EQ(config->external_manager_path,
            "tms/public/external/management/systemmanagementservice.asmx");
  EXPECT_EQ(config->external_manager_protocol, "HTTPS");
  EXPECT_EQ(config->values.at("NetworkServices/SNMP/SystemContact"), "admin@example.com");
  EXPECT_EQ(config->values.at("SIP/Proxy[1]/Address"), "172.31.254.64");
  EXPECT_EQ(config->value("Network/IPv4/Address"), "172.31.254.109");
  EXPECT_EQ(config->values.at("Phonebook/Server[1]/URL"),
            "https://172.31.11.70/tms/public/external/phonebook/phonebookservice.asmx");
  EXPECT_GT(config->values.size(), 200u);

  SystemIdentity id;
  config->applyTo(id);
  EXPECT_EQ(id.system_name, "NH-SX20");
  EXPECT_EQ(id.e164, "7771991010");
}

TEST(XapiStatusTest, NamespacedTcStatusParses) {
  auto status = parseStatusXml(fixture("tc-status.xml"));
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->identity.product, "Cisco TelePresence Codec C60");
  EXPECT_EQ(status->identity.software_version, "TC5.1.3.292001");
  EXPECT_EQ(status->identity.serial_number, "B1AC00A00012");
  EXPECT_EQ(status->identity.system_name, "C60 Lab");
  EXPECT_EQ(status->identity.mac_address, "00:50:60:0A:1B:2C");
  ASSERT_EQ(status->calls.size(), 1u);
  EXPECT_EQ(status->calls[0].call_id, "7");
  EXPECT_EQ(status->calls[0].direction, CallDirection::kOutgoing);
  EXPECT_EQ(status->calls[0].rate_kbps, 1920);
  EXPECT_EQ(status->muted, std::optional<bool>(false));
  EXPECT_EQ(status->h323.state, RegistrationState::kRegistered);
  EXPECT_EQ(status->sip.state, RegistrationState::kFailed);
  EXPECT_EQ(status->sip.reason, "404 Not Found");
  EXPECT_EQ(status->sip.uri, "c60-lab@corp.example.net");
}

TEST(XapiStatusTest, IdleCeStatusHasDisabledH323AndNoCalls) {
  auto status = parseStatusXml(fixture("ce-status-idle.xml"));
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(status->calls.empty());
  EXPECT_EQ(status->h323.state, RegistrationState::kDisabled);
  EXPECT_EQ(status->sip.state, RegistrationState::kRegistered);
  ASSERT_EQ(status->feedback_slots.size(), 1u);
  EXPECT_EQ(status->feedback_slots[0].expressions.size(), 2u);
}

TEST(XapiConfigurationTest, NamespacedTcConfigurationUsesProfiles) {
  auto config = parseConfigurationXml(fixture("tc-configuration.xml"));
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->system_name, "C60 Lab");
  EXPECT_EQ(config->h323_id, "c60-lab@corp.example.net");
  EXPECT_EQ(config->e164, "4471003");
  EXPECT_EQ(config->sip_uri, "c60-lab@corp.example.net");
  EXPECT_EQ(config->external_manager_address, "tms.corp.example.net");
  EXPECT_EQ(config->external_manager_protocol, "HTTP");
}

TEST(XapiReplyTest, ErrorsSentWithHttp200AreErrors) {
  auto missing = parseGetxml(fixture("error-getxml-no-match.xml"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("No match on address expression"), std::string::npos);
  EXPECT_NE(missing.error().message.find("/Status/Frobnicator"), std::string::npos);

  auto dial = parseCommandResult(fixture("error-dial-parameter.xml"));
  ASSERT_FALSE(dial.ok());
  EXPECT_EQ(dial.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(dial.error().message.find("ParameterError"), std::string::npos);
  EXPECT_EQ(dial.error().field, "Number");

  auto config = parseCommandResult(fixture("error-configuration.xml"));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("Illegal value"), std::string::npos);

  auto bare = parseCommandResult("<Command><ParameterError/></Command>");
  ASSERT_FALSE(bare.ok());

  // A status document is not an error just because it has <Reason> elements.
  auto status = parseStatusXml(fixture("ce-status-idle.xml"));
  EXPECT_TRUE(status.ok());
  // An error reply where a status document was expected.
  auto wrong = parseStatusXml(fixture("error-getxml-no-match.xml"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kNotFound);
}

TEST(XapiReplyTest, WrongRootAndMalformedXmlAreErrors) {
  auto config = parseStatusXml(fixture("tc-configuration.xml"));
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("expected a <Status>"), std::string::npos);
  auto broken = parseStatusXml("<Status><Call item=\"1\"></Status>");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("not well-formed"), std::string::npos);
  EXPECT_FALSE(parseStatusXml("").ok());
  EXPECT_FALSE(parseConfigurationXml("plain text").ok());
}

TEST(XapiGetxmlTest, AnySubtree) {
  auto tree = parseGetxml(
      "<Status product=\"Cisco Codec\"><SystemUnit><Uptime>12</Uptime><Software>"
      "<Version>ce9.1.4</Version></Software></SystemUnit></Status>");
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  EXPECT_EQ(tree->root, "Status");
  EXPECT_EQ(tree->value("SystemUnit/Software/Version"), "ce9.1.4");
  EXPECT_EQ(tree->under("SystemUnit/Software").size(), 1u);
  EXPECT_EQ(tree->under("SystemUnit").size(), 2u);
}

TEST(XapiGetxmlTest, GetxmlStatusSubtreeFeedsTheStatusParser) {
  auto status = parseStatusXml(
      "<Status version=\"ce9.2.1\"><SIP><Registration item=\"1\"><Status>Registering</Status>"
      "</Registration></SIP></Status>");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->sip.state, RegistrationState::kRegistering);
  EXPECT_EQ(status->identity.software_version, "ce9.2.1");
  EXPECT_TRUE(status->calls.empty());
  EXPECT_FALSE(status->muted.has_value());
}

TEST(XapiPutxmlTest, ConfigurationBody) {
  auto body = buildConfigurationPutxml({{"SystemUnit/Name", "Room <31> & Co"},
                                        {"H323/H323Alias/ID", "room31@example.org"},
                                        {"H323/H323Alias/E164", "4471031"},
                                        {"SIP/Proxy[1]/Address", "192.0.2.10"}});
  ASSERT_TRUE(body.ok()) << body.error().message;
  EXPECT_EQ(*body,
            "<Configuration><SystemUnit><Name>Room &lt;31&gt; &amp; Co</Name></SystemUnit>"
            "<H323><H323Alias><ID>room31@example.org</ID><E164>4471031</E164></H323Alias></H323>"
            "<SIP><Proxy item=\"1\"><Address>192.0.2.10</Address></Proxy></SIP></Configuration>");
  EXPECT_FALSE(buildConfigurationPutxml({{"System Unit/Name", "x"}}).ok());
  EXPECT_FALSE(buildConfigurationPutxml({{"SystemUnit/Name", std::string("a\x01", 2)}}).ok());
  EXPECT_FALSE(buildConfigurationPutxml({}).ok());
}

TEST(XapiPutxmlTest, CommandBodies) {
  EXPECT_EQ(*dialCommand("sip:vmr@example.org", "Sip", 1920),
            "<Command><Dial command=\"True\"><Number>sip:vmr@example.org</Number>"
            "<Protocol>Sip</Protocol><CallRate>1920</CallRate></Dial></Command>");
  EXPECT_EQ(*callDisconnectCommand("12"),
            "<Command><Call><Disconnect command=\"True\"><CallId>12</CallId></Disconnect></Call>"
            "</Command>");
  FeedbackSlot slot{3,
                    "https://atrium.example.org/feedback/abc",
                    {"/Event/CallSuccessful", "/Status/Call[Status='Connected']"},
                    "XML",
                    ""};
  EXPECT_EQ(*httpFeedbackRegisterCommand(slot),
            "<Command><HttpFeedback><Register command=\"True\"><FeedbackSlot>3</FeedbackSlot>"
            "<ServerUrl>https://atrium.example.org/feedback/abc</ServerUrl><Format>XML</Format>"
            "<Expression item=\"1\">/Event/CallSuccessful</Expression>"
            "<Expression item=\"2\">/Status/Call[Status='Connected']</Expression>"
            "</Register></HttpFeedback></Command>");
  EXPECT_EQ(*httpFeedbackDeregisterCommand(3),
            "<Command><HttpFeedback><Deregister command=\"True\"><FeedbackSlot>3</FeedbackSlot>"
            "</Deregister></HttpFeedback></Command>");
  EXPECT_EQ(*systemUnitBootCommand(),
            "<Command><SystemUnit><Boot command=\"True\"/></SystemUnit></Command>");
  EXPECT_FALSE(dialCommand("").ok());
  EXPECT_FALSE(httpFeedbackRegisterCommand(FeedbackSlot{}).ok());
  EXPECT_FALSE(buildCommandPutxml("Dial<", {}).ok());
  EXPECT_FALSE(buildCommandPutxml("Dial", {{"Num ber", "1"}}).ok());
}

TEST(XapiPutxmlTest, CommandResults) {
  auto ok = parseCommandResult(fixture("dial-result-ok.xml"));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->name, "DialResult");
  EXPECT_EQ(ok->status, "OK");
  EXPECT_EQ(ok->value("CallId"), "4");
  auto empty = parseCommandResult("<Configuration/>");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->status, "OK");
}

DeviceStatus sampleStatus() {
  DeviceStatus s;
  s.identity.system_name = "Sim Room 7";
  s.identity.product = "Cisco Webex Room Kit";
  s.identity.product_type = "Cisco Codec";
  s.identity.software_version = "ce9.15.3.17e5d6e6f1d";
  s.identity.serial_number = "SIM0000007";
  s.identity.mac_address = "02:00:00:00:00:07";
  s.identity.ipv4_address = "127.0.0.7";
  s.identity.ipv6_address = "::1";
  s.identity.sip_uri = "room7@sim.example.org";
  s.calls.push_back(CallInfo{"41", CallDirection::kOutgoing, "vmr-7@sim.example.org",
                             "VMR <7> & friends", "SIP", 1920, CallState::kConnected,
                             std::chrono::seconds(75)});
  s.calls.push_back(CallInfo{"42", CallDirection::kIncoming, "5550100", "Audio dial-in", "H323", 64,
                             CallState::kRinging, std::chrono::seconds(0)});
  s.muted = true;
  s.h323 = Registration{RegistrationState::kRegistered, "Registered", "", "127.0.0.2", ""};
  s.sip = Registration{RegistrationState::kRegistered, "Registered", "", "127.0.0.3",
                       "room7@sim.example.org"};
  s.feedback_slots.push_back(
      FeedbackSlot{2,
                   "http://127.0.0.1:8080/feedback/x?y=1&z=2",
                   {"/Status/Call[Status='Connected']", "/Event/CallDisconnect"},
                   "XML",
                   "OK"});
  s.uptime = std::chrono::seconds(3600);
  return s;
}

TEST(XapiBuilderTest, StatusRoundTrips) {
  DeviceStatus s = sampleStatus();
  auto parsed = parseStatusXml(buildStatusXml(s));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, s);

  DocumentStyle tc;
  tc.xmlns = "http://www.tandberg.com/XML/CUIL/2.0";
  std::string namespaced = buildStatusXml(s, tc);
  EXPECT_NE(namespaced.find("xmlns="), std::string::npos);
  auto parsed_tc = parseStatusXml(namespaced);
  ASSERT_TRUE(parsed_tc.ok());
  EXPECT_EQ(*parsed_tc, s);

  DeviceStatus idle;
  idle.identity.product = "Cisco TelePresence SX20";
  idle.h323.state = RegistrationState::kDisabled;
  idle.h323.status = "Disabled";
  auto parsed_idle = parseStatusXml(buildStatusXml(idle));
  ASSERT_TRUE(parsed_idle.ok());
  EXPECT_EQ(parsed_idle->h323.state, RegistrationState::kDisabled);
  EXPECT_FALSE(parsed_idle->muted.has_value());
  EXPECT_TRUE(parsed_idle->calls.empty());
}

TEST(XapiBuilderTest, ConfigurationRoundTrips) {
  SystemIdentity id = sampleStatus().identity;
  id.h323_id = "room7@sim.example.org";
  id.e164 = "5550107";
  auto values = defaultConfiguration(id);
  values["Provisioning/ExternalManager/Address"] = "atrium.example.org";
  values["Provisioning/ExternalManager/Path"] = "api/v1/tms";
  values["SIP/Proxy[1]/Address"] = "127.0.0.3";
  auto body = buildConfigurationXml(values, id);
  ASSERT_TRUE(body.ok()) << body.error().message;
  auto parsed = parseConfigurationXml(*body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->values, values);
  EXPECT_EQ(parsed->system_name, "Sim Room 7");
  EXPECT_EQ(parsed->h323_id, "room7@sim.example.org");
  EXPECT_EQ(parsed->e164, "5550107");
  EXPECT_EQ(parsed->sip_uri, "room7@sim.example.org");
  EXPECT_EQ(parsed->external_manager_address, "atrium.example.org");
  EXPECT_EQ(parsed->software_version, id.software_version);
}

}  // namespace
}  // namespace atrium::devices::cisco_xapi

namespace atrium::devices::cisco_xapi {
namespace {

TEST(XapiPutxmlTest, SimulatorReadsWhatTheDriverSends) {
  FeedbackSlot slot{
      2, "https://atrium.example.org/fb/k", {"/Event/CallDisconnect", "/Status/SIP"}, "XML", ""};
  auto request = parsePutxmlRequest(*httpFeedbackRegisterCommand(slot));
  ASSERT_TRUE(request.ok()) << request.error().message;
  ASSERT_TRUE(request->isCommand());
  EXPECT_EQ(request->command, "HttpFeedback Register");
  ASSERT_EQ(request->arguments.size(), 5u);
  EXPECT_EQ(request->arguments[0].name, "FeedbackSlot");
  EXPECT_EQ(request->arguments[3].value, "/Event/CallDisconnect");
  EXPECT_EQ(request->arguments[4].value, "/Status/SIP");

  auto boot = parsePutxmlRequest(*systemUnitBootCommand());
  ASSERT_TRUE(boot.ok());
  EXPECT_EQ(boot->command, "SystemUnit Boot");
  EXPECT_TRUE(boot->arguments.empty());

  auto settings = parsePutxmlRequest(*buildConfigurationPutxml({{"SystemUnit/Name", "R"}}));
  ASSERT_TRUE(settings.ok());
  EXPECT_FALSE(settings->isCommand());
  EXPECT_EQ(settings->settings, (std::vector<PathValue>{{"SystemUnit/Name", "R"}}));

  EXPECT_FALSE(parsePutxmlRequest("<Command><Dial/></Command>").ok());
  EXPECT_FALSE(parsePutxmlRequest("<Status/>").ok());

  auto answer = buildCommandResult("DialResult", "OK", {{"CallId", "9"}});
  ASSERT_TRUE(answer.ok());
  auto read = parseCommandResult(*answer);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->value("CallId"), "9");
  auto refused = buildCommandResult("DialResult", "Error", {{"Reason", "Busy"}});
  ASSERT_TRUE(refused.ok());
  auto refusal = parseCommandResult(*refused);
  ASSERT_FALSE(refusal.ok());
  EXPECT_NE(refusal.error().message.find("Busy"), std::string::npos);
}

}  // namespace
}  // namespace atrium::devices::cisco_xapi
