// The clustered task scheduler: every node runs one. Each heartbeat (or at once when woken, e.g.
// by a NOTIFY "tasks") an active node claims due tasks from the shared queue (PostgreSQL
// FOR UPDATE SKIP LOCKED, SQLite an immediate transaction), runs each on a small pool of worker
// threads, renews each running task's lease every heartbeat and ends the run fenced by the lease
// token. It also takes over tasks whose lease expired (their node died or stalled): the queue
// re-schedules an idempotent one and fails any other with a reason naming the node.
//
// A run stops itself before its lease can expire in the database: TaskContext::stillHeld() turns
// false once the last successful renewal is older than the lease time on this node's monotonic
// clock, when the queue says the lease moved to another holder, and when this node stops or
// stops being active. Task kinds check it between steps. A run interrupted that way is not
// finished by this node: its lease is made to expire at once so a live node takes it over.
// A cancel (a row change any node makes) is seen at the next renewal: stillHeld() turns false,
// and the run is recorded "cancelled" with who cancelled it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "store/cluster_store.h"

namespace atrium::services {

// What the scheduler needs of the task queue: ClusterStore's task part (ClusterTaskQueue), or a
// fake in unit tests.
class TaskQueue {
 public:
  virtual ~TaskQueue() = default;
  virtual Result<std::optional<store::ClaimedTask>> claimDueTask(const std::string& node_id,
                                                                 const std::string& node_name,
                                                                 std::int64_t ttl_ms) = 0;
  virtual Result<store::TaskRenewal> renewTask(const store::Fence& fence, std::int64_t ttl_ms) = 0;
  virtual Result<bool> finishTask(const store::ClaimedTask& claimed, bool ok,
                                  const std::string& message) = 0;
  virtual Result<bool> finishCancelled(const store::ClaimedTask& claimed,
                                       const std::string& message) = 0;
  virtual Result<int> recoverExpiredTasks(const std::string& by_node_name) = 0;
};

class ClusterTaskQueue final : public TaskQueue {
 public:
  explicit ClusterTaskQueue(store::ClusterStore& cluster) : cluster_(cluster) {}
  Result<std::optional<store::ClaimedTask>> claimDueTask(const std::string& node_id,
                                                         const std::string& node_name,
                                                         std::int64_t ttl_ms) override;
  Result<store::TaskRenewal> renewTask(const store::Fence& fence, std::int64_t ttl_ms) override;
  Result<bool> finishTask(const store::ClaimedTask& claimed, bool ok,
                          const std::string& message) override;
  Result<bool> finishCancelled(const store::ClaimedTask& claimed,
                               const std::string& message) override;
  Result<int> recoverExpiredTasks(const std::string& by_node_name) override;

 private:
  store::ClusterStore& cluster_;
};

// The state of one run, shared by the scheduler (which renews the lease) and the run's code.
struct TaskRunState {
  explicit TaskRunState(std::chrono::steady_clock::time_point claimed_at)
      : renewed_at(claimed_at.time_since_epoch()) {}
  std::atomic<bool> stop{false};  // this node stops, or is no longer active
  std::atomic<bool> lost{false};  // the queue says the lease is no longer ours
  std::atomic<bool> cancelled{false};  // someone cancelled the task (seen at a renewal)
  std::string cancelled_by;            // guarded by mu
  // Monotonic time the last successful renewal (or the claim) was sent: the lease in the
  // database runs at least until this plus the lease time.
  std::atomic<std::chrono::steady_clock::duration> renewed_at;
  std::mutex mu;
  std::condition_variable cv;  // sleepFor() wakes early when `stop`, `lost` or `cancelled` is set
};

// What a task kind's code gets for one run.
class TaskContext {
 public:
  TaskContext(const store::TaskRecord& task, nlohmann::json payload, TaskRunState& state,
              const Clock& clock, std::chrono::milliseconds lease)
      : task_(task), payload_(std::move(payload)), state_(state), clock_(clock), lease_(lease) {}

  const store::TaskRecord& task() const { return task_; }
  // The task's payload (a JSON object).
  const nlohmann::json& payload() const { return payload_; }
  const Clock& clock() const { return clock_; }
  // True while this node holds the task's lease and may go on: false once the lease was not
  // renewed within the lease time, the lease moved to another node, the task was cancelled (the
  // cancel is seen at the next renewal, within a heartbeat), or the node stops. Cheap
  // (no database call): check it between steps and at least every few hundred milliseconds.
  bool stillHeld() const;
  bool stopRequested() const { return state_.stop.load(); }
  // Waits up to `d` (less if the run is stopped); returns stillHeld().
  bool sleepFor(std::chrono::milliseconds d) const;

 private:
  const store::TaskRecord& task_;
  nlohmann::json payload_;
  TaskRunState& state_;
  const Clock& clock_;
  std::chrono::milliseconds lease_;
};

// A kind's code: the run's message on success (shown in the run history), an error otherwise.
// A run that gives up because stillHeld() turned false returns any error: the scheduler tells
// an interruption from a failure by the run's state.
using TaskHandler = std::function<Result<std::string>(const TaskContext&)>;
// Checks a payload when a task is created (the API answers 400 with the message).
using PayloadCheck = std::function<Status(const nlohmann::json& payload)>;

struct TaskKind {
  std::string name;
  std::string description;
  TaskHandler run;
  PayloadCheck check;  // may be empty: any object
  // A recurring task of this kind may recur at most this often (interval_s at least this).
  std::int64_t min_interval_s = 1;
};

// The kinds this build knows, by name.
class TaskKinds {
 public:
  void add(TaskKind kind);
  const TaskKind* find(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted

 private:
  std::map<std::string, TaskKind> kinds_;
};

struct SchedulerOptions {
  std::string node_id;
  std::string node_name;
  std::chrono::milliseconds heartbeat{1000};  // claim, recover and renew this often
  std::chrono::milliseconds lease{5000};      // task lease time: the failover timeout
  std::size_t max_running = 4;                // runs at once on this node
};

struct SchedulerStats {
  std::uint64_t claimed = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t interrupted = 0;  // stopped before the end (lease lost, node stopping)
  std::uint64_t cancelled = 0;    // stopped because someone cancelled the task
  std::uint64_t taken_over = 0;   // expired tasks of other nodes recovered by this one
  std::size_t running = 0;
};

class Scheduler {
 public:
  // `may_run` is true while the node may take work (an active node; not standby or draining).
  Scheduler(SchedulerOptions options, TaskQueue& queue, const TaskKinds& kinds, const Clock& clock,
            std::function<bool()> may_run);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler();

  void start();
  // Stops claiming, asks the running tasks to stop, waits for them, and hands their leases over.
  void stop();
  // Claims now instead of at the next heartbeat (a task was created, a node announced work).
  void wake();
  SchedulerStats stats() const;

 private:
  struct Run {
    store::ClaimedTask claimed;
    std::unique_ptr<TaskRunState> state;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void loop();
  void renewRunning();
  void claimDue();
  void execute(Run& run);
  void reapFinished();
  void stopRuns();

  SchedulerOptions options_;
  TaskQueue& queue_;
  const TaskKinds& kinds_;
  const Clock& clock_;
  std::function<bool()> may_run_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  bool started_ = false;
  bool was_active_ = false;
  SchedulerStats stats_;
  std::list<Run> runs_;  // guarded by mu_; a Run's address is stable
  std::thread thread_;
};

}  // namespace atrium::services
