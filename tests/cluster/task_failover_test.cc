// The clustered task scheduler with real processes: two `atrium serve` nodes on one PostgreSQL
// (heartbeat 250 ms, failover timeout 2 s). A task whose node is SIGKILLed mid-run is taken over
// when its lease expires: re-run on the other node if it is idempotent (the history shows the
// interrupted run and the successful one, and no two runs overlap in time), failed with a reason
// naming the dead node otherwise. A recurring task whose slots were missed follows its misfire
// policy. database-backup writes a pg_dump on PostgreSQL and a VACUUM INTO copy on SQLite, and
// the API refuses unknown kinds, cancels, and audits.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "common/clock.h"
#include "support/atrium_node.h"
#include "support/backends.h"
#include "support/cluster_harness.h"

namespace atrium::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const net::Headers kJson = {{"Content-Type", "application/json"}};

// RFC 3339 `offset` from now, as the API reads it.
std::string timeFromNow(std::chrono::milliseconds offset) {
  return formatTimestamp(std::chrono::system_clock::now() + offset);
}

Result<json> createTask(const AtriumNode& node, const json& body) {
  auto r = node.http("POST", "/api/v1/tasks", body.dump(), kJson);
  if (!r) return r.error();
  if (r->status != 201)
    return Error::internal(fmt::format("POST /api/v1/tasks: {} {}", r->status, r->body));
  return AtriumNode::json(*r);
}

json getTask(const AtriumNode& node, const std::string& id) {
  auto r = node.http("GET", "/api/v1/tasks/" + id);
  if (!r || r->status != 200) return nullptr;
  return AtriumNode::json(*r);
}

// The task as read through any running node (null when none answers).
json taskVia(Cluster& c, const std::string& id) {
  for (int i = 0; i < c.size(); ++i) {
    if (!c.running(i)) continue;
    auto t = getTask(c.node(i), id);
    if (!t.is_null()) return t;
  }
  return nullptr;
}

std::string text(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                : std::string();
}

// No two runs of a task overlap: each started after the one before had finished.
std::string overlap(const json& runs) {
  for (std::size_t i = 1; i < runs.size(); ++i) {
    const std::string prev_end = text(runs[i - 1], "finished_at");
    const std::string next_start = text(runs[i], "started_at");
    if (prev_end.empty()) return fmt::format("run {} never finished but run {} started", i - 1, i);
    if (next_start < prev_end) {
      return fmt::format("run {} started at {} before run {} finished at {}", i, next_start, i - 1,
                         prev_end);
    }
  }
  return "";
}

Result<std::unique_ptr<Cluster>> twoNodes(const std::filesystem::path& dir) {
  ClusterOptions o;
  o.postgres = &sharedPostgres();
  o.nodes = 2;
  o.polling = false;
  o.heartbeat = 250ms;
  o.failover_timeout = 2000ms;
  o.log_level = "info";
  return Cluster::start(dir, o);
}

// Waits until the task runs somewhere; the index of the node running it (-1 if it never did).
int waitRunning(Cluster& c, const std::string& id, json& task) {
  int holder = -1;
  waitFor(
      [&] {
        task = taskVia(c, id);
        if (text(task, "state") != "running" || text(task, "holder").empty()) return false;
        holder = c.indexOf(text(task, "holder"));
        return holder >= 0;
      },
      30s, 100ms);
  return holder;
}

TEST(TaskFailoverTest, AnIdempotentTaskIsReRunOnTheOtherNodeWhenItsNodeDies) {
  TempDir tmp;
  auto started = twoNodes(tmp.path());
  ASSERT_TRUE(started.ok()) << started.error().message;
  Cluster& c = **started;
  LogsOnFailure logs{c, 200};

  auto created = createTask(c.node(0), {{"kind", "wait"},
                                        {"name", "failover drill"},
                                        {"payload", {{"seconds", 20}}},
                                        {"idempotent", true}});
  ASSERT_TRUE(created.ok()) << created.error().message;
  const std::string id = text(*created, "id");
  EXPECT_EQ(text(*created, "state"), "scheduled");
  EXPECT_EQ((*created)["idempotent"], true);

  json task;
  const int victim = waitRunning(c, id, task);
  ASSERT_GE(victim, 0) << task.dump(2);
  const int survivor = 1 - victim;
  const std::string victim_name = c.nodeName(victim);
  // Let it run a little, then kill it mid-run.
  std::this_thread::sleep_for(1s);
  ASSERT_EQ(text(getTask(c.node(survivor), id), "state"), "running");
  c.kill(victim);

  // Taken over when the lease expires (failover timeout), re-run to the end on the survivor.
  ASSERT_TRUE(waitFor(
      [&] {
        task = getTask(c.node(survivor), id);
        return text(task, "state") == "succeeded";
      },
      90s, 250ms))
      << task.dump(2);
  const json& runs = task["runs"];
  ASSERT_EQ(runs.size(), 2u) << task.dump(2);
  EXPECT_EQ(text(runs[0], "outcome"), "interrupted") << task.dump(2);
  EXPECT_EQ(text(runs[0], "node_name"), victim_name);
  EXPECT_EQ(runs[0]["attempt"], 1);
  EXPECT_EQ(text(runs[1], "outcome"), "succeeded") << task.dump(2);
  EXPECT_EQ(text(runs[1], "node_name"), c.nodeName(survivor));
  EXPECT_EQ(runs[1]["attempt"], 2);
  EXPECT_EQ(overlap(runs), "") << task.dump(2);
  EXPECT_TRUE(task["holder"].is_null());
  EXPECT_EQ(c.countInLog(survivor, "scheduler.tasks_taken_over"), 1u);
}

TEST(TaskFailoverTest, ANonIdempotentTaskFailsWithTheDeadNodesName) {
  TempDir tmp;
  auto started = twoNodes(tmp.path());
  ASSERT_TRUE(started.ok()) << started.error().message;
  Cluster& c = **started;
  LogsOnFailure logs{c, 200};

  auto created = createTask(c.node(1), {{"kind", "wait"}, {"payload", {{"seconds", 20}}}});
  ASSERT_TRUE(created.ok()) << created.error().message;
  const std::string id = text(*created, "id");
  EXPECT_EQ((*created)["idempotent"], false);
  json task;
  const int victim = waitRunning(c, id, task);
  ASSERT_GE(victim, 0) << task.dump(2);
  const int survivor = 1 - victim;
  const std::string victim_name = c.nodeName(victim);
  std::this_thread::sleep_for(500ms);
  c.kill(victim);

  ASSERT_TRUE(waitFor(
      [&] {
        task = getTask(c.node(survivor), id);
        return text(task, "state") == "failed";
      },
      60s, 250ms))
      << task.dump(2);
  EXPECT_NE(text(task, "last_error").find(victim_name), std::string::npos) << task.dump(2);
  const json& runs = task["runs"];
  ASSERT_EQ(runs.size(), 1u) << "never re-run: " << task.dump(2);
  EXPECT_EQ(text(runs[0], "node_name"), victim_name);
  EXPECT_NE(text(runs[0], "outcome"), "succeeded");
  EXPECT_NE(text(runs[0], "message").find(victim_name), std::string::npos) << task.dump(2);
  EXPECT_FALSE(text(runs[0], "finished_at").empty());

  // It stays failed: the survivor does not run it later either.
  std::this_thread::sleep_for(2s);
  task = getTask(c.node(survivor), id);
  EXPECT_EQ(text(task, "state"), "failed");
  EXPECT_EQ(task["runs"].size(), 1u);
}

TEST(TaskFailoverTest, ACancelMadeOnAnotherNodeStopsTheRunWhereItRuns) {
  TempDir tmp;
  auto started = twoNodes(tmp.path());
  ASSERT_TRUE(started.ok()) << started.error().message;
  Cluster& c = **started;
  LogsOnFailure logs{c, 200};

  auto created = createTask(c.node(0), {{"kind", "wait"}, {"payload", {{"seconds", 3600}}}});
  ASSERT_TRUE(created.ok()) << created.error().message;
  const std::string id = text(*created, "id");
  json task;
  const int runner = waitRunning(c, id, task);
  ASSERT_GE(runner, 0) << task.dump(2);
  const int other = 1 - runner;

  // The cancel is a row change made through the node that does not run the task, by bob.
  ASSERT_TRUE(c.node(other).addUser("bob", {"administration"}).ok());
  auto bob = c.node(other).signIn("bob", AtriumNode::kUserPassword);
  ASSERT_TRUE(bob.ok()) << bob.error().message;
  const std::string bob_token = *bob;
  const auto asked = std::chrono::steady_clock::now();
  auto cancel = c.node(other).http("DELETE", "/api/v1/tasks/" + id, {},
                                   {{"Authorization", "Bearer " + bob_token}});
  ASSERT_TRUE(cancel.ok());
  ASSERT_EQ(cancel->status, 200u) << cancel->body;
  ASSERT_TRUE(waitFor(
      [&] {
        task = getTask(c.node(runner), id);
        return text(task, "state") == "cancelled";
      },
      10s, 50ms))
      << task.dump(2);
  const auto took = std::chrono::steady_clock::now() - asked;
  std::printf(
      "measured: cancelled through the other node, the run ended after %lld ms\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  // Within about a heartbeat (250 ms here), with room for a loaded machine.
  EXPECT_LT(took, 2s);
  ASSERT_EQ(task["runs"].size(), 1u) << task.dump(2);
  EXPECT_EQ(text(task["runs"][0], "outcome"), "cancelled") << task.dump(2);
  EXPECT_NE(text(task["runs"][0], "message").find("cancelled by bob"), std::string::npos)
      << task.dump(2);
  EXPECT_NE(text(task["runs"][0], "message").find(c.nodeName(runner)), std::string::npos)
      << task.dump(2);
  EXPECT_EQ(c.countInLog(runner, "scheduler.task_cancelled"), 1u);
  EXPECT_EQ(c.node(runner).http("GET", "/readyz")->status, 200u);
}

TEST(TaskFailoverTest, ADrainingNodeHandsItsRunningTaskOver) {
  TempDir tmp;
  auto started = twoNodes(tmp.path());
  ASSERT_TRUE(started.ok()) << started.error().message;
  Cluster& c = **started;
  LogsOnFailure logs{c, 200};

  auto created = createTask(
      c.node(0), {{"kind", "wait"}, {"payload", {{"seconds", 3}}}, {"idempotent", true}});
  ASSERT_TRUE(created.ok()) << created.error().message;
  const std::string id = text(*created, "id");
  json task;
  const int drained = waitRunning(c, id, task);
  ASSERT_GE(drained, 0) << task.dump(2);
  const int survivor = 1 - drained;
  auto exit_code = c.node(drained).stop(SIGTERM, 30s);
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 0);
  EXPECT_EQ(c.countInLog(drained, "scheduler.task_interrupted"), 1u);

  ASSERT_TRUE(waitFor(
      [&] {
        task = getTask(c.node(survivor), id);
        return text(task, "state") == "succeeded";
      },
      60s, 100ms))
      << task.dump(2);
  const json& runs = task["runs"];
  ASSERT_EQ(runs.size(), 2u) << task.dump(2);
  EXPECT_EQ(text(runs[0], "outcome"), "interrupted");
  EXPECT_EQ(text(runs[0], "node_name"), c.nodeName(drained));
  EXPECT_EQ(text(runs[1], "node_name"), c.nodeName(survivor));
  EXPECT_EQ(overlap(runs), "") << task.dump(2);
}

TEST(TaskFailoverTest, MissedRecurringSlotsFollowTheMisfirePolicy) {
  TempDir tmp;
  auto started = twoNodes(tmp.path());
  ASSERT_TRUE(started.ok()) << started.error().message;
  Cluster& c = **started;
  LogsOnFailure logs{c, 200};

  // Due 30 s ago, every 2 s: about fifteen slots were missed while no node ran them.
  const std::string long_ago = timeFromNow(-30s);
  auto skip = createTask(c.node(0), {{"kind", "wait"},
                                     {"name", "skip missed"},
                                     {"payload", {{"seconds", 0}}},
                                     {"run_at", long_ago},
                                     {"interval_s", 2},
                                     {"misfire", "skip"}});
  ASSERT_TRUE(skip.ok()) << skip.error().message;
  auto once = createTask(c.node(1), {{"kind", "wait"},
                                     {"name", "run missed once"},
                                     {"payload", {{"seconds", 0}}},
                                     {"run_at", long_ago},
                                     {"interval_s", 2},
                                     {"misfire", "run-once"}});
  ASSERT_TRUE(once.ok()) << once.error().message;

  json skip_task, once_task;
  auto succeeded = [](const json& t) {
    int n = 0;
    for (const auto& r : t["runs"]) n += text(r, "outcome") == "succeeded" ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(waitFor(
      [&] {
        skip_task = getTask(c.node(0), text(*skip, "id"));
        once_task = getTask(c.node(0), text(*once, "id"));
        return skip_task.is_object() && once_task.is_object() && succeeded(skip_task) >= 1 &&
               succeeded(once_task) >= 2;
      },
      60s, 200ms))
      << skip_task.dump(2) << once_task.dump(2);

  // skip: the missed slots are recorded as one skipped run, then it runs at the next slot.
  const json& skip_runs = skip_task["runs"];
  ASSERT_GE(skip_runs.size(), 2u);
  EXPECT_EQ(text(skip_runs[0], "outcome"), "skipped") << skip_task.dump(2);
  EXPECT_EQ(text(skip_runs[1], "outcome"), "succeeded") << skip_task.dump(2);
  int skipped = 0;
  for (const auto& r : skip_runs) skipped += text(r, "outcome") == "skipped" ? 1 : 0;
  EXPECT_EQ(skipped, 1) << skip_task.dump(2);
  // run-once: one run at once for all the missed slots, never a catch-up of each.
  const json& once_runs = once_task["runs"];
  EXPECT_EQ(text(once_runs[0], "outcome"), "succeeded") << once_task.dump(2);
  for (const auto& r : once_runs) EXPECT_NE(text(r, "outcome"), "skipped");
  EXPECT_LT(once_runs.size(), 8u) << "missed slots were caught up one by one: "
                                  << once_task.dump(2);
  EXPECT_EQ(overlap(once_runs), "");
  // Both stay scheduled, next time in the future.
  for (const json* t : {&skip_task, &once_task}) {
    json now = getTask(c.node(1), text(*t, "id"));
    EXPECT_TRUE(text(now, "state") == "scheduled" || text(now, "state") == "running")
        << now.dump(2);
    EXPECT_TRUE(now["interval_s"] == 2);
  }
}

TEST(TaskFailoverTest, DatabaseBackupWritesAPgDumpOnTheNodeThatRanIt) {
  TempDir tmp;
  auto started = twoNodes(tmp.path());
  ASSERT_TRUE(started.ok()) << started.error().message;
  Cluster& c = **started;
  LogsOnFailure logs{c, 200};

  auto created = createTask(c.node(0), {{"kind", "database-backup"}, {"idempotent", true}});
  ASSERT_TRUE(created.ok()) << created.error().message;
  json task;
  ASSERT_TRUE(waitFor(
      [&] {
        task = getTask(c.node(0), text(*created, "id"));
        return text(task, "state") == "succeeded" || text(task, "state") == "failed";
      },
      60s, 200ms))
      << task.dump(2);
  ASSERT_EQ(text(task, "state"), "succeeded") << task.dump(2);
  const json& run = task["runs"].back();
  const int ran = c.indexOf(text(run, "node_name"));
  ASSERT_GE(ran, 0);
  std::vector<std::filesystem::path> dumps;
  for (const auto& e : std::filesystem::directory_iterator(c.node(ran).dataDir() / "backups")) {
    dumps.push_back(e.path());
  }
  ASSERT_EQ(dumps.size(), 1u);
  EXPECT_EQ(dumps[0].extension(), ".sql");
  EXPECT_NE(text(run, "message").find(dumps[0].string()), std::string::npos) << run.dump(2);
  const std::string sql = readFile(dumps[0]);
  EXPECT_NE(sql.find("CREATE TABLE public.tasks"), std::string::npos);
  // The password never reached a command line (it is in no node's log either).
  EXPECT_EQ(c.logs(100000).find(c.postgres().password()), std::string::npos);
}

TEST(TaskApiTest, SqliteBackupsUnknownKindsCancelAndAudit) {
  TempDir tmp;
  AtriumNode node(tmp.path() / "node", {});
  auto init = node.init();
  ASSERT_EQ(init.exit_code, 0) << init.output;
  ASSERT_TRUE(node.start().ok()) << node.log();
  struct NodeLogOnFailure {
    AtriumNode& n;
    ~NodeLogOnFailure() {
      if (::testing::Test::HasFailure()) std::cerr << n.log();
    }
  } log_on_failure{node};

  // Unknown kinds are refused, naming the known ones.
  auto refused = node.http("POST", "/api/v1/tasks", R"({"kind":"reboot-all"})", kJson);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 400u) << refused->body;
  auto error = AtriumNode::json(*refused)["error"];
  EXPECT_EQ(text(error, "field"), "kind");
  EXPECT_NE(text(error, "message").find("database-backup, feedback-reregister, wait"),
            std::string::npos)
      << refused->body;
  auto bad_payload = node.http("POST", "/api/v1/tasks", R"({"kind":"wait","payload":{}})", kJson);
  ASSERT_TRUE(bad_payload.ok());
  EXPECT_EQ(bad_payload->status, 400u) << bad_payload->body;

  // A backup on SQLite: a VACUUM INTO copy under <data_dir>/backups.
  auto backup = createTask(node, {{"kind", "database-backup"}, {"name", "nightly backup"}});
  ASSERT_TRUE(backup.ok()) << backup.error().message;
  json task;
  ASSERT_TRUE(waitFor(
      [&] {
        task = getTask(node, text(*backup, "id"));
        return text(task, "state") == "succeeded" || text(task, "state") == "failed";
      },
      30s, 100ms))
      << task.dump(2);
  ASSERT_EQ(text(task, "state"), "succeeded") << task.dump(2);
  std::vector<std::filesystem::path> copies;
  for (const auto& e : std::filesystem::directory_iterator(node.dataDir() / "backups"))
    copies.push_back(e.path());
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(copies[0].extension(), ".sqlite");
  EXPECT_GT(std::filesystem::file_size(copies[0]), 0u);
  EXPECT_EQ(readFile(copies[0]).substr(0, 15), "SQLite format 3");
  ASSERT_EQ(task["runs"].size(), 1u);
  EXPECT_EQ(text(task["runs"][0], "node_name"), "node-1");

  // A task due later is cancelled; cancelling it again is a conflict; unknown ids are 404.
  auto later = createTask(
      node, {{"kind", "wait"}, {"payload", {{"seconds", 1}}}, {"run_at", timeFromNow(1h)}});
  ASSERT_TRUE(later.ok()) << later.error().message;
  const std::string later_id = text(*later, "id");
  auto cancelled = node.http("DELETE", "/api/v1/tasks/" + later_id);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status, 200u) << cancelled->body;
  EXPECT_EQ(text(AtriumNode::json(*cancelled), "state"), "cancelled");
  auto again = node.http("DELETE", "/api/v1/tasks/" + later_id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 409u) << again->body;
  auto missing = node.http("GET", "/api/v1/tasks/no-such-task");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404u);

  // Lists filter by state.
  auto list = node.http("GET", "/api/v1/tasks?state=cancelled");
  ASSERT_TRUE(list.ok());
  auto page = AtriumNode::json(*list);
  EXPECT_EQ(page["total"], 1) << list->body;
  EXPECT_EQ(text(page["items"][0], "id"), later_id);
  auto bad_state = node.http("GET", "/api/v1/tasks?state=sleeping");
  ASSERT_TRUE(bad_state.ok());
  EXPECT_EQ(bad_state->status, 400u);

  // Creating and cancelling are audited.
  auto audit = node.http("GET", "/api/v1/audit?entity_type=task");
  ASSERT_TRUE(audit.ok());
  auto entries = AtriumNode::json(*audit)["items"];
  std::vector<std::string> actions;
  for (const auto& e : entries) actions.push_back(text(e, "action"));
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "create"), 2) << audit->body;
  EXPECT_EQ(std::count(actions.begin(), actions.end(), "cancel"), 1) << audit->body;

  // The CLI: tasks list and show.
  auto listed = node.run({"tasks", "list", "--config", node.configPath().string()});
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("nightly backup"), std::string::npos) << listed.output;
  auto shown =
      node.run({"tasks", "show", text(*backup, "id"), "--config", node.configPath().string()});
  EXPECT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("succeeded"), std::string::npos) << shown.output;
  auto added = node.run({"tasks", "add", "--kind", "wait", "--payload", R"({"seconds":0})",
                         "--config", node.configPath().string()});
  EXPECT_EQ(added.exit_code, 0) << added.output;
  EXPECT_NE(added.output.find("scheduled task"), std::string::npos) << added.output;
}

}  // namespace
}  // namespace atrium::testing
