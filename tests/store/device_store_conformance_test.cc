// DeviceStore's behaviour (events, call records, tickets, poll observations, settings), written
// once and run on SQLite and on a real PostgreSQL.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "common/clock.h"
#include "common/ids.h"
#include "store/device_store.h"
#include "store/store.h"
#include "support/pg_cluster.h"

namespace atrium::store {
namespace {

namespace fs = std::filesystem;
using testing::PgCluster;
using std::chrono::seconds;

struct SharedPostgres {
  std::unique_ptr<PgCluster> cluster;
  std::string error;
};

SharedPostgres& sharedPostgres() {
  static SharedPostgres shared = [] {
    SharedPostgres s;
    auto started = PgCluster::start();
    if (started.ok()) {
      s.cluster = std::move(started).value();
    } else {
      s.error = started.error().message;
    }
    return s;
  }();
  return shared;
}

class DeviceStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url;
    if (GetParam() == "sqlite") {
      dir_ = fs::temp_directory_path() / ("atrium-devstore-" + newUuid());
      fs::create_directories(dir_);
      url = "sqlite:" + (dir_ / "atrium.db").string();
    } else {
      auto& pg = sharedPostgres();
      ASSERT_TRUE(pg.cluster) << "PostgreSQL could not be started: " << pg.error;
      static std::atomic<int> counter{0};
      db_name_ = "device_store_test_" + std::to_string(++counter);
      auto created = pg.cluster->createDatabase(db_name_);
      ASSERT_TRUE(created.ok()) << created.error().message;
      url = pg.cluster->url(db_name_);
    }
    auto db = Database::open(url);
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    store_ = std::make_unique<Store>(*db_, clock_);
    devices_ = std::make_unique<DeviceStore>(*db_, clock_);
    auto v = store_->migrate();
    ASSERT_TRUE(v.ok()) << v.error().message;
  }

  void TearDown() override {
    devices_.reset();
    store_.reset();
    db_.reset();
    if (!db_name_.empty() && sharedPostgres().cluster) {
      EXPECT_TRUE(sharedPostgres().cluster->dropDatabase(db_name_).ok());
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  System create(const std::string& name, std::vector<std::string> addresses = {"10.0.0.1"}) {
    System s;
    s.name = name;
    s.family = "cisco-xapi";
    s.addresses = std::move(addresses);
    s.h323_id = name + "-h323";
    auto r = store_->createSystem(s, "tester");
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : System{};
  }

  StoredEvent event(const std::string& key, const std::optional<std::string>& system_id,
                    const std::string& kind = "boot", const std::string& source = "feedback") {
    StoredEvent e;
    e.system_id = system_id;
    e.idempotency_key = key;
    e.source = source;
    e.kind = kind;
    e.received_at = clock_.now();
    e.node = "node-1";
    e.source_address = "10.0.0.1";
    e.payload = R"({"k":")" + key + R"("})";
    return e;
  }

  std::vector<std::string> keys(const EventFilter& f) {
    auto page = devices_->events(f);
    EXPECT_TRUE(page.ok()) << page.error().message;
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& e : page->items) out.push_back(e.idempotency_key);
    }
    return out;
  }

  std::size_t auditCount() {
    auto page = store_->audit({});
    EXPECT_TRUE(page.ok());
    return page.ok() ? static_cast<std::size_t>(page->total) : 0;
  }

  FakeClock clock_{TimePoint(std::chrono::milliseconds(1'700'000'000'000))};
  fs::path dir_;
  std::string db_name_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<DeviceStore> devices_;
};

TEST_P(DeviceStoreTest, SystemsCarrySettingsAndASecretNeverAudited) {
  System a = create("Alpha");
  EXPECT_EQ(a.h323_id, "Alpha-h323");
  auto m = devices_->managedSystem(a.id);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->feedback_secret.size(), 32u);
  EXPECT_EQ(m->h323_id, "Alpha-h323");
  auto by_secret = devices_->systemByFeedbackSecret(m->feedback_secret);
  ASSERT_TRUE(by_secret.ok());
  EXPECT_EQ(by_secret->system.id, a.id);
  auto unknown = devices_->systemByFeedbackSecret("0123456789abcdef0123456789abcdef");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);

  // The persistent settings are audited when changed.
  SystemPatch patch;
  patch.sip_uri = "alpha@example.com";
  auto updated = store_->updateSystem(a.id, patch, "tester");
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_EQ(updated->sip_uri, "alpha@example.com");
  AuditFilter f;
  f.entity_id = a.id;
  auto audit = store_->audit(f);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->items.size(), 2u);
  EXPECT_NE(audit->items[0].new_value.find("alpha@example.com"), std::string::npos);
  EXPECT_EQ(audit->items[1].new_value.find(m->feedback_secret), std::string::npos);

  System b = create("Beta", {"10.0.0.2", "10.0.0.1"});
  auto managed = devices_->managedSystems("", 10);
  ASSERT_TRUE(managed.ok());
  ASSERT_EQ(managed->size(), 2u);
  EXPECT_NE((*managed)[0].feedback_secret, (*managed)[1].feedback_secret);
  auto after = devices_->managedSystems((*managed)[0].system.id, 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].system.id, (*managed)[1].system.id);

  auto shared = devices_->systemsByAddress("10.0.0.1");
  ASSERT_TRUE(shared.ok());
  EXPECT_EQ(shared->size(), 2u);
  auto only_b = devices_->systemsByAddress("10.0.0.2");
  ASSERT_TRUE(only_b.ok());
  ASSERT_EQ(only_b->size(), 1u);
  EXPECT_EQ((*only_b)[0].system.id, b.id);
  EXPECT_TRUE(devices_->systemsByAddress("10.0.0.3")->empty());
}

TEST_P(DeviceStoreTest, RecordPollWritesObservationsWithoutAudit) {
  System a = create("Alpha");
  const std::size_t audit_before = auditCount();
  PollObservation o;
  o.system_id = a.id;
  o.at = clock_.now();
  o.reachable = true;
  o.status = "in-call";
  o.model = "Room Kit";
  o.software_version = "ce9.15";
  o.serial_number = "FTT123";
  o.mac_address = "00:11:22:33:44:55";
  o.reported_address = "10.0.0.9";
  o.active_calls = 1;
  o.h323_status = "Registered";
  o.sip_status = "Inactive";
  ASSERT_TRUE(devices_->recordPoll(o).ok());
  EXPECT_EQ(auditCount(), audit_before);

  auto s = store_->system(a.id);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->status, "in-call");
  EXPECT_EQ(s->model, "Room Kit");
  EXPECT_EQ(s->serial_number, "FTT123");
  EXPECT_EQ(s->last_seen, clock_.now());
  EXPECT_EQ(s->last_polled_at, clock_.now());
  EXPECT_EQ(s->active_calls, 1);
  EXPECT_EQ(s->h323_status, "Registered");
  EXPECT_EQ(s->reported_address, "10.0.0.9");

  // A failed poll keeps last_seen and the identity, records the error.
  clock_.advance(seconds(30));
  PollObservation failed;
  failed.system_id = a.id;
  failed.at = clock_.now();
  failed.status = "unreachable";
  failed.error = "connection refused";
  ASSERT_TRUE(devices_->recordPoll(failed).ok());
  s = store_->system(a.id);
  EXPECT_EQ(s->status, "unreachable");
  EXPECT_EQ(s->last_poll_error, "connection refused");
  EXPECT_EQ(s->last_seen, clock_.now() - seconds(30));
  EXPECT_EQ(s->last_polled_at, clock_.now());
  EXPECT_EQ(s->model, "Room Kit");
  EXPECT_EQ(auditCount(), audit_before);

  ASSERT_TRUE(devices_->setConnectivity(a.id, "behind-firewall").ok());
  EXPECT_EQ(store_->system(a.id)->connectivity, "behind-firewall");
  EXPECT_EQ(auditCount(), audit_before);
  failed.system_id = newUuid();
  EXPECT_EQ(devices_->recordPoll(failed).error().code, ErrorCode::kNotFound);
}

TEST_P(DeviceStoreTest, EventsAreStoredOnceAndFiltered) {
  System a = create("Alpha");
  System b = create("Beta", {"10.0.0.2"});
  auto first = devices_->insertEvents(
      {event("k1", a.id), event("k2", b.id, "cold-start", "trap"), event("k3", std::nullopt)});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, 3);
  clock_.advance(seconds(10));
  // A replay of the same batch plus one new event: only the new one is stored.
  auto again = devices_->insertEvents(
      {event("k1", a.id), event("k2", b.id, "cold-start", "trap"), event("k4", a.id, "link-down")});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, 1);

  EXPECT_EQ(keys({}), (std::vector<std::string>{"k4", "k3", "k2", "k1"}));
  EventFilter of_a;
  of_a.system_id = a.id;
  EXPECT_EQ(keys(of_a), (std::vector<std::string>{"k4", "k1"}));
  EventFilter traps;
  traps.source = "trap";
  EXPECT_EQ(keys(traps), (std::vector<std::string>{"k2"}));
  EventFilter kind;
  kind.kind = "link-down";
  EXPECT_EQ(keys(kind), (std::vector<std::string>{"k4"}));
  EventFilter since;
  since.since = clock_.now();
  EXPECT_EQ(keys(since), (std::vector<std::string>{"k4"}));

  auto all = devices_->events({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->total, 4);
  const StoredEvent& k1 = all->items.back();
  EXPECT_EQ(k1.system_id, a.id);
  EXPECT_EQ(k1.node, "node-1");
  EXPECT_EQ(k1.source_address, "10.0.0.1");
  EXPECT_EQ(k1.payload, R"({"k":"k1"})");
  EventFilter since_id;
  since_id.since_id = k1.id;
  EXPECT_EQ(keys(since_id), (std::vector<std::string>{"k2", "k3", "k4"}));
  // The tail other nodes' events are followed by.
  EXPECT_EQ(*devices_->newestEventId(), all->items.front().id);
  auto after = devices_->eventsAfter(k1.id, 2);
  ASSERT_TRUE(after.ok()) << after.error().message;
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].idempotency_key, "k2");
  EXPECT_EQ((*after)[1].idempotency_key, "k3");
  EXPECT_TRUE(devices_->eventsAfter(all->items.front().id, 10)->empty());
  EventFilter paged;
  paged.limit = 2;
  paged.offset = 1;
  EXPECT_EQ(keys(paged), (std::vector<std::string>{"k3", "k2"}));

  // An event naming a system that does not exist is kept, without the system.
  auto orphan = devices_->insertEvents({event("k5", newUuid())});
  ASSERT_TRUE(orphan.ok()) << orphan.error().message;
  EXPECT_FALSE(devices_->events({})->items.front().system_id.has_value());
  // Deleting a system keeps its events.
  ASSERT_TRUE(store_->deleteSystem(a.id, "tester").ok());
  EXPECT_EQ(devices_->events({})->total, 5);
}

TEST_P(DeviceStoreTest, CallStartAndEndPairUpOncePerEvent) {
  System a = create("Alpha");
  CallRecord start;
  start.system_id = a.id;
  start.call_id = "3";
  start.direction = "outgoing";
  start.remote = "sip:bob@example.com";
  start.protocol = "SIP";
  start.started_at = clock_.now();
  start.source = "feedback";
  CallRecord end = start;
  end.direction = "";
  end.remote = "";
  end.ended_at = clock_.now() + seconds(95);
  end.duration_seconds = 95;
  end.cause = "LocalDisconnect";
  std::vector<CallUpdate> updates{{CallUpdate::Kind::kStarted, 0, start},
                                  {CallUpdate::Kind::kEnded, 1, end}};
  std::vector<StoredEvent> batch{event("c1", a.id, "call-connected"),
                                 event("c2", a.id, "call-disconnected")};
  auto stored = devices_->storeEvents({batch[0]}, {updates[0]});
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_GT((*stored)[0].id, 0);
  CallRecordFilter open;
  open.open_only = true;
  EXPECT_EQ(devices_->callRecords(open)->total, 1);

  // The whole batch replayed: the start is not applied again, the end is.
  stored = devices_->storeEvents(batch, updates);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].idempotency_key, "c2");
  stored = devices_->storeEvents(batch, updates);
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored->empty());

  auto calls = devices_->callRecords({});
  ASSERT_TRUE(calls.ok());
  ASSERT_EQ(calls->total, 1);
  const CallRecord& c = calls->items[0];
  EXPECT_EQ(c.remote, "sip:bob@example.com");
  EXPECT_EQ(c.direction, "outgoing");
  EXPECT_EQ(c.duration_seconds, 95);
  EXPECT_EQ(c.cause, "LocalDisconnect");
  EXPECT_EQ(c.ended_at, clock_.now() + seconds(95));
  EXPECT_EQ(devices_->callRecords(open)->total, 0);

  // An end without a start makes an ended record; a start twice keeps one open record.
  CallRecord lone = end;
  lone.call_id = "9";
  lone.started_at = {};
  ASSERT_TRUE(devices_->callEnded(lone).ok());
  start.call_id = "10";
  ASSERT_TRUE(devices_->callStarted(start).ok());
  start.remote = "";
  ASSERT_TRUE(devices_->callStarted(start).ok());
  CallRecordFilter of_a;
  of_a.system_id = a.id;
  calls = devices_->callRecords(of_a);
  ASSERT_EQ(calls->total, 3);
  auto open_now = devices_->callRecords(open);
  ASSERT_EQ(open_now->total, 1);
  EXPECT_EQ(open_now->items[0].remote, "sip:bob@example.com");
  bool found_lone = false;
  for (const auto& r : calls->items) {
    if (r.call_id == "9") {
      found_lone = true;
      EXPECT_EQ(r.started_at, clock_.now());
      EXPECT_EQ(r.duration_seconds, 95);
    }
  }
  EXPECT_TRUE(found_lone);
}

// A call event replayed (from a node's spool) after its system was removed is stored without
// its system and opens no call record, instead of failing the whole batch on the foreign key.
TEST_P(DeviceStoreTest, CallEventOfARemovedSystemIsStoredWithoutItsCall) {
  System a = create("Alpha");
  ASSERT_TRUE(store_->deleteSystem(a.id, "tester").ok());
  CallRecord start;
  start.system_id = a.id;
  start.call_id = "1";
  start.started_at = clock_.now();
  start.source = "feedback";
  auto stored =
      devices_->storeEvents({event("late", a.id, "call-connected"), event("other", std::nullopt)},
                            {{CallUpdate::Kind::kStarted, 0, start}});
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_FALSE((*stored)[0].system_id.has_value());
  EXPECT_EQ(devices_->callRecords({})->total, 0);
}

// "The same post within a minute is a retry": events that carry the key of their content are
// stored once per content within kRetryWindow, whichever copy reaches the database first (a
// node's spool may replay the earlier copy after the later one was stored), and the same content
// later is a new event.
TEST_P(DeviceStoreTest, ContentSeenWithinTheRetryWindowIsStoredOnceInEitherOrder) {
  System a = create("Alpha");
  auto copy = [&](const std::string& key, std::chrono::milliseconds after) {
    StoredEvent e = event(key, a.id, "boot");
    e.retry_key = "content-1";
    e.received_at = clock_.now() + after;
    return e;
  };
  // The later copy (node B, 5 s after) first; the earlier one (node A's spool) afterwards.
  auto stored = devices_->storeEvents({copy("b-copy", seconds(5))}, {});
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->size(), 1u);
  stored = devices_->storeEvents({copy("a-copy", seconds(0))}, {});
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_TRUE(stored->empty());
  // A copy 50 s after the stored one is still a retry; two copies in one batch are one event.
  stored = devices_->storeEvents({copy("c-copy", seconds(55)), copy("d-copy", seconds(56))}, {});
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_TRUE(stored->empty());
  // 61 s after the stored copy: the same content again, a new event.
  stored = devices_->storeEvents({copy("later", seconds(66))}, {});
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->size(), 1u);
  // Other content at the same moment is not a retry.
  StoredEvent other = copy("other", seconds(5));
  other.retry_key = "content-2";
  stored = devices_->storeEvents({other}, {});
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), 1u);
  EXPECT_EQ(keys({}), (std::vector<std::string>{"other", "later", "b-copy"}));
}

// Nodes storing copies of one retry at the same moment store it once (PostgreSQL: concurrent
// transactions on several connections; SQLite: one writer at a time).
TEST_P(DeviceStoreTest, ConcurrentCopiesOfOneRetryAreStoredOnce) {
  System a = create("Alpha");
  constexpr int kRounds = 20;
  constexpr int kWriters = 4;
  std::atomic<int> failures{0};
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, round, w] {
        StoredEvent e = event("r" + std::to_string(round) + "-w" + std::to_string(w), a.id, "boot");
        e.retry_key = "round-" + std::to_string(round);
        e.received_at = clock_.now() + std::chrono::milliseconds(w);
        if (!devices_->storeEvents({e}, {}).ok()) ++failures;
      });
    }
    for (auto& t : writers) t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EventFilter all;
  all.limit = 1000;
  EXPECT_EQ(devices_->events(all)->total, kRounds);
}

// A call's disconnect stored before its connect (they reached different nodes, or the connect
// was replayed from a spool later) ends as one closed record with the connect's start, not as an
// ended record plus an open one that nothing would close.
TEST_P(DeviceStoreTest, AConnectArrivingAfterItsDisconnectClosesTheCall) {
  System a = create("Alpha");
  CallRecord start;
  start.system_id = a.id;
  start.call_id = "7";
  start.direction = "incoming";
  start.remote = "sip:carol@example.com";
  start.protocol = "SIP";
  start.started_at = clock_.now();
  start.source = "feedback";
  CallRecord end = start;
  end.started_at = {};
  end.remote = "";
  end.direction = "";
  end.ended_at = clock_.now() + seconds(40);
  end.cause = "RemoteDisconnect";
  ASSERT_TRUE(devices_
                  ->storeEvents({event("end", a.id, "call-disconnected")},
                                {{CallUpdate::Kind::kEnded, 0, end}})
                  .ok());
  ASSERT_TRUE(devices_
                  ->storeEvents({event("start", a.id, "call-connected")},
                                {{CallUpdate::Kind::kStarted, 0, start}})
                  .ok());
  auto calls = devices_->callRecords({});
  ASSERT_TRUE(calls.ok());
  ASSERT_EQ(calls->total, 1);
  const CallRecord& c = calls->items[0];
  EXPECT_EQ(c.started_at, clock_.now());
  EXPECT_EQ(c.ended_at, clock_.now() + seconds(40));
  EXPECT_EQ(c.duration_seconds, 40);
  EXPECT_EQ(c.remote, "sip:carol@example.com");
  EXPECT_EQ(c.direction, "incoming");
  EXPECT_EQ(c.cause, "RemoteDisconnect");
  CallRecordFilter open;
  open.open_only = true;
  EXPECT_EQ(devices_->callRecords(open)->total, 0);

  // The same call id after that call ended is a new call (ids repeat after a reboot): it opens.
  start.started_at = clock_.now() + seconds(600);
  ASSERT_TRUE(devices_->callStarted(start).ok());
  EXPECT_EQ(devices_->callRecords(open)->total, 1);
  EXPECT_EQ(devices_->callRecords({})->total, 2);
}

// A connect and its disconnect stored at the same moment by two nodes (two connections): one
// record, closed, every time.
TEST_P(DeviceStoreTest, AConnectAndItsDisconnectStoredAtOnceMakeOneClosedCall) {
  System a = create("Alpha");
  constexpr int kRounds = 30;
  std::atomic<int> failures{0};
  for (int round = 0; round < kRounds; ++round) {
    CallRecord start;
    start.system_id = a.id;
    start.call_id = "race-" + std::to_string(round);
    start.started_at = clock_.now();
    start.source = "feedback";
    CallRecord end = start;
    end.started_at = {};
    end.ended_at = clock_.now() + seconds(5);
    std::thread connect([&, start, round] {
      if (!devices_
               ->storeEvents({event("c" + std::to_string(round), a.id, "call-connected")},
                             {{CallUpdate::Kind::kStarted, 0, start}})
               .ok()) {
        ++failures;
      }
    });
    std::thread disconnect([&, end, round] {
      if (!devices_
               ->storeEvents({event("d" + std::to_string(round), a.id, "call-disconnected")},
                             {{CallUpdate::Kind::kEnded, 0, end}})
               .ok()) {
        ++failures;
      }
    });
    connect.join();
    disconnect.join();
  }
  EXPECT_EQ(failures.load(), 0);
  CallRecordFilter all;
  all.limit = 1000;
  EXPECT_EQ(devices_->callRecords(all)->total, kRounds);
  CallRecordFilter open;
  open.open_only = true;
  EXPECT_EQ(devices_->callRecords(open)->total, 0);
}

TEST_P(DeviceStoreTest, OneOpenTicketPerSystemAndKind) {
  System a = create("Alpha");
  auto t1 = devices_->raiseTicket(a.id, kTicketNoResponse, "major", "no answer");
  ASSERT_TRUE(t1.ok()) << t1.error().message;
  clock_.advance(seconds(60));
  auto t2 = devices_->raiseTicket(a.id, kTicketNoResponse, "major", "still no answer");
  ASSERT_TRUE(t2.ok()) << t2.error().message;
  EXPECT_EQ(t2->id, t1->id);
  EXPECT_EQ(t2->message, "still no answer");
  EXPECT_EQ(t2->first_seen, clock_.now() - seconds(60));
  EXPECT_EQ(t2->last_seen, clock_.now());
  // Another kind, and server tickets (no system), are separate; server tickets also one open.
  auto other = devices_->raiseTicket(a.id, kTicketMalformedInput, "minor", "bad XML");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->id, t1->id);
  auto s1 = devices_->raiseTicket(std::nullopt, "db-latency", "warning", "slow");
  auto s2 = devices_->raiseTicket(std::nullopt, "db-latency", "warning", "slower");
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(s1->id, s2->id);
  EXPECT_FALSE(s2->system_id.has_value());

  ASSERT_TRUE(devices_->clearTicket(a.id, kTicketNoResponse).ok());
  ASSERT_TRUE(devices_->clearTicket(a.id, kTicketNoResponse).ok());  // nothing open: fine
  TicketFilter open;
  open.system_id = a.id;
  auto open_page = devices_->tickets(open);
  ASSERT_TRUE(open_page.ok());
  ASSERT_EQ(open_page->total, 1);
  EXPECT_EQ(open_page->items[0].kind, kTicketMalformedInput);
  // Raised again after clearing: a new ticket.
  auto t3 = devices_->raiseTicket(a.id, kTicketNoResponse, "major", "gone again");
  ASSERT_TRUE(t3.ok());
  EXPECT_NE(t3->id, t1->id);
  TicketFilter all;
  all.open_only = false;
  all.kind = kTicketNoResponse;
  auto history = devices_->tickets(all);
  ASSERT_EQ(history->total, 2);
  EXPECT_EQ(history->items[0].id, t3->id);
  EXPECT_TRUE(history->items[1].cleared_at.has_value());

  auto acked = devices_->acknowledgeTicket(t3->id, "alice");
  ASSERT_TRUE(acked.ok()) << acked.error().message;
  EXPECT_EQ(acked->acknowledged_by, "alice");
  EXPECT_EQ(acked->acknowledged_at, clock_.now());
  AuditFilter f;
  f.entity_type = "ticket";
  EXPECT_EQ(store_->audit(f)->total, 1);
  EXPECT_EQ(devices_->acknowledgeTicket(999999, "alice").error().code, ErrorCode::kNotFound);
}

TEST_P(DeviceStoreTest, ServerAddressesRoundTrip) {
  auto empty = devices_->serverAddresses();
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(empty->lan_ipv4, "");
  EXPECT_EQ(empty->http_port, 8080);
  ServerAddresses a;
  a.lan_ipv4 = "10.1.1.1";
  a.lan_ipv6 = "2001:db8::1";
  a.lan_fqdn = "atrium.corp.example";
  a.public_ipv4 = "198.51.100.7";
  a.public_fqdn = "atrium.example.com";
  a.http_port = 80;
  ASSERT_TRUE(devices_->setServerAddresses(a, "alice").ok());
  a.public_fqdn = "vc.example.com";
  ASSERT_TRUE(devices_->setServerAddresses(a, "alice").ok());
  auto back = devices_->serverAddresses();
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->lan_ipv6, "2001:db8::1");
  EXPECT_EQ(back->public_fqdn, "vc.example.com");
  EXPECT_EQ(back->http_port, 80);
  AuditFilter f;
  f.entity_type = "settings";
  EXPECT_EQ(store_->audit(f)->total, 2);
}

TEST_P(DeviceStoreTest, ExpectedSoftwareVersionsRoundTrip) {
  auto empty = devices_->expectedSoftwareVersions();
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_TRUE(empty->empty());
  const std::map<std::string, std::string> first{{"Cisco TelePresence SX80", "ce9.15.0"},
                                                 {"Polycom Group 500", "6.2.2.1"}};
  ASSERT_TRUE(devices_->setExpectedSoftwareVersions(first, "alice").ok());
  auto back = devices_->expectedSoftwareVersions();
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, first);
  const std::map<std::string, std::string> second{{"Cisco Webex Room Kit", "RoomOS 11.5.1"}};
  ASSERT_TRUE(devices_->setExpectedSoftwareVersions(second, "bob").ok());
  EXPECT_EQ(*devices_->expectedSoftwareVersions(), second);
  // Independent of the other settings.
  EXPECT_EQ(devices_->serverAddresses()->http_port, 8080);
  ASSERT_TRUE(devices_->setExpectedSoftwareVersions({}, "bob").ok());
  EXPECT_TRUE(devices_->expectedSoftwareVersions()->empty());
  AuditFilter f;
  f.entity_type = "settings";
  auto audit = store_->audit(f);
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->total, 3);
}

INSTANTIATE_TEST_SUITE_P(Backends, DeviceStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace atrium::store
