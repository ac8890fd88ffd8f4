// The scheduler against a scripted task queue: due tasks are claimed and run at most
// max_running at once, results are finished fenced, a run whose lease is lost or not renewed
// within the lease time stops itself and is not finished by this node, a stopping or inactive
// node hands its runs over, and the built-in kinds (wait, database-backup on SQLite) and the
// POST /api/v1/tasks body checks behave.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "api/task_endpoints.h"
#include "services/scheduler.h"
#include "services/tasks/task_kinds.h"
#include "store/store.h"
#include "support/process.h"

namespace atrium::services {
namespace {

using namespace std::chrono_literals;

struct Finished {
  std::string task_id;
  bool ok = false;
  std::string message;
};

class FakeQueue final : public TaskQueue {
 public:
  Result<std::optional<store::ClaimedTask>> claimDueTask(const std::string& node_id,
                                                         const std::string& node_name,
                                                         std::int64_t ttl_ms) override {
    std::lock_guard lock(mu);
    last_ttl = ttl_ms;
    if (due.empty()) return std::optional<store::ClaimedTask>();
    auto c = due.front();
    due.pop_front();
    c.fence.holder = node_id;
    (void)node_name;
    return std::optional<store::ClaimedTask>(c);
  }
  Result<store::TaskRenewal> renewTask(const store::Fence& fence, std::int64_t ttl_ms) override {
    std::lock_guard lock(mu);
    renewals.emplace_back(fence.lease_key, ttl_ms);
    if (renew_unreachable) return Error::unavailable("database unreachable");
    return store::TaskRenewal{renew_holds, cancel_requested, "tester"};
  }
  Result<bool> finishCancelled(const store::ClaimedTask& claimed,
                               const std::string& message) override {
    std::lock_guard lock(mu);
    cancelled.push_back({claimed.task.id, false, message});
    return true;
  }
  Result<bool> finishTask(const store::ClaimedTask& claimed, bool ok,
                          const std::string& message) override {
    std::lock_guard lock(mu);
    finished.push_back({claimed.task.id, ok, message});
    return true;
  }
  Result<int> recoverExpiredTasks(const std::string& /*by_node_name*/) override {
    std::lock_guard lock(mu);
    ++recover_calls;
    return 0;
  }

  void add(const std::string& id, const std::string& kind, const std::string& payload = "{}") {
    store::ClaimedTask c;
    c.task.id = id;
    c.task.spec.kind = kind;
    c.task.spec.name = kind;
    c.task.spec.payload = payload;
    c.task.state = "running";
    c.task.attempts = 1;
    c.run_id = static_cast<std::int64_t>(due.size()) + 1;
    c.fence = {"task:" + id, "", 1};
    std::lock_guard lock(mu);
    due.push_back(c);
  }
  std::vector<Finished> finishedCopy() {
    std::lock_guard lock(mu);
    return finished;
  }
  bool handedOver(const std::string& id) {
    std::lock_guard lock(mu);
    for (const auto& [key, ttl] : renewals) {
      if (key == "task:" + id && ttl == 1) return true;
    }
    return false;
  }

  std::mutex mu;
  std::deque<store::ClaimedTask> due;
  std::vector<Finished> finished;
  std::vector<Finished> cancelled;
  std::vector<std::pair<std::string, std::int64_t>> renewals;
  bool renew_holds = true;
  bool cancel_requested = false;
  bool renew_unreachable = false;
  int recover_calls = 0;
  std::int64_t last_ttl = 0;
};

template <typename Pred>
bool waitFor(Pred pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// A kind that runs until released, counting how many run at once.
struct Gate {
  std::mutex mu;
  bool open = false;
  int running = 0;
  int max_running = 0;
  int started = 0;
};

TaskKind gatedKind(Gate& gate) {
  TaskKind k;
  k.name = "gated";
  k.run = [&gate](const TaskContext& ctx) -> Result<std::string> {
    {
      std::lock_guard lock(gate.mu);
      ++gate.started;
      ++gate.running;
      gate.max_running = std::max(gate.max_running, gate.running);
    }
    while (true) {
      {
        std::lock_guard lock(gate.mu);
        if (gate.open) break;
      }
      if (!ctx.sleepFor(10ms)) {
        std::lock_guard lock(gate.mu);
        --gate.running;
        return Error::unavailable("interrupted");
      }
    }
    std::lock_guard lock(gate.mu);
    --gate.running;
    return std::string("done");
  };
  return k;
}

SchedulerOptions options() {
  SchedulerOptions o;
  o.node_id = "node-id-1";
  o.node_name = "node-1";
  o.heartbeat = 20ms;
  o.lease = 2000ms;
  o.max_running = 2;
  return o;
}

TEST(Scheduler, RunsDueTasksAndFinishesThemWithTheirMessage) {
  FakeQueue queue;
  TaskKinds kinds;
  kinds.add({"hello",
             "",
             [](const TaskContext& ctx) -> Result<std::string> {
               return "hello " + ctx.payload().value("who", std::string("?"));
             },
             {}});
  kinds.add({"broken",
             "",
             [](const TaskContext&) -> Result<std::string> { return Error::internal("it broke"); },
             {}});
  kinds.add({"throws",
             "",
             [](const TaskContext&) -> Result<std::string> { throw std::runtime_error("boom"); },
             {}});
  queue.add("t1", "hello", R"({"who":"world"})");
  queue.add("t2", "broken");
  queue.add("t3", "unknown-kind");
  queue.add("t4", "throws");
  SystemClock clock;
  Scheduler scheduler(options(), queue, kinds, clock, [] { return true; });
  scheduler.start();
  ASSERT_TRUE(waitFor([&] { return queue.finishedCopy().size() == 4; }));
  scheduler.stop();
  std::map<std::string, Finished> by_id;
  for (const auto& f : queue.finishedCopy()) by_id[f.task_id] = f;
  EXPECT_TRUE(by_id["t1"].ok);
  EXPECT_EQ(by_id["t1"].message, "hello world");
  EXPECT_FALSE(by_id["t2"].ok);
  EXPECT_EQ(by_id["t2"].message, "it broke");
  EXPECT_FALSE(by_id["t3"].ok);
  EXPECT_NE(by_id["t3"].message.find("node-1"), std::string::npos) << by_id["t3"].message;
  EXPECT_NE(by_id["t3"].message.find("unknown-kind"), std::string::npos);
  EXPECT_FALSE(by_id["t4"].ok);
  EXPECT_NE(by_id["t4"].message.find("boom"), std::string::npos);
  EXPECT_EQ(queue.last_ttl, 2000);
  EXPECT_GT(queue.recover_calls, 0);
  auto stats = scheduler.stats();
  EXPECT_EQ(stats.claimed, 4u);
  EXPECT_EQ(stats.succeeded, 1u);
  EXPECT_EQ(stats.failed, 3u);
}

TEST(Scheduler, RunsAtMostMaxRunningAtOnceAndRenewsTheirLeases) {
  FakeQueue queue;
  Gate gate;
  TaskKinds kinds;
  kinds.add(gatedKind(gate));
  for (int i = 0; i < 6; ++i) queue.add("t" + std::to_string(i), "gated");
  SystemClock clock;
  Scheduler scheduler(options(), queue, kinds, clock, [] { return true; });
  scheduler.start();
  ASSERT_TRUE(waitFor([&] {
    std::lock_guard lock(gate.mu);
    return gate.started == 2;
  }));
  // Renewed every heartbeat while running, with the lease time.
  ASSERT_TRUE(waitFor([&] {
    std::lock_guard lock(queue.mu);
    return queue.renewals.size() >= 4;
  }));
  {
    std::lock_guard lock(queue.mu);
    for (const auto& [key, ttl] : queue.renewals) EXPECT_EQ(ttl, 2000);
  }
  {
    std::lock_guard lock(gate.mu);
    EXPECT_EQ(gate.started, 2);
    gate.open = true;
  }
  ASSERT_TRUE(waitFor([&] { return queue.finishedCopy().size() == 6; }));
  scheduler.stop();
  EXPECT_EQ(gate.max_running, 2);
}

TEST(Scheduler, ARunWhoseLeaseMovedStopsAndIsNotFinishedHere) {
  FakeQueue queue;
  Gate gate;
  TaskKinds kinds;
  kinds.add(gatedKind(gate));
  queue.add("t1", "gated");
  SystemClock clock;
  Scheduler scheduler(options(), queue, kinds, clock, [] { return true; });
  scheduler.start();
  ASSERT_TRUE(waitFor([&] {
    std::lock_guard lock(gate.mu);
    return gate.started == 1;
  }));
  {
    std::lock_guard lock(queue.mu);
    queue.renew_holds = false;  // another node holds it now
  }
  ASSERT_TRUE(waitFor([&] { return scheduler.stats().interrupted == 1; }));
  scheduler.stop();
  EXPECT_TRUE(queue.finishedCopy().empty());
  EXPECT_FALSE(queue.handedOver("t1"));  // not ours to hand over
}

TEST(Scheduler, ACancelSeenAtARenewalStopsTheRunAndRecordsItCancelledByWhoAsked) {
  FakeQueue queue;
  TaskKinds kinds;
  kinds.add(tasks::waitTask());
  queue.add("t1", "wait", R"({"seconds":3600})");
  SystemClock clock;
  Scheduler scheduler(options(), queue, kinds, clock, [] { return true; });
  scheduler.start();
  ASSERT_TRUE(waitFor([&] { return scheduler.stats().running == 1; }));
  {
    std::lock_guard lock(queue.mu);
    queue.cancel_requested = true;  // a node changed the task's row
  }
  scheduler.wake();
  ASSERT_TRUE(waitFor([&] { return scheduler.stats().cancelled == 1; }, 2s));
  EXPECT_EQ(scheduler.stats().running, 0u);
  EXPECT_EQ(scheduler.stats().interrupted, 0u);
  scheduler.stop();
  std::lock_guard lock(queue.mu);
  ASSERT_EQ(queue.cancelled.size(), 1u);
  EXPECT_EQ(queue.cancelled[0].task_id, "t1");
  EXPECT_NE(queue.cancelled[0].message.find("cancelled by tester"), std::string::npos);
  EXPECT_TRUE(queue.finished.empty());
}

TEST(Scheduler, ARunNotRenewedWithinTheLeaseTimeStopsItself) {
  FakeQueue queue;
  Gate gate;
  TaskKinds kinds;
  kinds.add(gatedKind(gate));
  queue.add("t1", "gated");
  FakeClock clock;
  Scheduler scheduler(options(), queue, kinds, clock, [] { return true; });
  scheduler.start();
  ASSERT_TRUE(waitFor([&] {
    std::lock_guard lock(gate.mu);
    return gate.started == 1;
  }));
  {
    std::lock_guard lock(queue.mu);
    queue.renew_unreachable = true;  // the database is away: renewals fail
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(scheduler.stats().interrupted, 0u);  // still within the lease time
  clock.advance(2001ms);
  ASSERT_TRUE(waitFor([&] { return scheduler.stats().interrupted == 1; }));
  scheduler.stop();
  EXPECT_TRUE(queue.finishedCopy().empty());
}

TEST(Scheduler, StoppingHandsRunningTasksOver) {
  FakeQueue queue;
  Gate gate;
  TaskKinds kinds;
  kinds.add(gatedKind(gate));
  queue.add("t1", "gated");
  SystemClock clock;
  Scheduler scheduler(options(), queue, kinds, clock, [] { return true; });
  scheduler.start();
  ASSERT_TRUE(waitFor([&] {
    std::lock_guard lock(gate.mu);
    return gate.started == 1;
  }));
  scheduler.stop();
  EXPECT_TRUE(queue.finishedCopy().empty());
  EXPECT_TRUE(queue.handedOver("t1"));
  EXPECT_EQ(scheduler.stats().interrupted, 1u);
}

TEST(Scheduler, AnInactiveNodeTakesNoTasksAndHandsItsRunsOver) {
  FakeQueue queue;
  Gate gate;
  TaskKinds kinds;
  kinds.add(gatedKind(gate));
  queue.add("t1", "gated");
  std::atomic<bool> active{false};
  SystemClock clock;
  Scheduler scheduler(options(), queue, kinds, clock, [&] { return active.load(); });
  scheduler.start();
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(scheduler.stats().claimed, 0u);
  EXPECT_EQ(queue.recover_calls, 0);
  active = true;
  scheduler.wake();
  ASSERT_TRUE(waitFor([&] {
    std::lock_guard lock(gate.mu);
    return gate.started == 1;
  }));
  active = false;  // demoted, or draining
  ASSERT_TRUE(waitFor([&] { return scheduler.stats().interrupted == 1; }));
  EXPECT_TRUE(queue.handedOver("t1"));
  scheduler.stop();
}

// ---- kinds ---------------------------------------------------------------------------------

TEST(TaskKinds, WaitHoldsForItsSecondsAndStopsWhenTheLeaseGoes) {
  SystemClock clock;
  auto kind = tasks::waitTask();
  EXPECT_TRUE(kind.check(nlohmann::json{{"seconds", 1}}).ok());
  EXPECT_FALSE(kind.check(nlohmann::json::object()).ok());
  EXPECT_FALSE(kind.check(nlohmann::json{{"seconds", -1}}).ok());
  EXPECT_FALSE(kind.check(nlohmann::json{{"seconds", 1}, {"other", 2}}).ok());
  store::TaskRecord task;
  {
    TaskRunState state(clock.monotonic());
    TaskContext ctx(task, {{"seconds", 0.2}}, state, clock, 5000ms);
    auto started = clock.monotonic();
    auto r = kind.run(ctx);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_GE(clock.monotonic() - started, 200ms);
  }
  {
    TaskRunState state(clock.monotonic());
    TaskContext ctx(task, {{"seconds", 0.05}, {"fail", "as asked"}}, state, clock, 5000ms);
    auto r = kind.run(ctx);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "as asked");
  }
  {
    TaskRunState state(clock.monotonic());
    TaskContext ctx(task, {{"seconds", 60}}, state, clock, 5000ms);
    std::thread stopper([&] {
      std::this_thread::sleep_for(100ms);
      std::lock_guard lock(state.mu);
      state.stop = true;
      state.cv.notify_all();
    });
    auto started = clock.monotonic();
    auto r = kind.run(ctx);
    stopper.join();
    EXPECT_FALSE(r.ok());
    EXPECT_LT(clock.monotonic() - started, 5s);
  }
}

TEST(TaskKinds, PasswordsStayOffPgDumpsCommandLine) {
  auto url = tasks::withoutPassword(
      "postgresql://atrium:s%40cret@db1:5432,db2:5432/atrium?target_session_attrs=read-write");
  EXPECT_EQ(url.conninfo,
            "postgresql://atrium@db1:5432,db2:5432/atrium?target_session_attrs=read-write");
  ASSERT_TRUE(url.password);
  EXPECT_EQ(*url.password, "s@cret");
  auto query = tasks::withoutPassword("postgresql://atrium@db/atrium?password=x&sslmode=require");
  EXPECT_EQ(query.conninfo, "postgresql://atrium@db/atrium?sslmode=require");
  EXPECT_EQ(query.password.value_or(""), "x");
  auto none = tasks::withoutPassword("postgresql://atrium@127.0.0.1:5432/atrium");
  EXPECT_EQ(none.conninfo, "postgresql://atrium@127.0.0.1:5432/atrium");
  EXPECT_FALSE(none.password);
  auto kv = tasks::withoutPassword("host=db1 password='a b\\'c' dbname=atrium");
  EXPECT_EQ(kv.conninfo, "host=db1 dbname=atrium");
  EXPECT_EQ(kv.password.value_or(""), "a b'c");
}

TEST(TaskKinds, DatabaseBackupOnSqliteWritesACopyAndKeepsTheNewest) {
  testing::TempDir dir;
  const std::string url = "sqlite:" + (dir.path() / "atrium.db").string();
  SystemClock clock;
  auto db = store::Database::open(url);
  ASSERT_TRUE(db.ok()) << db.error().message;
  store::Store store(**db, clock);
  ASSERT_TRUE(store.migrate().ok());
  ASSERT_TRUE(store.createInstallation("Backup test", "test").ok());
  const auto backups = dir.path() / "backups";
  std::filesystem::create_directories(backups);
  for (const char* old : {"2001-01-01T00-00-00.000Z.sqlite", "2002-01-01T00-00-00.000Z.sqlite",
                          "2003-01-01T00-00-00.000Z.sql"}) {
    std::ofstream(backups / old) << "old";
  }
  tasks::BackupOptions options;
  options.database_url = url;
  options.directory = backups;
  auto kind = tasks::databaseBackupTask(options, clock);
  EXPECT_TRUE(kind.check(nlohmann::json{{"keep", 2}}).ok());
  EXPECT_FALSE(kind.check(nlohmann::json{{"keep", 0}}).ok());
  store::TaskRecord task;
  TaskRunState state(clock.monotonic());
  TaskContext ctx(task, {{"keep", 2}}, state, clock, 5000ms);
  auto r = kind.run(ctx);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<std::filesystem::path> left;
  for (const auto& e : std::filesystem::directory_iterator(backups)) left.push_back(e.path());
  std::sort(left.begin(), left.end());
  ASSERT_EQ(left.size(), 2u) << *r;
  EXPECT_EQ(left[0].filename(), "2003-01-01T00-00-00.000Z.sql");
  EXPECT_EQ(left[1].extension(), ".sqlite");
  EXPECT_NE(r->find(left[1].string()), std::string::npos) << *r;
  // The copy is a database holding the installation.
  auto copy = store::Database::open("sqlite:" + left[1].string());
  ASSERT_TRUE(copy.ok()) << copy.error().message;
  store::Store copied(**copy, clock);
  auto inst = copied.installation();
  ASSERT_TRUE(inst.ok()) << inst.error().message;
  EXPECT_EQ(inst->name, "Backup test");
}

// Takes feedback and records where it was registered; "192.0.2.66" refuses.
class FeedbackDriver final : public devices::Driver {
 public:
  explicit FeedbackDriver(std::string family, bool feedback)
      : family_(std::move(family)), feedback_(feedback) {}
  std::string_view family() const override { return family_; }
  devices::Capabilities capabilities() const override {
    return feedback_ ? devices::Capability::kPolling | devices::Capability::kHttpFeedback
                     : devices::Capabilities(devices::Capability::kPolling);
  }
  Result<devices::DeviceStatus> poll(const devices::DriverTarget&) override {
    return devices::DeviceStatus{};
  }
  Status registerFeedback(const devices::DriverTarget& target,
                          const devices::FeedbackRegistration& r) override {
    if (target.address == "192.0.2.66")
      return Error::unavailable("no answer from " + target.address);
    std::lock_guard lock(mu);
    urls[target.address] = r.url;
    slots[target.address] = r.slot;
    return okStatus();
  }
  std::mutex mu;
  std::map<std::string, std::string> urls;
  std::map<std::string, int> slots;

 private:
  std::string family_;
  bool feedback_;
};

TEST(TaskKinds, FeedbackReregisterRegistersEverySystemThatTakesFeedback) {
  testing::TempDir dir;
  SystemClock clock;
  auto db = store::Database::open("sqlite:" + (dir.path() / "atrium.db").string());
  ASSERT_TRUE(db.ok()) << db.error().message;
  store::Store store(**db, clock);
  ASSERT_TRUE(store.migrate().ok());
  ASSERT_TRUE(store.createInstallation("test", "test").ok());
  store::DeviceStore devices(**db, clock);
  store::ServerAddresses addresses;
  addresses.lan_ipv4 = "192.0.2.200";
  addresses.http_port = 8080;
  ASSERT_TRUE(devices.setServerAddresses(addresses, "test").ok());
  auto add = [&](const std::string& name, const std::string& family, const std::string& address,
                 const std::string& connectivity = "reachable-lan") {
    store::System s;
    s.name = name;
    s.family = family;
    s.addresses = {address};
    s.connectivity = connectivity;
    ASSERT_TRUE(store.createSystem(s, "test").ok());
  };
  add("room-1", "cisco-xapi", "192.0.2.10");
  add("room-2", "cisco-xapi", "192.0.2.11");
  add("dead", "cisco-xapi", "192.0.2.66");
  add("far", "cisco-xapi", "192.0.2.12", "reachable-public");  // no public address set
  add("printer", "snmp", "192.0.2.13");
  devices::DriverRegistry drivers;
  auto xapi = std::make_unique<FeedbackDriver>("cisco-xapi", true);
  auto* xapi_driver = xapi.get();
  drivers.add(std::move(xapi));
  drivers.add(std::make_unique<FeedbackDriver>("snmp", false));
  PollerOptions poller_options;
  auto kind = tasks::feedbackReregisterTask(devices, drivers, poller_options);
  EXPECT_FALSE(kind.check(nlohmann::json{{"x", 1}}).ok());
  store::TaskRecord task;
  TaskRunState state(clock.monotonic());
  TaskContext ctx(task, nlohmann::json::object(), state, clock, 5000ms);
  auto r = kind.run(ctx);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->find("registered feedback on 2 of 3"), std::string::npos) << *r;
  EXPECT_NE(r->find("1 failed (first: dead:"), std::string::npos) << *r;
  EXPECT_NE(r->find("1 skipped"), std::string::npos) << *r;
  EXPECT_NE(r->find("1 of families without feedback"), std::string::npos) << *r;
  std::lock_guard lock(xapi_driver->mu);
  ASSERT_EQ(xapi_driver->urls.size(), 2u);
  EXPECT_EQ(xapi_driver->urls["192.0.2.10"].rfind("http://192.0.2.200:8080/feedback/", 0), 0u)
      << xapi_driver->urls["192.0.2.10"];
  EXPECT_EQ(xapi_driver->slots["192.0.2.10"], poller_options.feedback_slot);
}

// ---- the API's body checks -------------------------------------------------------------------

TEST(TaskApi, CreateBodiesAreCheckedAgainstTheKnownKinds) {
  TaskKinds kinds;
  kinds.add(tasks::waitTask());
  kinds.add({"database-backup",
             "",
             [](const TaskContext&) -> Result<std::string> { return std::string(); },
             {}});
  auto unknown = api::parseTaskCreate(R"({"kind":"reboot-everything"})", kinds);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().field, "kind");
  EXPECT_NE(unknown.error().message.find("database-backup, wait"), std::string::npos)
      << unknown.error().message;
  auto bad_payload = api::parseTaskCreate(R"({"kind":"wait","payload":{"seconds":"x"}})", kinds);
  ASSERT_FALSE(bad_payload.ok());
  EXPECT_EQ(bad_payload.error().field, "payload.seconds");
  auto bad_misfire =
      api::parseTaskCreate(R"({"kind":"wait","payload":{"seconds":1},"misfire":"later"})", kinds);
  ASSERT_FALSE(bad_misfire.ok());
  EXPECT_EQ(bad_misfire.error().field, "misfire");
  auto read_only =
      api::parseTaskCreate(R"({"kind":"wait","payload":{"seconds":1},"state":"x"})", kinds);
  ASSERT_FALSE(read_only.ok());
  EXPECT_EQ(read_only.error().field, "state");
  auto spec = api::parseTaskCreate(
      R"({"kind":"wait","name":"drill","payload":{"seconds":20},"run_at":"2030-01-02T03:04:05Z",)"
      R"("interval_s":60,"idempotent":true,"misfire":"skip","max_attempts":5})",
      kinds);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->kind, "wait");
  EXPECT_EQ(spec->name, "drill");
  EXPECT_EQ(nlohmann::json::parse(spec->payload), (nlohmann::json{{"seconds", 20}}));
  EXPECT_EQ(spec->run_at.value_or(0), 1893553445000);
  EXPECT_EQ(spec->interval_s.value_or(0), 60);
  EXPECT_TRUE(spec->idempotent);
  EXPECT_EQ(spec->misfire, "skip");
  EXPECT_EQ(spec->max_attempts, 5);
}

}  // namespace
}  // namespace atrium::services
