#include "common/log.h"

#include <gtest/gtest.h>

namespace atrium::log {
namespace {

TEST(LogTest, TextQuotesOnlyWhatNeedsIt) {
  auto line = formatEvent(Format::kText, "http.listening",
                          {{"address", "127.0.0.1:8080"}, {"node", "a b"}, {"port", 8080}});
  EXPECT_EQ(line, "http.listening address=127.0.0.1:8080 node=\"a b\" port=8080");
}

TEST(LogTest, JsonIsOneObjectBody) {
  auto line = formatEvent(Format::kJson, "db.unavailable", {{"reason", "x\"y"}, {"retry_ms", 250}});
  auto parsed = nlohmann::json::parse("{" + line + "}");
  EXPECT_EQ(parsed["event"], "db.unavailable");
  EXPECT_EQ(parsed["reason"], "x\"y");
  EXPECT_EQ(parsed["retry_ms"], 250);
}

TEST(LogTest, ParsesNames) {
  Format f{};
  Level l{};
  EXPECT_TRUE(parseFormat("json", f));
  EXPECT_EQ(f, Format::kJson);
  EXPECT_FALSE(parseFormat("xml", f));
  EXPECT_TRUE(parseLevel("warn", l));
  EXPECT_EQ(l, Level::kWarn);
  EXPECT_FALSE(parseLevel("verbose", l));
}

}  // namespace
}  // namespace atrium::log
