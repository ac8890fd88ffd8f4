// Validation of request bodies and query parameters: every field, with the messages.
#include <gtest/gtest.h>

#include <string>

#include "api/folder_json.h"
#include "api/query.h"
#include "api/system_json.h"
#include "api/validation.h"

namespace atrium::api {
namespace {

constexpr const char* kUuid = "0b9f5c2e-8a3d-4f7e-9c1a-2d4e6f8a0b1c";

// Expects an invalid_argument naming `field` whose message contains `needle`.
template <typename T>
void expectInvalid(const Result<T>& r, const std::string& field, const std::string& needle) {
  ASSERT_FALSE(r.ok()) << "expected an error about " << field;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.error().field, field) << r.error().message;
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

std::string system(const std::string& extra) {
  return R"({"name":"Board Room","family":"cisco-xapi","addresses":["192.0.2.10"])" + extra + "}";
}

TEST(ApiValidationTest, AddressesOfEveryKind) {
  EXPECT_TRUE(isIpv4("192.0.2.1"));
  EXPECT_FALSE(isIpv4("192.0.2.256"));
  EXPECT_FALSE(isIpv4("192.0.2"));
  EXPECT_TRUE(isIpv6("2001:db8::1"));
  EXPECT_TRUE(isIpv6("::ffff:192.0.2.1"));
  EXPECT_FALSE(isIpv6("2001:db8:::1"));
  EXPECT_TRUE(isHostName("codec.example.com"));
  EXPECT_TRUE(isHostName("a"));
  EXPECT_TRUE(isHostName("xn--bcher-kva.example"));
  EXPECT_TRUE(isHostName(std::string(63, 'a') + ".example"));
  EXPECT_FALSE(isHostName(std::string(64, 'a') + ".example"));
  EXPECT_FALSE(isHostName("-codec.example.com"));
  EXPECT_FALSE(isHostName("codec-.example.com"));
  EXPECT_FALSE(isHostName("codec..example.com"));
  EXPECT_FALSE(isHostName("codec.example.com."));
  EXPECT_FALSE(isHostName("under_score.example"));
  EXPECT_FALSE(isHostName("192.0.2.256"));  // all-numeric last label: a bad IPv4 address
  std::string long_name;
  while (long_name.size() < 251) long_name += "abcdefghi.";
  long_name += "com";
  EXPECT_FALSE(isHostName(long_name));  // over 253

  auto v6 = normalizeAddress("[2001:db8::5]", "addresses[0]");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(*v6, "2001:db8::5");
  expectInvalid(normalizeAddress("[codec.example.com]", "addresses[0]"), "addresses",
                "addresses[0]");
  expectInvalid(normalizeAddress("not an address!", "addresses[3]"), "addresses",
                "\"addresses[3]\" (\"not an address!\") is not an IPv4 address");
}

TEST(ApiValidationTest, NamesAndText) {
  EXPECT_TRUE(validateName("Board Room", "name").ok());
  EXPECT_TRUE(validateName(std::string(255, 'x'), "name").ok());
  // 255 two-byte characters are 255 characters, not 510.
  std::string accents;
  for (int i = 0; i < 255; ++i) accents += "\xC3\xA9";
  EXPECT_TRUE(validateName(accents, "name").ok());
  expectInvalid(validateName(std::string(256, 'x'), "name"), "name", "1 to 255 characters");
  expectInvalid(validateName("", "name"), "name", "1 to 255 characters");
  expectInvalid(validateName("a\tb", "name"), "name", "control characters");
  expectInvalid(validateName("a\x7f", "name"), "name", "control characters");
  expectInvalid(validateName("a\xC2\x85", "name"), "name", "control characters");  // U+0085
  EXPECT_TRUE(validateText("", "model").ok());
  expectInvalid(validateText(std::string(256, 'm'), "model"), "model", "at most 255");
  EXPECT_TRUE(isUuid(kUuid));
  EXPECT_FALSE(isUuid("0b9f5c2e8a3d4f7e9c1a2d4e6f8a0b1c"));
}

TEST(ApiValidationTest, SystemCreateAcceptsAFullBody) {
  auto s = parseSystemCreate(
      R"({"name":"Oslo SX80","family":"cisco-xapi","model":"SX80",
          "addresses":["[2001:db8::5]","codec.example.com","192.0.2.7"],
          "folder_id":"0b9f5c2e-8a3d-4f7e-9c1a-2d4e6f8a0b1c","connectivity":"behind-firewall",
          "serial_number":"FTT1234","software_version":"ce9.15",
          "credentials":{"username":"admin","password":"pw"}})");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->name, "Oslo SX80");
  EXPECT_EQ(s->family, "cisco-xapi");
  EXPECT_EQ(s->model, "SX80");
  EXPECT_EQ(s->addresses,
            (std::vector<std::string>{"2001:db8::5", "codec.example.com", "192.0.2.7"}));
  EXPECT_EQ(s->folder_id, std::optional<std::string>(kUuid));
  EXPECT_EQ(s->connectivity, "behind-firewall");
  EXPECT_EQ(s->serial_number, std::optional<std::string>("FTT1234"));
  EXPECT_EQ(s->software_version, "ce9.15");
  EXPECT_EQ(s->username, "admin");
  EXPECT_EQ(s->password, "pw");

  auto minimal = parseSystemCreate(system(""));
  ASSERT_TRUE(minimal.ok()) << minimal.error().message;
  EXPECT_EQ(minimal->connectivity, "reachable-lan");
  EXPECT_FALSE(minimal->folder_id);
  EXPECT_FALSE(minimal->serial_number);
  EXPECT_TRUE(minimal->username.empty());
}

TEST(ApiValidationTest, SystemCreateNamesEveryBadField) {
  expectInvalid(parseSystemCreate(R"({"family":"snmp","addresses":["192.0.2.1"]})"), "name",
                "\"name\" is required");
  expectInvalid(parseSystemCreate(R"({"name":5,"family":"snmp","addresses":["192.0.2.1"]})"),
                "name", "\"name\" must be a string, not a number");
  expectInvalid(parseSystemCreate(R"({"name":"","family":"snmp","addresses":["192.0.2.1"]})"),
                "name", "1 to 255");
  expectInvalid(
      parseSystemCreate(R"({"name":"a\u0001","family":"snmp","addresses":["192.0.2.1"]})"), "name",
      "control characters");
  expectInvalid(parseSystemCreate(R"({"name":"x","family":"sony","addresses":["192.0.2.1"]})"),
                "family", "must be one of cisco-xapi, cisco-mcu, polycom, snmp (got \"sony\")");
  expectInvalid(parseSystemCreate(R"({"name":"x","addresses":["192.0.2.1"]})"), "family",
                "\"family\" is required");
  expectInvalid(parseSystemCreate(R"({"name":"x","family":"snmp"})"), "addresses",
                "\"addresses\" is required");
  expectInvalid(parseSystemCreate(R"({"name":"x","family":"snmp","addresses":[]})"), "addresses",
                "non-empty array");
  expectInvalid(parseSystemCreate(R"({"name":"x","family":"snmp","addresses":"192.0.2.1"})"),
                "addresses", "must be an array of strings, not a string");
  expectInvalid(parseSystemCreate(R"({"name":"x","family":"snmp","addresses":["192.0.2.1",7]})"),
                "addresses", "\"addresses[1]\" must be a string, not a number");
  expectInvalid(parseSystemCreate(R"({"name":"x","family":"snmp","addresses":["a_b"]})"),
                "addresses", "\"addresses[0]\" (\"a_b\") is not an IPv4 address");
  expectInvalid(
      parseSystemCreate(R"({"name":"x","family":"snmp","addresses":["192.0.2.1","192.0.2.1"]})"),
      "addresses", "more than once");
  expectInvalid(parseSystemCreate(system(R"(,"connectivity":"lan")")), "connectivity",
                "reachable-lan, reachable-public, behind-firewall, inaccessible");
  expectInvalid(parseSystemCreate(system(R"(,"folder_id":"nope")")), "folder_id", "UUID");
  expectInvalid(parseSystemCreate(system(R"(,"folder_id":3)")), "folder_id",
                "must be a string or null, not a number");
  expectInvalid(parseSystemCreate(system(R"(,"serial_number":"")")), "serial_number", "1 to 255");
  expectInvalid(parseSystemCreate(system(R"(,"model":["SX20"])")), "model",
                "must be a string, not an array");
  expectInvalid(parseSystemCreate(system(R"(,"software_version":true)")), "software_version",
                "not a boolean");
  expectInvalid(parseSystemCreate(system(R"(,"colour":"red")")), "colour",
                "unknown field \"colour\"");
  expectInvalid(parseSystemCreate(system(R"(,"status":"reachable")")), "status", "read-only");
  expectInvalid(parseSystemCreate(system(R"(,"id":"x")")), "id", "read-only");
  expectInvalid(parseSystemCreate(system(R"(,"bucket":3)")), "bucket", "read-only");
  expectInvalid(parseSystemCreate(system(R"(,"last_polled_by":"n")")), "last_polled_by",
                "read-only");
  expectInvalid(parseSystemCreate(system(R"(,"credentials":"admin:pw")")), "credentials",
                "must be an object, not a string");
  expectInvalid(parseSystemCreate(system(R"(,"credentials":{"user":"admin"})")), "credentials.user",
                "unknown field \"credentials.user\"");
  expectInvalid(parseSystemCreate(system(R"(,"credentials":{"password":1})")),
                "credentials.password", "must be a string");
}

TEST(ApiValidationTest, MalformedAndNonObjectBodies) {
  auto truncated = parseSystemCreate(R"({"name":"x", "family": )");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(truncated.error().message.find("malformed JSON"), std::string::npos);
  EXPECT_NE(truncated.error().message.find("line 1, column"), std::string::npos)
      << truncated.error().message;
  EXPECT_EQ(truncated.error().message.find("[json.exception"), std::string::npos);

  auto empty = parseSystemCreate("");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("malformed JSON"), std::string::npos);

  auto array = parseSystemCreate("[1,2,3]");
  ASSERT_FALSE(array.ok());
  EXPECT_NE(array.error().message.find("must be a JSON object, not an array"), std::string::npos);
  auto null = parseFolderCreate("null");
  ASSERT_FALSE(null.ok());
  EXPECT_NE(null.error().message.find("not null"), std::string::npos);

  // Found by fuzzing: a number beyond double's range is a parse error, not an exception.
  auto overflow = parseSystemCreate(R"({"name":4e664})");
  ASSERT_FALSE(overflow.ok());
  EXPECT_NE(overflow.error().message.find("number overflow"), std::string::npos)
      << overflow.error().message;

  auto bad_utf8 = parseSystemCreate("{\"name\":\"\xff\"}");
  ASSERT_FALSE(bad_utf8.ok());
  EXPECT_EQ(bad_utf8.error().code, ErrorCode::kInvalidArgument);
}

TEST(ApiValidationTest, SystemPatchSetsOnlyWhatIsSent) {
  auto p = parseSystemPatch(R"({"name":"Renamed"})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->name, std::optional<std::string>("Renamed"));
  EXPECT_FALSE(p->family);
  EXPECT_FALSE(p->addresses);
  EXPECT_FALSE(p->folder_id);
  EXPECT_FALSE(p->username);

  auto clears = parseSystemPatch(R"({"folder_id":null,"serial_number":null,"credentials":null})");
  ASSERT_TRUE(clears.ok()) << clears.error().message;
  ASSERT_TRUE(clears->folder_id);
  EXPECT_FALSE(*clears->folder_id);
  ASSERT_TRUE(clears->serial_number);
  EXPECT_FALSE(*clears->serial_number);
  EXPECT_EQ(clears->username, std::optional<std::string>(""));
  EXPECT_EQ(clears->password, std::optional<std::string>(""));

  auto password_only = parseSystemPatch(R"({"credentials":{"password":"new"}})");
  ASSERT_TRUE(password_only.ok());
  EXPECT_FALSE(password_only->username);
  EXPECT_EQ(password_only->password, std::optional<std::string>("new"));

  EXPECT_TRUE(parseSystemPatch("{}").ok());
  expectInvalid(parseSystemPatch(R"({"name":""})"), "name", "1 to 255");
  expectInvalid(parseSystemPatch(R"({"name":null})"), "name", "must be a string, not null");
  expectInvalid(parseSystemPatch(R"({"addresses":[]})"), "addresses", "non-empty");
  expectInvalid(parseSystemPatch(R"({"family":"cisco"})"), "family", "must be one of");
  expectInvalid(parseSystemPatch(R"({"created_at":"2026-01-01T00:00:00Z"})"), "created_at",
                "read-only");
  expectInvalid(parseSystemPatch(R"({"nmae":"x"})"), "nmae", "unknown field");
}

TEST(ApiValidationTest, MoveBody) {
  auto to_folder = parseSystemMove(std::string(R"({"folder_id":")") + kUuid + "\"}");
  ASSERT_TRUE(to_folder.ok());
  EXPECT_EQ(*to_folder, std::optional<std::string>(kUuid));
  auto unfile = parseSystemMove(R"({"folder_id":null})");
  ASSERT_TRUE(unfile.ok());
  EXPECT_FALSE(*unfile);
  expectInvalid(parseSystemMove("{}"), "folder_id", "\"folder_id\" is required");
  expectInvalid(parseSystemMove(R"({"folder_id":"no-such-folder"})"), "folder_id", "UUID");
  expectInvalid(parseSystemMove(R"({"folder_id":null,"x":1})"), "x", "unknown field");
}

TEST(ApiValidationTest, FolderBodies) {
  auto top = parseFolderCreate(R"({"name":"Europe"})");
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->name, "Europe");
  EXPECT_FALSE(top->parent_id);
  auto child = parseFolderCreate(std::string(R"({"name":"Oslo","parent_id":")") + kUuid + "\"}");
  ASSERT_TRUE(child.ok());
  EXPECT_EQ(child->parent_id, std::optional<std::string>(kUuid));
  expectInvalid(parseFolderCreate(R"({"parent_id":null})"), "name", "is required");
  expectInvalid(parseFolderCreate(R"({"name":"x","parent_id":"p"})"), "parent_id", "UUID");
  expectInvalid(parseFolderCreate(R"({"name":"x","children":[]})"), "children", "read-only");
  expectInvalid(parseFolderCreate(R"({"name":"x","colour":1})"), "colour", "unknown field");

  auto to_top = parseFolderPatch(R"({"parent_id":null})");
  ASSERT_TRUE(to_top.ok());
  ASSERT_TRUE(to_top->parent_id);
  EXPECT_FALSE(*to_top->parent_id);
  EXPECT_FALSE(to_top->name);
  expectInvalid(parseFolderPatch(R"({"name":""})"), "name", "1 to 255");
}

TEST(ApiValidationTest, SystemListQuery) {
  auto defaults = parseSystemFilter(*QueryParams::parse(""));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->limit, 50);
  EXPECT_EQ(defaults->offset, 0);
  EXPECT_EQ(defaults->sort, "name");
  EXPECT_EQ(defaults->order, store::SortOrder::kAscending);

  auto target = parseTarget(
      "/api/v1/systems?family=snmp&q=endpoint%201&sort=-updated_at&limit=1000&offset=20&"
      "status=reachable&connectivity=inaccessible&address=192.0.2.7&unfiled=true");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->path, "/api/v1/systems");
  auto f = parseSystemFilter(target->query);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->family, std::optional<std::string>("snmp"));
  EXPECT_EQ(f->name_contains, std::optional<std::string>("endpoint 1"));
  EXPECT_EQ(f->sort, "updated_at");
  EXPECT_EQ(f->order, store::SortOrder::kDescending);
  EXPECT_EQ(f->limit, 1000);
  EXPECT_EQ(f->offset, 20);
  EXPECT_TRUE(f->unfiled);
  EXPECT_EQ(f->address, std::optional<std::string>("192.0.2.7"));

  auto parse = [](const std::string& q) -> Result<store::SystemFilter> {
    auto params = QueryParams::parse(q);
    if (!params.ok()) return params.error();
    return parseSystemFilter(*params);
  };
  expectInvalid(parse("limit=0"), "limit",
                "\"limit\" must be an integer from 1 to 1000 (got \"0\")");
  expectInvalid(parse("limit=1001"), "limit", "from 1 to 1000");
  expectInvalid(parse("limit=ten"), "limit", "from 1 to 1000");
  expectInvalid(parse("offset=-1"), "offset", "an integer >= 0");
  expectInvalid(parse("sort=colour"), "sort", "must be one of name, family, model, status");
  expectInvalid(parse("sort=-"), "sort", "must be one of");
  expectInvalid(parse("family=sony"), "family", "must be one of");
  expectInvalid(parse("connectivity=lan"), "connectivity", "must be one of");
  expectInvalid(parse("unfiled=yes"), "unfiled", "true or false");
  expectInvalid(parse("folder_id=abc"), "folder_id", "UUID");
  expectInvalid(parse("colour=red"), "colour", "unknown query parameter \"colour\"");
  expectInvalid(parse("limit=1&limit=2"), "limit", "more than once");
  EXPECT_FALSE(QueryParams::parse("q=%zz").ok());
  EXPECT_FALSE(QueryParams::parse("q=%4").ok());
}

TEST(ApiValidationTest, AuditAndFolderQueries) {
  auto a = parseAuditFilter(*QueryParams::parse("entity_type=system&actor=cli%3Aroot&limit=5"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->entity_type, std::optional<std::string>("system"));
  EXPECT_EQ(a->actor, std::optional<std::string>("cli:root"));
  EXPECT_EQ(a->limit, 5);
  EXPECT_EQ(parseAuditFilter(*QueryParams::parse(""))->limit, 100);
  expectInvalid(parseAuditFilter(*QueryParams::parse("limit=0")), "limit", "from 1 to 1000");
  expectInvalid(parseAuditFilter(*QueryParams::parse("who=x")), "who", "unknown query parameter");

  EXPECT_TRUE(*parseFolderListTree(*QueryParams::parse("tree=true")));
  EXPECT_FALSE(*parseFolderListTree(*QueryParams::parse("")));
  expectInvalid(parseFolderListTree(*QueryParams::parse("tree=1")), "tree", "true or false");
}

}  // namespace
}  // namespace atrium::api
