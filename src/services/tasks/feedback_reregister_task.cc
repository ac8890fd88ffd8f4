#include <fmt/format.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "common/log.h"
#include "services/feedback_url.h"
#include "services/tasks/task_kinds.h"

namespace atrium::services::tasks {

namespace {

constexpr std::int64_t kPage = 500;
constexpr std::size_t kParallel = 8;  // driver calls in flight at once

struct Tally {
  std::mutex mu;
  int registered = 0;
  int failed = 0;
  std::string first_failure;
};

}  // namespace

TaskKind feedbackReregisterTask(store::DeviceStore& devices, const devices::DriverRegistry& drivers,
                                const PollerOptions& poller_options) {
  TaskKind kind;
  kind.name = "feedback-reregister";
  kind.description =
      "registers HTTP feedback again on every managed system whose driver supports it";
  kind.check = [](const nlohmann::json& payload) -> Status {
    if (!payload.empty()) {
      return Error::invalid("a feedback-reregister task takes no payload", "payload");
    }
    return okStatus();
  };
  kind.run = [&devices, &drivers, poller_options](const TaskContext& ctx) -> Result<std::string> {
    auto addresses = devices.serverAddresses();
    if (!addresses.ok()) return addresses.error();
    // Every system whose family can take feedback, and the address it is to post to.
    std::vector<std::pair<store::ManagedSystem, std::string>> work;
    int unsupported = 0;
    int no_address = 0;
    std::string after;
    while (true) {
      auto page = devices.managedSystems(after, kPage);
      if (!page.ok()) return page.error();
      for (auto& s : *page) {
        devices::Driver* driver = drivers.find(s.system.family);
        if (driver == nullptr || !driver->capabilities().has(devices::Capability::kHttpFeedback)) {
          ++unsupported;
          continue;
        }
        auto url = feedbackUrlFor(*addresses, s);
        if (!url) {
          ++no_address;
          continue;
        }
        work.emplace_back(std::move(s), std::move(*url));
      }
      if (static_cast<std::int64_t>(page->size()) < kPage) break;
      after = page->back().system.id;
      if (!ctx.stillHeld()) return Error::unavailable("interrupted");
    }

    Tally tally;
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
      while (ctx.stillHeld()) {
        const std::size_t i = next++;
        if (i >= work.size()) return;
        const auto& [s, url] = work[i];
        devices::DriverTarget target;
        target.system_id = s.system.id;
        target.address = s.system.addresses.empty() ? std::string() : s.system.addresses.front();
        target.port = poller_options.http_port;
        target.username = s.system.username;
        target.password = devices.systemPasswordOrEmpty(s.system);
        target.timeout = poller_options.timeout;
        devices::FeedbackRegistration reg;
        reg.slot = poller_options.feedback_slot;
        reg.url = url;
        reg.expressions = poller_options.feedback_expressions;
        Status done = drivers.find(s.system.family)->registerFeedback(target, reg);
        std::lock_guard lock(tally.mu);
        if (done.ok()) {
          ++tally.registered;
        } else {
          ++tally.failed;
          if (tally.first_failure.empty()) {
            tally.first_failure = fmt::format("{}: {}", s.system.name, done.error().message);
          }
        }
      }
    };
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < std::min(kParallel, work.size()); ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    if (!ctx.stillHeld()) return Error::unavailable("interrupted");

    std::string message = fmt::format("registered feedback on {} of {} systems that take it",
                                      tally.registered, work.size());
    if (tally.failed > 0) {
      message += fmt::format("; {} failed (first: {})", tally.failed, tally.first_failure);
    }
    if (no_address > 0) {
      message += fmt::format("; {} skipped: no server address fits their connectivity", no_address);
    }
    if (unsupported > 0) message += fmt::format("; {} of families without feedback", unsupported);
    log::info("task.feedback_reregistered", {{"task_id", ctx.task().id},
                                             {"registered", tally.registered},
                                             {"failed", tally.failed},
                                             {"no_address", no_address}});
    // Some systems being unreachable is normal in a fleet; all of them failing is not.
    if (tally.failed > 0 && tally.registered == 0) return Error::unavailable(message);
    return message;
  };
  return kind;
}

}  // namespace atrium::services::tasks
