// JSON shapes of the API's answers and the mapping of errors to statuses.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/errors.h"
#include "api/folder_json.h"
#include "api/json_body.h"
#include "api/router.h"
#include "api/system_json.h"
#include "store/cluster_store.h"

namespace atrium::api {
namespace {

using nlohmann::json;

store::TimePoint at(std::int64_t ms) { return store::TimePoint(std::chrono::milliseconds(ms)); }

TEST(ApiJsonTest, SystemShapeNeverHoldsCredentials) {
  store::System s;
  s.id = "0b9f5c2e-8a3d-4f7e-9c1a-2d4e6f8a0b1c";
  s.name = "Board Room";
  s.family = "cisco-xapi";
  s.model = "SX20";
  s.addresses = {"192.0.2.10", "2001:db8::5"};
  s.username = "admin";
  s.password = "s3cret";
  s.created_at = at(1'700'000'000'123);
  s.updated_at = at(1'700'000'001'000);
  json j = systemToJson(s);
  EXPECT_EQ(j["id"], s.id);
  EXPECT_EQ(j["addresses"], json({"192.0.2.10", "2001:db8::5"}));
  EXPECT_TRUE(j["folder_id"].is_null());
  EXPECT_TRUE(j["serial_number"].is_null());
  EXPECT_TRUE(j["last_seen"].is_null());
  EXPECT_EQ(j["connectivity"], "reachable-lan");
  EXPECT_EQ(j["status"], "unknown");
  EXPECT_EQ(j["created_at"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j["credentials"], json({{"set", true}}));
  std::string text = j.dump();
  EXPECT_EQ(text.find("admin"), std::string::npos);
  EXPECT_EQ(text.find("s3cret"), std::string::npos);
  for (const char* key :
       {"id", "name", "family", "model", "addresses", "folder_id", "connectivity", "serial_number",
        "software_version", "status", "last_seen", "created_at", "updated_at", "credentials",
        "h323_id", "e164_alias", "sip_uri", "last_polled_at", "last_poll_error", "active_calls",
        "registration", "bucket", "last_polled_by"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["bucket"], store::bucketOf(s.id));
  EXPECT_TRUE(j["last_polled_by"].is_null());
  EXPECT_EQ(j.size(), 23u);
  EXPECT_EQ(j["registration"], json({{"h323", ""}, {"sip", ""}}));

  s.username.clear();
  s.password.clear();
  s.folder_id = "f";
  s.last_seen = at(0);
  j = systemToJson(s);
  EXPECT_EQ(j["credentials"]["set"], false);
  EXPECT_EQ(j["folder_id"], "f");
  EXPECT_EQ(j["last_seen"], "1970-01-01T00:00:00.000Z");
}

TEST(ApiJsonTest, FolderTreeNestsChildren) {
  std::vector<store::Folder> folders(4);
  folders[0].id = "a";
  folders[0].name = "Europe";
  folders[1].id = "b";
  folders[1].name = "Oslo";
  folders[1].parent_id = "a";
  folders[2].id = "c";
  folders[2].name = "Bergen";
  folders[2].parent_id = "a";
  folders[3].id = "d";
  folders[3].name = "Orphan";
  folders[3].parent_id = "missing";
  json tree = folderTreeJson(folders);
  ASSERT_EQ(tree.size(), 2u);
  EXPECT_EQ(tree[0]["name"], "Europe");
  ASSERT_EQ(tree[0]["children"].size(), 2u);
  EXPECT_EQ(tree[0]["children"][0]["name"], "Oslo");
  EXPECT_EQ(tree[0]["children"][0]["parent_id"], "a");
  EXPECT_TRUE(tree[0]["children"][0]["children"].empty());
  EXPECT_EQ(tree[1]["name"], "Orphan");
  json flat = folderToJson(folders[0]);
  EXPECT_TRUE(flat["parent_id"].is_null());
  EXPECT_FALSE(flat.contains("children"));
}

TEST(ApiJsonTest, ErrorsMapToStatuses) {
  EXPECT_EQ(httpStatus(ErrorCode::kInvalidArgument), 400u);
  EXPECT_EQ(httpStatus(ErrorCode::kUnauthorized), 401u);
  EXPECT_EQ(httpStatus(ErrorCode::kForbidden), 403u);
  EXPECT_EQ(httpStatus(ErrorCode::kNotFound), 404u);
  EXPECT_EQ(httpStatus(ErrorCode::kMethodNotAllowed), 405u);
  EXPECT_EQ(httpStatus(ErrorCode::kConflict), 409u);
  EXPECT_EQ(httpStatus(ErrorCode::kPayloadTooLarge), 413u);
  EXPECT_EQ(httpStatus(ErrorCode::kInternal), 500u);
  EXPECT_EQ(httpStatus(ErrorCode::kUnavailable), 503u);
  EXPECT_EQ(httpStatus(ErrorCode::kReadOnly), 503u);
  EXPECT_EQ(httpStatus(ErrorCode::kTimeout), 504u);
}

TEST(ApiJsonTest, ErrorShape) {
  auto res = errorResponse(Error::conflict("a system named \"Room 1\" already exists", "name"));
  EXPECT_EQ(res.result_int(), 409u);
  EXPECT_EQ(res[boost::beast::http::field::content_type], "application/json");
  json j = json::parse(res.body());
  EXPECT_EQ(j, json::parse(R"({"error":{"code":"conflict",
                 "message":"a system named \"Room 1\" already exists","field":"name"}})"));

  auto nf = errorResponse(Error::notFound("no such resource"));
  EXPECT_FALSE(json::parse(nf.body())["error"].contains("field"));

  auto down = errorResponse(Error::unavailable("the database is unreachable"));
  EXPECT_EQ(down.result_int(), 503u);
  EXPECT_FALSE(down[boost::beast::http::field::retry_after].empty());
  auto ro = errorResponse(Error{ErrorCode::kReadOnly, "read-only", {}});
  EXPECT_EQ(ro.result_int(), 503u);
  EXPECT_EQ(json::parse(ro.body())["error"]["code"], "read_only");
  EXPECT_FALSE(ro[boost::beast::http::field::retry_after].empty());

  // Internal errors are logged, and answered with a generic message.
  auto internal = errorResponse(Error::internal("SQL syntax error near SELEKT"));
  EXPECT_EQ(internal.result_int(), 500u);
  EXPECT_EQ(internal.body().find("SELEKT"), std::string::npos);
  EXPECT_EQ(json::parse(internal.body())["error"]["code"], "internal");

  auto method = methodNotAllowed("PUT", "/api/v1/systems", {"GET", "POST"});
  EXPECT_EQ(method.result_int(), 405u);
  EXPECT_EQ(method[boost::beast::http::field::allow], "GET, POST");
  EXPECT_EQ(json::parse(method.body())["error"]["code"], "method_not_allowed");

  auto media = unsupportedMediaType("text/plain");
  EXPECT_EQ(media.result_int(), 415u);
  EXPECT_EQ(json::parse(media.body())["error"]["code"], "unsupported_media_type");
  EXPECT_NE(media.body().find("text/plain"), std::string::npos);

  // Bytes that are not UTF-8 (from a raw path) do not break the JSON.
  auto odd = errorResponse(Error::notFound("no such resource: /\xff"));
  EXPECT_TRUE(json::accept(odd.body())) << odd.body();
}

TEST(ApiJsonTest, RouterMatchesPatterns) {
  Router r;
  r.add("GET", "/api/v1/systems", 0);
  r.add("POST", "/api/v1/systems", 1);
  r.add("GET", "/api/v1/systems/{id}", 2);
  r.add("DELETE", "/api/v1/systems/{id}", 3);
  r.add("POST", "/api/v1/systems/{id}/move", 4);

  auto list = r.match("GET", "/api/v1/systems");
  EXPECT_EQ(list.id, 0);
  auto one = r.match("GET", "/api/v1/systems/abc");
  EXPECT_EQ(one.id, 2);
  EXPECT_EQ(one.pattern, "/api/v1/systems/{id}");
  EXPECT_EQ(one.params, std::vector<std::string>{"abc"});
  EXPECT_EQ(r.match("POST", "/api/v1/systems/abc/move").id, 4);

  auto put = r.match("PUT", "/api/v1/systems/abc");
  EXPECT_FALSE(put.found());
  EXPECT_TRUE(put.methodNotAllowed());
  EXPECT_EQ(put.allowed, (std::vector<std::string>{"GET", "HEAD", "DELETE"}));
  // HEAD matches the GET routes (the HTTP server leaves the body out).
  auto head = r.match("HEAD", "/api/v1/systems/abc");
  EXPECT_EQ(head.id, 2);
  EXPECT_EQ(head.params, std::vector<std::string>{"abc"});

  EXPECT_FALSE(r.match("GET", "/api/v1/system").found());
  EXPECT_FALSE(r.match("GET", "/api/v1/systems/").found());  // empty {id}
  EXPECT_FALSE(r.match("GET", "/api/v1/systems/a/b").found());
  EXPECT_FALSE(r.match("GET", "").found());
  EXPECT_FALSE(r.match("GET", "api/v1/systems").found());
  EXPECT_FALSE(r.match("GET", "/nothing").methodNotAllowed());
}

TEST(ApiJsonTest, DuplicateKeysAreRefusedNamingTheKey) {
  auto top = parseJsonObject(R"({"name":"a","folder":null,"name":"b"})", "system");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.error().field, "name");
  EXPECT_NE(top.error().message.find("\"name\" twice"), std::string::npos) << top.error().message;
  auto nested = parseJsonObject(R"({"credentials":{"username":"a","username":"b"}})", "system");
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().field, "username");
  // The same key in sibling or nested objects, and in objects inside arrays, is fine.
  auto fine =
      parseJsonObject(R"({"a":{"x":1},"b":{"x":2,"c":{"x":3}},"l":[{"x":1},{"x":2}]})", "test");
  EXPECT_TRUE(fine.ok()) << fine.error().message;
  EXPECT_EQ((*fine)["b"]["c"]["x"], 3);
}

}  // namespace
}  // namespace atrium::api
