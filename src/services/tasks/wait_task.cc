#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "services/tasks/task_kinds.h"

namespace atrium::services::tasks {

using nlohmann::json;

namespace {

constexpr double kMaxWaitSeconds = 86400;

Status checkWait(const json& payload) {
  for (const auto& [key, value] : payload.items()) {
    if (key != "seconds" && key != "fail") {
      return Error::invalid(
          "a wait task's payload takes \"seconds\" and \"fail\", not \"" + key + "\"",
          "payload." + key);
    }
  }
  if (!payload.contains("seconds") || !payload["seconds"].is_number() ||
      payload["seconds"].get<double>() < 0 || payload["seconds"].get<double>() > kMaxWaitSeconds) {
    return Error::invalid("a wait task needs \"seconds\": a number from 0 to 86400",
                          "payload.seconds");
  }
  if (payload.contains("fail") && !payload["fail"].is_string()) {
    return Error::invalid("\"fail\" is the message the run fails with, a string", "payload.fail");
  }
  return okStatus();
}

}  // namespace

TaskKind waitTask() {
  TaskKind kind;
  kind.name = "wait";
  kind.description =
      "holds its lease for payload {\"seconds\": N}, checking it every 100 ms (a failover drill)";
  kind.check = checkWait;
  kind.run = [](const TaskContext& ctx) -> Result<std::string> {
    const double seconds = ctx.payload().value("seconds", 0.0);
    const auto total = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(seconds));
    const auto deadline = ctx.clock().monotonic() + total;
    while (ctx.clock().monotonic() < deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - ctx.clock().monotonic());
      if (!ctx.sleepFor(
              std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(100)))) {
        return Error::unavailable("interrupted: the lease is no longer held");
      }
    }
    if (ctx.payload().contains("fail")) {
      return Error::internal(ctx.payload()["fail"].get<std::string>());
    }
    return fmt::format("waited {} s", seconds);
  };
  return kind;
}

}  // namespace atrium::services::tasks
