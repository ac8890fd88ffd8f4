// The HTTP client's answer parsing with its limits, in memory (parseHttpAnswer) and on a real
// loopback socket: an answer over the body or header limit is a kPayloadTooLarge error that names
// the peer and the limit, whatever the framing.
#include <gtest/gtest.h>

#include <string>

#include "ingest/bounded_lru.h"
#include "ingest/log_throttle.h"
#include "net/http_client.h"

namespace atrium::net {
namespace {

HttpClientOptions small() {
  HttpClientOptions o;
  o.max_answer_bytes = 1000;
  o.max_header_bytes = 512;
  return o;
}

TEST(HttpAnswerTest, ACompleteAnswerParses) {
  auto r = parseHttpAnswer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello", small());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->header("x-a").value_or(""), "b");
  auto chunked = parseHttpAnswer(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", small());
  ASSERT_TRUE(chunked.ok()) << chunked.error().message;
  EXPECT_EQ(chunked->body, "abc");
  auto until_close = parseHttpAnswer("HTTP/1.0 200 OK\r\n\r\nto the end", small());
  ASSERT_TRUE(until_close.ok()) << until_close.error().message;
  EXPECT_EQ(until_close->body, "to the end");
  auto head = parseHttpAnswer("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", small(), "h:1",
                              /*head=*/true);
  ASSERT_TRUE(head.ok()) << head.error().message;
}

TEST(HttpAnswerTest, AHugeContentLengthIsRefusedBeforeAnyBody) {
  auto r = parseHttpAnswer("HTTP/1.1 200 OK\r\nContent-Length: 107374182400\r\n\r\nxx", small(),
                           "127.0.0.1:8080");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(r.error().message, "the answer from 127.0.0.1:8080 exceeds the limit of 1000 bytes");
}

TEST(HttpAnswerTest, ChunkedBodiesCountTowardsTheLimit) {
  std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) wire += "64\r\n" + std::string(100, 'x') + "\r\n";
  auto r = parseHttpAnswer(wire, small(), "d:80");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_NE(r.error().message.find("exceeds the limit of 1000 bytes"), std::string::npos);
}

TEST(HttpAnswerTest, AnEndlessHeaderIsRefused) {
  std::string wire = "HTTP/1.1 200 OK\r\nX-Long: " + std::string(2000, 'a') + "\r\n\r\n";
  auto r = parseHttpAnswer(wire, small(), "d:80");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(r.error().message, "the header of the answer from d:80 exceeds the limit of 512 bytes");
}

TEST(HttpAnswerTest, CutShortOrGarbageIsAnErrorNotACrash) {
  for (const std::string& wire :
       {std::string(), std::string("HTTP/1.1 200"), std::string("garbage\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
        std::string("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
        std::string(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n")}) {
    auto r = parseHttpAnswer(wire, small());
    EXPECT_FALSE(r.ok()) << wire;
  }
}

}  // namespace
}  // namespace atrium::net

namespace atrium::ingest {
namespace {

TEST(BoundedLruTest, ForgetsTheLeastRecentlyUsedWhenFull) {
  BoundedLru<int> lru(2);
  lru.findOrInsert("a", 1);
  lru.findOrInsert("b", 2);
  ASSERT_NE(lru.find("a"), nullptr);  // a is now the most recent
  lru.findOrInsert("c", 3);           // b goes
  EXPECT_EQ(lru.size(), 2u);
  EXPECT_EQ(lru.find("b"), nullptr);
  EXPECT_EQ(*lru.find("a"), 1);
  EXPECT_EQ(*lru.find("c"), 3);
  for (int i = 0; i < 10000; ++i) lru.findOrInsert("x" + std::to_string(i), i);
  EXPECT_EQ(lru.size(), 2u);
}

TEST(LogThrottleTest, OneLineAnIntervalWithTheCount) {
  using namespace std::chrono_literals;
  LogThrottle t(60s);
  std::chrono::steady_clock::time_point now{};
  EXPECT_EQ(t.note(now), 1u);  // the first at once
  for (int i = 0; i < 99; ++i) EXPECT_EQ(t.note(now + 1s), 0u);
  EXPECT_EQ(t.note(now + 61s), 100u);  // 99 held back and this one
  EXPECT_EQ(t.note(now + 62s), 0u);
}

}  // namespace
}  // namespace atrium::ingest
