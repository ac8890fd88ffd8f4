// Feedback retries across nodes: a system that got no answer posts the same document again, and
// a load balancer may send the retry to another node. Each event carries the key of its content
// and the store keeps one per content within store::kRetryWindow, so the retry is stored once.
// Two in-process "nodes", each with its own Database pool, spool and sink, on one real
// PostgreSQL.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/clock.h"
#include "common/ids.h"
#include "ingest/event_sink.h"
#include "ingest/feedback_ingest.h"
#include "ingest/spool.h"
#include "store/device_store.h"
#include "store/store.h"
#include "support/backends.h"

namespace atrium::ingest {
namespace {

namespace fs = std::filesystem;

std::string fixture(const std::string& name) {
  std::ifstream in(fs::path(ATRIUM_SOURCE_DIR) / "tests/fixtures/cisco_xapi" / name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// What one node runs for feedback.
struct Node {
  Node(const std::string& url, const fs::path& spool_dir, const Clock& clock,
       const std::string& name) {
    auto opened = store::Database::open(url);
    if (!opened.ok()) throw std::runtime_error(opened.error().message);
    db = std::move(opened).value();
    devices = std::make_unique<store::DeviceStore>(*db, clock);
    auto s = Spool::open(spool_dir);
    if (!s.ok()) throw std::runtime_error(s.error().message);
    spool = std::move(s).value();
    sink = std::make_unique<EventSink>(*devices, *spool);
    feedback = std::make_unique<FeedbackIngest>(*devices, *sink, clock, name);
  }

  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::DeviceStore> devices;
  std::unique_ptr<Spool> spool;
  std::unique_ptr<EventSink> sink;
  std::unique_ptr<FeedbackIngest> feedback;
};

TEST(SharedRetryTest, ARetrySentToAnotherNodeIsStoredOnce) {
  const fs::path dir = fs::temp_directory_path() / ("atrium-shared-retry-" + newUuid());
  fs::create_directories(dir);
  SystemClock clock;
  const std::string url = testing::freshDatabaseUrl(testing::kPostgres, dir);
  std::string system_id;
  std::string secret;
  {
    auto db = store::Database::open(url);
    ASSERT_TRUE(db.ok()) << db.error().message;
    store::Store store(**db, clock);
    auto migrated = store.migrate();
    ASSERT_TRUE(migrated.ok()) << migrated.error().message;
    store::System s;
    s.name = "Room 31";
    s.family = "cisco-xapi";
    s.addresses = {"192.0.2.31"};
    auto created = store.createSystem(s, "tester");
    ASSERT_TRUE(created.ok()) << created.error().message;
    system_id = created->id;
    store::DeviceStore devices(**db, clock);
    auto managed = devices.managedSystem(system_id);
    ASSERT_TRUE(managed.ok()) << managed.error().message;
    secret = managed->feedback_secret;
  }

  {
    Node a(url, dir / "spool-a", clock, "node-a");
    Node b(url, dir / "spool-b", clock, "node-b");
    const std::string body = fixture("feedback-call-disconnect.xml");
    auto first = a.feedback->handle(secret, body, "192.0.2.31");
    ASSERT_TRUE(first.ok()) << first.error().message;
    ASSERT_GT(*first, 0u);
    // The system got no answer in time and posts again; the load balancer picks the other node.
    auto retry = b.feedback->handle(secret, body, "192.0.2.31");
    ASSERT_TRUE(retry.ok()) << retry.error().message;
    auto again = a.feedback->handle(secret, body, "192.0.2.31");
    ASSERT_TRUE(again.ok()) << again.error().message;

    store::EventFilter filter;
    filter.system_id = system_id;
    auto events = a.devices->events(filter);
    ASSERT_TRUE(events.ok()) << events.error().message;
    EXPECT_EQ(events->total, static_cast<std::int64_t>(*first));
    for (const auto& e : events->items) EXPECT_EQ(e.node, "node-a");
    EXPECT_EQ(b.sink->stats().duplicates, *first);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace atrium::ingest
