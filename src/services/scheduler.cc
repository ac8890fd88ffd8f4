#include "services/scheduler.h"

#include <exception>

#include "common/log.h"

namespace atrium::services {

using nlohmann::json;

// ---- the queue over ClusterStore -------------------------------------------------------------

Result<std::optional<store::ClaimedTask>> ClusterTaskQueue::claimDueTask(
    const std::string& node_id, const std::string& node_name, std::int64_t ttl_ms) {
  return cluster_.claimDueTask(node_id, node_name, ttl_ms);
}

Result<store::TaskRenewal> ClusterTaskQueue::renewTask(const store::Fence& fence,
                                                       std::int64_t ttl_ms) {
  return cluster_.renewTaskLease(fence, ttl_ms);
}

Result<bool> ClusterTaskQueue::finishCancelled(const store::ClaimedTask& claimed,
                                               const std::string& message) {
  return cluster_.finishCancelledTask(claimed, message);
}

Result<bool> ClusterTaskQueue::finishTask(const store::ClaimedTask& claimed, bool ok,
                                          const std::string& message) {
  return cluster_.finishTask(claimed, ok, message);
}

Result<int> ClusterTaskQueue::recoverExpiredTasks(const std::string& by_node_name) {
  return cluster_.recoverExpiredTasks(by_node_name);
}

// ---- context and kinds -----------------------------------------------------------------------

bool TaskContext::stillHeld() const {
  if (state_.stop.load() || state_.lost.load() || state_.cancelled.load()) return false;
  const std::chrono::steady_clock::time_point renewed(state_.renewed_at.load());
  return clock_.monotonic() - renewed < lease_;
}

bool TaskContext::sleepFor(std::chrono::milliseconds d) const {
  {
    std::unique_lock lock(state_.mu);
    state_.cv.wait_for(lock, d, [this] {
      return state_.stop.load() || state_.lost.load() || state_.cancelled.load();
    });
  }
  return stillHeld();
}

void TaskKinds::add(TaskKind kind) {
  std::string name = kind.name;
  kinds_[name] = std::move(kind);
}

const TaskKind* TaskKinds::find(const std::string& name) const {
  auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<std::string> TaskKinds::names() const {
  std::vector<std::string> out;
  for (const auto& [name, kind] : kinds_) out.push_back(name);
  return out;
}

// ---- the scheduler ---------------------------------------------------------------------------

namespace {

// Sets a run's flag and wakes its sleepFor().
void raise(TaskRunState& state, std::atomic<bool>& flag) {
  {
    std::lock_guard lock(state.mu);
    flag = true;
  }
  state.cv.notify_all();
}

}  // namespace

Scheduler::Scheduler(SchedulerOptions options, TaskQueue& queue, const TaskKinds& kinds,
                     const Clock& clock, std::function<bool()> may_run)
    : options_(std::move(options)),
      queue_(queue),
      kinds_(kinds),
      clock_(clock),
      may_run_(std::move(may_run)) {
  if (options_.max_running == 0) options_.max_running = 1;
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { loop(); });
  log::info("scheduler.started", {{"node", options_.node_name},
                                  {"max_running", options_.max_running},
                                  {"lease_ms", options_.lease.count()}});
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Only this thread touches runs_ now.
  stopRuns();
  for (auto& run : runs_) {
    if (run.thread.joinable()) run.thread.join();
  }
  runs_.clear();
  log::info("scheduler.stopped", {{"node", options_.node_name}});
}

void Scheduler::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Scheduler::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    reapFinished();
    renewRunning();
    const bool active = may_run_ ? may_run_() : true;
    if (active != was_active_) {
      log::info(active ? "scheduler.taking_tasks" : "scheduler.not_taking_tasks",
                {{"node", options_.node_name}});
      was_active_ = active;
    }
    if (active) {
      auto recovered = queue_.recoverExpiredTasks(options_.node_name);
      if (!recovered.ok()) {
        log::debug("scheduler.recover_failed", {{"reason", recovered.error().message}});
      } else if (*recovered > 0) {
        log::info("scheduler.tasks_taken_over",
                  {{"node", options_.node_name}, {"count", *recovered}});
        std::lock_guard stats_lock(mu_);
        stats_.taken_over += static_cast<std::uint64_t>(*recovered);
      }
      claimDue();
    } else {
      // A standby or draining node runs nothing: its runs stop and are handed over.
      stopRuns();
    }
    lock.lock();
    cv_.wait_for(lock, options_.heartbeat, [this] { return stopping_ || woken_; });
    woken_ = false;
  }
}

void Scheduler::renewRunning() {
  for (auto& run : runs_) {
    if (run.done.load() || run.state->lost.load()) continue;
    const auto sent = clock_.monotonic();
    auto renewed = queue_.renewTask(run.claimed.fence, options_.lease.count());
    if (!renewed.ok()) {
      // The database is unreachable: the run stops itself once the lease time has passed.
      log::debug("scheduler.renew_failed",
                 {{"task_id", run.claimed.task.id}, {"reason", renewed.error().message}});
      continue;
    }
    if (renewed->held) {
      run.state->renewed_at = sent.time_since_epoch();
      if (renewed->cancel_requested && !run.state->cancelled.load()) {
        {
          std::lock_guard lock(run.state->mu);
          run.state->cancelled_by = renewed->cancelled_by;
        }
        log::info("scheduler.task_cancelling", {{"task_id", run.claimed.task.id},
                                                {"kind", run.claimed.task.spec.kind},
                                                {"run_id", run.claimed.run_id},
                                                {"node", options_.node_name},
                                                {"cancelled_by", renewed->cancelled_by}});
        raise(*run.state, run.state->cancelled);
      }
    } else if (!run.done.load()) {
      log::warn("scheduler.lease_lost", {{"task_id", run.claimed.task.id},
                                         {"kind", run.claimed.task.spec.kind},
                                         {"node", options_.node_name}});
      raise(*run.state, run.state->lost);
    }
  }
}

void Scheduler::claimDue() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || stats_.running >= options_.max_running) return;
    }
    const auto sent = clock_.monotonic();
    auto claimed =
        queue_.claimDueTask(options_.node_id, options_.node_name, options_.lease.count());
    if (!claimed.ok()) {
      log::debug("scheduler.claim_failed", {{"reason", claimed.error().message}});
      return;
    }
    if (!claimed->has_value()) return;
    Run& run = runs_.emplace_back();
    run.claimed = std::move(**claimed);
    run.state = std::make_unique<TaskRunState>(sent);
    {
      std::lock_guard lock(mu_);
      ++stats_.claimed;
      ++stats_.running;
    }
    log::info("scheduler.task_started", {{"task_id", run.claimed.task.id},
                                         {"kind", run.claimed.task.spec.kind},
                                         {"name", run.claimed.task.spec.name},
                                         {"attempt", run.claimed.task.attempts},
                                         {"run_id", run.claimed.run_id},
                                         {"node", options_.node_name}});
    run.thread = std::thread([this, &run] { execute(run); });
  }
}

void Scheduler::execute(Run& run) {
  const store::TaskRecord& task = run.claimed.task;
  TaskRunState& state = *run.state;
  json payload = json::parse(task.spec.payload.empty() ? std::string("{}") : task.spec.payload,
                             nullptr, /*allow_exceptions=*/false);
  TaskContext ctx(task, payload.is_discarded() ? json::object() : payload, state, clock_,
                  options_.lease);
  Result<std::string> result = std::string();
  const TaskKind* kind = kinds_.find(task.spec.kind);
  if (kind == nullptr || !kind->run) {
    result = Error::invalid("node " + options_.node_name + " does not know the task kind \"" +
                            task.spec.kind + "\"");
  } else if (payload.is_discarded() || !payload.is_object()) {
    result = Error::invalid("the task's payload is not a JSON object");
  } else {
    try {
      result = kind->run(ctx);
    } catch (const std::exception& e) {
      result = Error::internal(std::string("unexpected exception: ") + e.what());
    }
  }
  // A run that gave up because the task was cancelled ends cancelled; one that gave up because
  // it lost its lease or the node stops was interrupted, not failed.
  const bool cancelled = !result.ok() && state.cancelled.load() && !state.lost.load();
  const bool interrupted =
      !cancelled && !result.ok() && (state.stop.load() || state.lost.load() || !ctx.stillHeld());
  run.done = true;
  if (cancelled) {
    std::string by;
    {
      std::lock_guard lock(state.mu);
      by = state.cancelled_by.empty() ? std::string("an unknown user") : state.cancelled_by;
    }
    const std::string message =
        "cancelled by " + by + " while running on node " + options_.node_name;
    auto finished = queue_.finishCancelled(run.claimed, message);
    if (!finished.ok()) {
      log::warn("scheduler.finish_failed",
                {{"task_id", task.id}, {"reason", finished.error().message}});
    } else if (!*finished) {
      log::warn("scheduler.task_lost", {{"task_id", task.id},
                                        {"kind", task.spec.kind},
                                        {"node", options_.node_name},
                                        {"detail", "the lease moved before the run ended"}});
    } else {
      log::info("scheduler.task_cancelled", {{"task_id", task.id},
                                             {"kind", task.spec.kind},
                                             {"run_id", run.claimed.run_id},
                                             {"node", options_.node_name},
                                             {"cancelled_by", by}});
    }
  } else if (interrupted) {
    if (!state.lost.load()) {
      // Let the lease expire now, so a live node takes the task over at once (re-run if it is
      // idempotent, failed with this node's name otherwise) instead of after the lease time.
      (void)queue_.renewTask(run.claimed.fence, 1);
    }
    log::warn("scheduler.task_interrupted",
              {{"task_id", task.id},
               {"kind", task.spec.kind},
               {"node", options_.node_name},
               {"reason", state.lost.load()   ? "lease lost"
                          : state.stop.load() ? "node stopping"
                                              : "lease not renewed"}});
  } else {
    const std::string message = result.ok() ? *result : result.error().message;
    auto finished = queue_.finishTask(run.claimed, result.ok(), message);
    if (!finished.ok()) {
      log::warn("scheduler.finish_failed",
                {{"task_id", task.id}, {"reason", finished.error().message}});
    } else if (!*finished) {
      log::warn("scheduler.task_lost", {{"task_id", task.id},
                                        {"kind", task.spec.kind},
                                        {"node", options_.node_name},
                                        {"detail", "the lease moved before the run ended"}});
    } else if (result.ok()) {
      log::info("scheduler.task_succeeded",
                {{"task_id", task.id}, {"kind", task.spec.kind}, {"message", message}});
    } else {
      log::warn("scheduler.task_failed",
                {{"task_id", task.id}, {"kind", task.spec.kind}, {"reason", message}});
    }
  }
  {
    std::lock_guard lock(mu_);
    --stats_.running;
    if (cancelled) {
      ++stats_.cancelled;
    } else if (interrupted) {
      ++stats_.interrupted;
    } else if (result.ok()) {
      ++stats_.succeeded;
    } else {
      ++stats_.failed;
    }
    woken_ = true;  // a slot is free: claim the next due task
  }
  cv_.notify_all();
}

void Scheduler::reapFinished() {
  for (auto it = runs_.begin(); it != runs_.end();) {
    if (it->done.load()) {
      if (it->thread.joinable()) it->thread.join();
      it = runs_.erase(it);
    } else {
      ++it;
    }
  }
}

void Scheduler::stopRuns() {
  for (auto& run : runs_) {
    if (!run.done.load() && !run.state->stop.load()) raise(*run.state, run.state->stop);
  }
}

}  // namespace atrium::services
