// XML-RPC codec and the Cisco MCU / TelePresence Server API shape.
#include <gtest/gtest.h>

#include "devices/cisco_mcu/mcu_api.h"
#include "devices/cisco_mcu/xmlrpc.h"

namespace atrium::devices::cisco_mcu {
namespace {

XmlRpcValue everyType() {
  XmlRpcValue v;
  v.set("int", std::int32_t{-42});
  v.set("max", std::int32_t{2147483647});
  v.set("yes", true);
  v.set("no", false);
  v.set("text", "Board room <A> & \"B\" — ünïcode");
  v.set("blank", "   ");
  v.set("empty", "");
  v.set("pi", 3.141592653589793);
  v.set("tiny", 1e-7);
  v.set("when", XmlRpcDateTime{"20240105T10:00:00"});
  v.set("blob", XmlRpcBase64{std::string("\x00\x01\xfe\xffxyz", 7)});
  v.set("nothing", XmlRpcValue());
  v.set("list", XmlRpcArray{1, "two", XmlRpcArray{}, XmlRpcStruct{}});
  return v;
}

TEST(XmlRpcTest, CallRoundTrip) {
  MethodCall call{"conference.create", {everyType(), std::int32_t{7}}};
  std::string body = encodeMethodCall(call);
  EXPECT_EQ(body.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall>", 0), 0u);
  auto decoded = decodeMethodCall(body);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->method, "conference.create");
  ASSERT_EQ(decoded->params.size(), 2u);
  EXPECT_EQ(decoded->params[0], call.params[0]);
  EXPECT_EQ(decoded->params[1], call.params[1]);
}

TEST(XmlRpcTest, ResponseRoundTrip) {
  auto decoded = decodeMethodResult(encodeMethodResponse(everyType()));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, everyType());
}

TEST(XmlRpcTest, DecodesHandWrittenForms) {
  auto decoded = decodeMethodResult(R"(<?xml version="1.0"?>
<methodResponse>
  <params>
    <param>
      <value>
        <struct>
          <member><name>a</name><value><i4>+17</i4></value></member>
          <member><name>b</name><value>untyped text</value></member>
          <member><name>c</name><value><boolean>1</boolean></value></member>
          <member><name>d</name><value><double>-0.5</double></value></member>
          <member><name>e</name><value><base64>aGVs
            bG8=</base64></value></member>
          <member><name>f</name><value><string> padded </string></value></member>
          <member><name>g</name><value><array><data/></array></value></member>
        </struct>
      </value>
    </param>
  </params>
</methodResponse>)");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->member("a")->asInt(), 17);
  EXPECT_EQ(*decoded->member("b")->asString(), "untyped text");
  EXPECT_EQ(decoded->member("c")->asBool(), true);
  EXPECT_EQ(decoded->member("d")->asDouble(), -0.5);
  EXPECT_EQ(decoded->member("e")->asBase64()->bytes, "hello");
  EXPECT_EQ(*decoded->member("f")->asString(), " padded ");
  EXPECT_TRUE(decoded->member("g")->asArray()->empty());
  EXPECT_EQ(decoded->member("zz"), nullptr);
}

TEST(XmlRpcTest, FaultsBecomeClearErrors) {
  std::string body = encodeFault({4, "no such conference"});
  auto response = decodeMethodResponse(body);
  ASSERT_TRUE(response.ok()) << response.error().message;
  ASSERT_TRUE(response->fault.has_value());
  EXPECT_EQ(response->fault->code, 4);
  EXPECT_EQ(response->fault->message, "no such conference");

  auto result = decodeMethodResult(body);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(result.error().message,
            "XML-RPC fault 4 (no such conference or auto attendant): no such conference");

  EXPECT_EQ(faultToError({34, "Authentication failure"}).code, ErrorCode::kUnauthorized);
  EXPECT_EQ(faultToError({2, "duplicate"}).code, ErrorCode::kConflict);
  EXPECT_EQ(faultToError({15, "nope"}).code, ErrorCode::kForbidden);
  EXPECT_EQ(faultToError({102, "bad"}).code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(faultToError({999, "odd"}).code, ErrorCode::kInternal);

  auto bad_fault = decodeMethodResult(
      "<methodResponse><fault><value><struct><member><name>faultCode</name><value>"
      "<string>x</string></value></member></struct></value></fault></methodResponse>");
  ASSERT_FALSE(bad_fault.ok());
  EXPECT_EQ(bad_fault.error().code, ErrorCode::kInvalidArgument);
}

TEST(XmlRpcTest, MalformedInputIsRejected) {
  const char* cases[] = {
      "",
      "not xml",
      "<methodResponse>",
      "<methodCall><params/></methodCall>",
      "<methodResponse><params/></methodResponse>",
      "<methodResponse><params><param><value><int>12x</int></value></param></params></"
      "methodResponse>",
      "<methodResponse><params><param><value><int>99999999999</int></value></param></params></"
      "methodResponse>",
      "<methodResponse><params><param><value><boolean>2</boolean></value></param></params></"
      "methodResponse>",
      "<methodResponse><params><param><value><double>nan</double></value></param></params></"
      "methodResponse>",
      "<methodResponse><params><param><value><base64>a$==</base64></value></param></params></"
      "methodResponse>",
      "<methodResponse><params><param><value><int>1</int><int>2</int></value></param></params></"
      "methodResponse>",
      "<methodResponse><params><param><value><frob>1</frob></value></param></params></"
      "methodResponse>",
      "<methodResponse><params><param><value><struct><member><name>a</name></member></struct></"
      "value></param></params></methodResponse>",
      "<methodResponse><params><param><value><array><value/></array></value></param></params></"
      "methodResponse>",
      "<methodResponse><params><param><value>1</value></param><param><value>2</value></param></"
      "params></methodResponse>",
      "<methodResponse><params><param><value><int><b/></int></value></param></params></"
      "methodResponse>",
  };
  for (const char* body : cases) {
    auto decoded = decodeMethodResult(body);
    EXPECT_FALSE(decoded.ok()) << body;
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidArgument) << body;
    }
  }
}

TEST(XmlRpcTest, HostileNestingAndSizeAreRefused) {
  std::string deep = "<methodResponse><params><param>";
  for (int i = 0; i < 40; ++i) deep += "<value><array><data>";
  for (int i = 0; i < 40; ++i) deep += "</data></array></value>";
  deep += "</param></params></methodResponse>";
  auto nested = decodeMethodResult(deep);
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().message.find("nested"), std::string::npos);

  std::string very_deep(200000, '\0');
  very_deep.clear();
  for (int i = 0; i < 100000; ++i) very_deep += "<a>";
  auto xml_nested = decodeMethodResult(very_deep);
  ASSERT_FALSE(xml_nested.ok());

  XmlRpcLimits small;
  small.xml.max_bytes = 64;
  auto large = decodeMethodResult(encodeMethodResponse(std::string(100, 'x')), small);
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.error().code, ErrorCode::kPayloadTooLarge);
}

TEST(XmlRpcTest, Base64) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto back = decodeBase64(encodeBase64(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(encodeBase64("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(decodeBase64("Zm9=v").ok());
  EXPECT_FALSE(decodeBase64("Z").ok());
}

TEST(McuApiTest, AuthenticationComesFirst) {
  MethodCall call = mcuCall("participant.add", {"admin", "s3cret"},
                            {{"conferenceName", "Weekly"},
                             {"participantName", "room-7"},
                             {"authenticationUser", "ignored"}});
  ASSERT_EQ(call.params.size(), 1u);
  const XmlRpcStruct& s = *call.params[0].asStruct();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].name, "authenticationUser");
  EXPECT_EQ(*s[0].value.asString(), "admin");
  EXPECT_EQ(s[1].name, "authenticationPassword");
  EXPECT_EQ(*s[1].value.asString(), "s3cret");
  EXPECT_EQ(s[2].name, "conferenceName");
  auto decoded = decodeMethodCall(encodeMethodCall(call));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->params[0], call.params[0]);
}

TEST(McuApiTest, EnumeratePaging) {
  MethodCall first = enumerateCall("conference.enumerate", {"admin", ""}, std::nullopt);
  EXPECT_EQ(first.params[0].member("enumerateID"), nullptr);

  XmlRpcValue page1;
  page1.set("conferences", XmlRpcArray{XmlRpcStruct{{"conferenceName", "A"}},
                                       XmlRpcStruct{{"conferenceName", "B"}}});
  page1.set("enumerateID", "page-2");
  auto p1 = parseEnumeratePage(page1, "conferences");
  ASSERT_TRUE(p1.ok()) << p1.error().message;
  EXPECT_EQ(p1->items.size(), 2u);
  ASSERT_TRUE(p1->next_enumerate_id.has_value());

  MethodCall second = enumerateCall("conference.enumerate", {"admin", ""}, p1->next_enumerate_id);
  ASSERT_NE(second.params[0].member("enumerateID"), nullptr);
  EXPECT_EQ(*second.params[0].member("enumerateID")->asString(), "page-2");

  XmlRpcValue last;
  last.set("conferences", XmlRpcArray{XmlRpcStruct{{"conferenceName", "C"}}});
  auto p2 = parseEnumeratePage(last, "conferences");
  ASSERT_TRUE(p2.ok());
  EXPECT_FALSE(p2->next_enumerate_id.has_value());

  auto none = parseEnumeratePage(XmlRpcValue(XmlRpcStruct{}), "participants");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->items.empty());

  XmlRpcValue wrong;
  wrong.set("conferences", "not a list");
  EXPECT_FALSE(parseEnumeratePage(wrong, "conferences").ok());
  EXPECT_FALSE(parseEnumeratePage(XmlRpcValue(1), "conferences").ok());
}

TEST(McuApiTest, FeedbackReceiverAndNotifications) {
  MethodCall configure =
      feedbackReceiverConfigureCall({"admin", "pw"}, "http://atrium.example.org:8080/RPC2", "mcu-1",
                                    -1, {"restart", "conferenceStarted"});
  const XmlRpcValue& p = configure.params[0];
  EXPECT_EQ(configure.method, "feedbackReceiver.configure");
  EXPECT_EQ(*p.member("receiverURI")->asString(), "http://atrium.example.org:8080/RPC2");
  EXPECT_EQ(p.member("receiverIndex")->asInt(), -1);
  EXPECT_EQ(p.member("events")->member("restart")->asBool(), true);

  XmlRpcValue params;
  params.set("sourceIdentifier", "000D7C000C66");
  params.set("events", XmlRpcArray{"restart", "participantJoined", "networkChanged"});
  std::string body = encodeMethodCall({"eventNotification", {params}});
  auto n = decodeEventNotification(body);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(n->source_identifier, "000D7C000C66");
  ASSERT_EQ(n->events.size(), 3u);

  auto events = notificationEvents(*n, "mcu-1");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, EventKind::kBoot);
  EXPECT_EQ(events[1].kind, EventKind::kStatusChanged);
  EXPECT_EQ(events[2].kind, EventKind::kOther);
  EXPECT_NE(events[0].idempotency_key, events[1].idempotency_key);
  EXPECT_EQ(events[0].idempotency_key, notificationEvents(*n, "mcu-1")[0].idempotency_key);

  auto ack = decodeMethodResult(eventNotificationAck());
  ASSERT_TRUE(ack.ok());
  EXPECT_NE(ack->asStruct(), nullptr);

  EXPECT_FALSE(decodeEventNotification(encodeMethodCall({"other.call", {params}})).ok());
  EXPECT_FALSE(decodeEventNotification(encodeMethodCall({"eventNotification", {}})).ok());
  XmlRpcValue no_events;
  no_events.set("sourceIdentifier", "x");
  EXPECT_FALSE(decodeEventNotification(encodeMethodCall({"eventNotification", {no_events}})).ok());
}

}  // namespace
}  // namespace atrium::devices::cisco_mcu
