// Tasks on a real node: a running task cancelled through the API stops within about a
// heartbeat, is recorded cancelled with who cancelled it, and frees its run slot; limits on
// database-backup's keep and interval are refused with 400; the data dir, the database and the
// backups are private to the node's user (0700 / 0600) although the node starts under umask 022.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "support/atrium_node.h"

namespace atrium::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

const net::Headers kJson = {{"Content-Type", "application/json"}};
constexpr auto kHeartbeat = 500ms;

AtriumNode::Options fastHeartbeat() {
  AtriumNode::Options o;
  o.extra_config = fmt::format("\n[cluster]\nheartbeat_ms = {}\nfailover_timeout_ms = 2000\n",
                               kHeartbeat.count());
  return o;
}

json createTask(const AtriumNode& node, const json& body) {
  auto r = node.http("POST", "/api/v1/tasks", body.dump(), kJson);
  if (!r.ok() || r->status != 201) {
    ADD_FAILURE() << "POST /api/v1/tasks " << body.dump() << ": "
                  << (r.ok() ? std::to_string(r->status) + " " + r->body : r.error().message);
    return nullptr;
  }
  return AtriumNode::json(*r);
}

json getTask(const AtriumNode& node, const std::string& id) {
  auto r = node.http("GET", "/api/v1/tasks/" + id);
  if (!r.ok() || r->status != 200) return nullptr;
  return AtriumNode::json(*r);
}

std::string stateOf(const AtriumNode& node, const std::string& id) {
  auto t = getTask(node, id);
  return t.is_object() ? t.value("state", "") : std::string();
}

unsigned modeOf(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0xffff;
  return st.st_mode & 07777;
}

class TaskHardeningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // What a careless service manager would give it.
    old_umask_ = ::umask(022);
    node_ = std::make_unique<AtriumNode>(tmp_.path() / "node", fastHeartbeat());
  }
  void TearDown() override {
    if (node_->process() != nullptr && node_->process()->running()) {
      EXPECT_EQ(node_->http("GET", "/healthz")->status, 200u);
      EXPECT_EQ(node_->http("GET", "/readyz")->status, 200u);
    }
    ::umask(old_umask_);
  }
  void start() {
    ASSERT_EQ(node_->init().exit_code, 0);
    ASSERT_TRUE(node_->start().ok()) << node_->log();
    ASSERT_TRUE(node_->waitReady()) << node_->log();
  }
  TempDir tmp_;
  mode_t old_umask_ = 0;
  std::unique_ptr<AtriumNode> node_;
};

TEST_F(TaskHardeningTest, CancellingARunningTaskStopsItWithinAHeartbeatAndFreesItsSlot) {
  start();
  // Four hour-long waits hold every run slot of the node (4).
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    auto t = createTask(
        *node_,
        {{"kind", "wait"}, {"name", fmt::format("hold-{}", i)}, {"payload", {{"seconds", 3600}}}});
    ASSERT_TRUE(t.is_object());
    ids.push_back(t["id"]);
  }
  ASSERT_TRUE(waitFor(
      [&] {
        return std::all_of(ids.begin(), ids.end(),
                           [&](const std::string& id) { return stateOf(*node_, id) == "running"; });
      },
      10s))
      << node_->log();
  auto queued =
      createTask(*node_, {{"kind", "wait"}, {"name", "queued"}, {"payload", {{"seconds", 0}}}});
  ASSERT_TRUE(queued.is_object());
  const std::string queued_id = queued["id"];
  std::this_thread::sleep_for(2 * kHeartbeat);
  EXPECT_EQ(stateOf(*node_, queued_id), "scheduled") << "no slot should be free yet";

  // Cancel one through the API, as alice.
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(node_->addUser("alice", {"administration"}).ok());
  auto alice = node_->signIn("alice", AtriumNode::kUserPassword);
  ASSERT_TRUE(alice.ok()) << alice.error().message;
  net::Headers headers = {{"Authorization", "Bearer " + *alice}};
  auto cancel = node_->http("DELETE", "/api/v1/tasks/" + ids[0], {}, headers);
  ASSERT_TRUE(cancel.ok());
  ASSERT_EQ(cancel->status, 200u) << cancel->body;
  ASSERT_TRUE(waitFor([&] { return stateOf(*node_, ids[0]) == "cancelled"; }, 10s))
      << getTask(*node_, ids[0]).dump(2) << node_->log();
  const auto took = std::chrono::steady_clock::now() - asked;
  std::printf(
      "measured: the cancelled run ended %lld ms after the DELETE (heartbeat %lld ms)\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
      static_cast<long long>(kHeartbeat.count()));
  EXPECT_LT(took, kHeartbeat + 1s)
      << "took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";

  // The run is recorded cancelled, with who cancelled it.
  auto task = getTask(*node_, ids[0]);
  ASSERT_EQ(task["runs"].size(), 1u) << task.dump(2);
  const auto& run = task["runs"][0];
  EXPECT_EQ(run["outcome"], "cancelled") << task.dump(2);
  EXPECT_FALSE(run["finished_at"].is_null()) << task.dump(2);
  EXPECT_NE(run["message"].get<std::string>().find("cancelled by alice"), std::string::npos)
      << task.dump(2);

  // The freed slot runs the queued task; the three others still run.
  EXPECT_TRUE(waitFor([&] { return stateOf(*node_, queued_id) == "succeeded"; }, 10s))
      << getTask(*node_, queued_id).dump(2);
  for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(stateOf(*node_, ids[i]), "running");

  const std::string log = node_->log();
  EXPECT_NE(log.find("scheduler.task_cancelled"), std::string::npos) << log;
  EXPECT_NE(log.find("cancelled_by=alice"), std::string::npos) << log;

  // The CLI does the same, as cli:<user>.
  auto cli = node_->run({"tasks", "cancel", ids[1], "--config", node_->configPath().string()});
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("is being cancelled"), std::string::npos) << cli.output;
  ASSERT_TRUE(waitFor([&] { return stateOf(*node_, ids[1]) == "cancelled"; }, 10s));
  EXPECT_NE(getTask(*node_, ids[1])["runs"][0]["message"].get<std::string>().find(
                std::string("cancelled by ") + AtriumNode::kAdminUser),
            std::string::npos)
      << getTask(*node_, ids[1]).dump(2);

  // A cancelled task cannot be cancelled again.
  auto again = node_->http("DELETE", "/api/v1/tasks/" + ids[0]);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 409u) << again->body;
}

TEST_F(TaskHardeningTest, BackupKeepAndIntervalLimitsAreRefusedWith400) {
  start();
  auto refused = [&](const json& body, const std::string& field, const std::string& words) {
    auto r = node_->http("POST", "/api/v1/tasks", body.dump(), kJson);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400u) << body.dump() << " " << r->body;
    auto j = AtriumNode::json(*r);
    EXPECT_EQ(j["error"]["field"], field) << r->body;
    EXPECT_NE(j["error"]["message"].get<std::string>().find(words), std::string::npos) << r->body;
  };
  refused({{"kind", "database-backup"}, {"payload", {{"keep", 101}}}}, "payload.keep", "1 to 100");
  refused({{"kind", "database-backup"}, {"payload", {{"keep", 0}}}}, "payload.keep", "1 to 100");
  refused({{"kind", "database-backup"}, {"payload", {{"keep", 1000000}}}, {"interval_s", 1}},
          "payload.keep", "1 to 100");
  refused({{"kind", "database-backup"}, {"interval_s", 1}}, "interval_s", "every 3600 s");
  refused({{"kind", "database-backup"}, {"interval_s", 3599}}, "interval_s", "3600");
  // Within the limits: accepted.
  auto ok = createTask(*node_, {{"kind", "database-backup"},
                                {"payload", {{"keep", 100}}},
                                {"interval_s", 3600},
                                {"run_at", "2099-01-01T00:00:00Z"}});
  EXPECT_TRUE(ok.is_object());
  // Kinds without a stricter limit still recur every second.
  EXPECT_TRUE(createTask(*node_, {{"kind", "wait"},
                                  {"payload", {{"seconds", 0}}},
                                  {"interval_s", 1},
                                  {"run_at", "2099-01-01T00:00:00Z"}})
                  .is_object());
}

TEST_F(TaskHardeningTest, DataFilesAndBackupsArePrivateAndALooserDataDirIsTightened) {
  ASSERT_EQ(node_->init().exit_code, 0);
  // An installation from before: everything readable by all.
  const fs::path data = node_->dataDir();
  ::chmod(data.c_str(), 0755);
  ::chmod((data / "atrium.db").c_str(), 0644);
  ASSERT_EQ(modeOf(data / "atrium.db"), 0644u);
  ASSERT_TRUE(node_->start().ok()) << node_->log();
  ASSERT_TRUE(node_->waitReady()) << node_->log();
  EXPECT_NE(node_->log().find("data_dir.permissions_tightened"), std::string::npos) << node_->log();
  EXPECT_NE(node_->log().find("dir_mode_was=0755"), std::string::npos) << node_->log();

  // A real backup.
  auto backup = createTask(*node_, {{"kind", "database-backup"}, {"payload", {{"keep", 2}}}});
  ASSERT_TRUE(backup.is_object());
  ASSERT_TRUE(waitFor([&] { return stateOf(*node_, backup["id"]) == "succeeded"; }, 20s))
      << getTask(*node_, backup["id"]).dump(2) << node_->log();

  EXPECT_EQ(modeOf(data), 0700u);
  for (const char* name : {"atrium.db", "atrium.db-wal", "atrium.db-shm", "atrium.db.lock",
                           "installation.json", "node.lock"}) {
    EXPECT_EQ(modeOf(data / name), 0600u) << name;
  }
  EXPECT_EQ(modeOf(data / "backups"), 0700u);
  EXPECT_EQ(modeOf(data / "spool"), 0700u);
  int spool_files = 0;
  for (const auto& entry : fs::directory_iterator(data / "spool")) {
    ++spool_files;
    EXPECT_EQ(modeOf(entry.path()), 0600u) << entry.path();
  }
  EXPECT_GE(spool_files, 1);
  int backups = 0;
  // Every file and directory the node made: no permission for group or others.
  for (const auto& entry : fs::recursive_directory_iterator(data)) {
    EXPECT_EQ(modeOf(entry.path()) & 077, 0u)
        << entry.path() << " " << std::oct << modeOf(entry.path());
    if (entry.path().parent_path() == data / "backups" && entry.path().extension() == ".sqlite") {
      ++backups;
      EXPECT_EQ(modeOf(entry.path()), 0600u) << entry.path();
    }
  }
  EXPECT_EQ(backups, 1);
}

}  // namespace
}  // namespace atrium::testing
