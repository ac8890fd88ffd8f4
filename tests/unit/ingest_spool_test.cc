#include "ingest/spool.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <thread>

#include "support/process.h"

namespace atrium::ingest {
namespace {

using testing::TempDir;

std::vector<std::string> payloads(const std::vector<SpoolRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.payload);
  return out;
}

TEST(SpoolTest, AppendsInOrderAndReplaysUntilAcknowledged) {
  TempDir tmp;
  auto spool = Spool::open(tmp.path() / "spool");
  ASSERT_TRUE(spool.ok()) << spool.error().message;
  auto& s = **spool;
  EXPECT_EQ(*s.append("a"), 1u);
  EXPECT_EQ(*s.append("b"), 2u);
  EXPECT_EQ(*s.append(std::string("c\0d", 3)), 3u);
  EXPECT_EQ(s.pendingCount(), 3u);
  EXPECT_EQ(payloads(*s.pending(10)), (std::vector<std::string>{"a", "b", std::string("c\0d", 3)}));
  EXPECT_EQ(payloads(*s.pending(2)), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(s.acknowledge(2).ok());
  EXPECT_EQ(s.pendingCount(), 1u);
  EXPECT_EQ((*s.pending(10)).front().sequence, 3u);
}

TEST(SpoolTest, SurvivesReopen) {
  TempDir tmp;
  {
    auto s = *Spool::open(tmp.path());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(s->append("event " + std::to_string(i)).ok());
    ASSERT_TRUE(s->acknowledge(4).ok());
  }
  auto s = *Spool::open(tmp.path());
  EXPECT_EQ(s->acknowledgedSequence(), 4u);
  EXPECT_EQ(s->pendingCount(), 6u);
  auto p = *s->pending(100);
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p.front().payload, "event 4");
  EXPECT_EQ(p.front().sequence, 5u);
  EXPECT_EQ(*s->append("next"), 11u);  // sequences keep rising across restarts
}

TEST(SpoolTest, TornTailIsCutAtOpen) {
  TempDir tmp;
  std::filesystem::path segment;
  {
    auto s = *Spool::open(tmp.path());
    ASSERT_TRUE(s->append("complete-1").ok());
    ASSERT_TRUE(s->append("complete-2").ok());
  }
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) {
    if (e.path().extension() == ".log") segment = e.path();
  }
  const auto good_size = std::filesystem::file_size(segment);
  {
    // A crash in the middle of the third append: a header promising more bytes than follow.
    std::ofstream out(segment, std::ios::binary | std::ios::app);
    const char partial[] = {40, 0, 0, 0, 1, 2, 3, 4, 3, 0, 0, 0, 0, 0, 0, 0, 'p', 'a', 'r'};
    out.write(partial, sizeof(partial));
  }
  auto s = *Spool::open(tmp.path());
  EXPECT_EQ(s->recoveredTornBytes(), 19u);
  EXPECT_EQ(std::filesystem::file_size(segment), good_size);
  EXPECT_EQ(payloads(*s->pending(10)), (std::vector<std::string>{"complete-1", "complete-2"}));
  EXPECT_EQ(*s->append("complete-3"), 3u);
  auto reopened = *Spool::open(tmp.path());
  EXPECT_EQ(payloads(*reopened->pending(10)), (std::vector<std::string>{"complete-1", "complete-2", "complete-3"}));
}

TEST(SpoolTest, CorruptRecordEndsTheValidPrefix) {
  TempDir tmp;
  std::filesystem::path segment;
  {
    auto s = *Spool::open(tmp.path());
    ASSERT_TRUE(s->append("first").ok());
    ASSERT_TRUE(s->append("second").ok());
  }
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) {
    if (e.path().extension() == ".log") segment = e.path();
  }
  {
    std::fstream f(segment, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(-1, std::ios::end);
    f.put('X');  // flip the last payload byte of "second"
  }
  auto s = *Spool::open(tmp.path());
  EXPECT_EQ(payloads(*s->pending(10)), (std::vector<std::string>{"first"}));
}

TEST(SpoolTest, SegmentsRotateAndAcknowledgedOnesAreDeleted) {
  TempDir tmp;
  SpoolOptions options;
  options.segment_bytes = 100;
  auto s = *Spool::open(tmp.path(), options);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(s->append(std::string(30, static_cast<char>('a' + i))).ok());
  auto count_segments = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(tmp.path())) n += e.path().extension() == ".log";
    return n;
  };
  EXPECT_GT(count_segments(), 5);
  ASSERT_EQ(s->pending(100)->size(), 20u);
  ASSERT_TRUE(s->acknowledge(20).ok());
  EXPECT_LE(count_segments(), 1);
  EXPECT_EQ(s->pendingCount(), 0u);
  EXPECT_EQ(*s->append("after"), 21u);
  auto reopened = *Spool::open(tmp.path(), options);
  EXPECT_EQ(payloads(*reopened->pending(10)), (std::vector<std::string>{"after"}));
}

TEST(SpoolTest, OversizedRecordIsRefused) {
  TempDir tmp;
  SpoolOptions options;
  options.max_record_bytes = 10;
  auto s = *Spool::open(tmp.path(), options);
  auto r = s->append(std::string(11, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(s->pendingCount(), 0u);
}

TEST(SpoolTest, ConcurrentAppendsGetDistinctSequences) {
  TempDir tmp;
  SpoolOptions options;
  options.fsync = false;
  auto s = *Spool::open(tmp.path(), options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) ASSERT_TRUE(s->append(std::to_string(t) + ":" + std::to_string(i)).ok());
    });
  }
  for (auto& t : threads) t.join();
  auto p = *s->pending(10000);
  ASSERT_EQ(p.size(), 1000u);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < p.size(); ++i) {
    EXPECT_EQ(p[i].sequence, i + 1);
    seen.insert(p[i].payload);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace atrium::ingest
