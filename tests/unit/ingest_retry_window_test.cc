#include "ingest/retry_window.h"

#include <gtest/gtest.h>

namespace atrium::ingest {
namespace {

using namespace std::chrono_literals;

TEST(RetryWindowTest, ARetryWithinTheWindowKeepsItsKeyALaterRepeatIsNew) {
  FakeClock clock(std::chrono::system_clock::time_point(1'800'000'000s));
  RetryWindow window(60s, clock);
  const auto first = window.keyFor("boot-of-room-1");
  clock.advance(1s);
  EXPECT_EQ(window.keyFor("boot-of-room-1"), first);  // Cisco retrying after a second
  clock.advance(9s);
  EXPECT_EQ(window.keyFor("boot-of-room-1"), first);
  EXPECT_NE(window.keyFor("boot-of-room-2"), first);  // other content, other key
  clock.advance(10min);
  const auto second_boot = window.keyFor("boot-of-room-1");
  EXPECT_NE(second_boot, first);  // the same document much later is a second event
  clock.advance(2s);
  EXPECT_EQ(window.keyFor("boot-of-room-1"), second_boot);
  EXPECT_EQ(first.size(), 64u);
}

TEST(RetryWindowTest, KeysFromTheSharedWindowAreKeptForAnOutage) {
  FakeClock clock(std::chrono::system_clock::time_point(1'800'000'000s));
  RetryWindow window(60s, clock);
  EXPECT_FALSE(window.peek("boot-of-room-1").has_value());
  window.remember("boot-of-room-1", "shared-key");  // the database's window answered
  clock.advance(5s);
  EXPECT_EQ(window.peek("boot-of-room-1"), "shared-key");
  EXPECT_EQ(window.keyFor("boot-of-room-1"), "shared-key");  // the database is away now
  window.remember("boot-of-room-1", "shared-key");  // the same key keeps its first sighting
  clock.advance(56s);
  EXPECT_FALSE(window.peek("boot-of-room-1").has_value());
  EXPECT_NE(window.keyFor("boot-of-room-1"), "shared-key");
}

}  // namespace
}  // namespace atrium::ingest
