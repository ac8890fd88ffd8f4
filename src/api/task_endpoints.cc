#include "api/task_endpoints.h"

#include <array>
#include <chrono>

#include "api/errors.h"
#include "api/json_body.h"
#include "api/validation.h"
#include "common/clock.h"
#include "common/log.h"
#include "devices/device_time.h"

namespace atrium::api {

using nlohmann::json;

namespace {

constexpr std::array<std::string_view, 5> kTaskStates = {"scheduled", "running", "succeeded",
                                                         "failed", "cancelled"};
constexpr std::array<std::string_view, 2> kMisfirePolicies = {"run-once", "skip"};
constexpr std::int64_t kMaxIntervalSeconds = 366LL * 24 * 3600;
constexpr std::int64_t kMaxAttempts = 100;
constexpr std::int64_t kDefaultLimit = 50;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json timeJson(std::int64_t ms) {
  return formatTimestamp(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

Error taskNotFound(const std::string& id) {
  return Error::notFound("no task with id " + jsonQuote(id));
}

std::string knownKinds(const services::TaskKinds& kinds) {
  std::string out;
  for (const auto& name : kinds.names()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

json taskToJson(const store::TaskRecord& t) {
  json payload = json::parse(t.spec.payload.empty() ? std::string("{}") : t.spec.payload, nullptr,
                             /*allow_exceptions=*/false);
  return {{"id", t.id},
          {"kind", t.spec.kind},
          {"name", t.spec.name},
          {"payload", payload.is_discarded() ? json(t.spec.payload) : payload},
          {"state", t.state},
          {"next_run_at", timeJson(t.next_run_at)},
          {"interval_s", t.spec.interval_s ? json(*t.spec.interval_s) : json(nullptr)},
          {"idempotent", t.spec.idempotent},
          {"misfire", t.spec.misfire},
          {"max_attempts", t.spec.max_attempts},
          {"attempts", t.attempts},
          {"holder", t.holder.empty() ? json(nullptr) : json(t.holder)},
          {"last_error", t.last_error.empty() ? json(nullptr) : json(t.last_error)},
          {"created_by", t.spec.created_by},
          {"created_at", timeJson(t.created_at)},
          {"updated_at", timeJson(t.updated_at)}};
}

json taskRunToJson(const store::TaskRun& r) {
  return {{"id", r.id},
          {"node", r.node},
          {"node_name", r.node_name},
          {"attempt", r.attempt},
          {"started_at", timeJson(r.started_at)},
          {"finished_at", r.finished_at ? timeJson(*r.finished_at) : json(nullptr)},
          {"outcome", r.outcome},
          {"message", r.message}};
}

Result<store::TaskSpec> parseTaskCreate(std::string_view body, const services::TaskKinds& kinds) {
  auto object = parseJsonObject(body, "task");
  if (!object.ok()) return object.error();
  JsonFields f(*object);
  f.readOnly({"id", "state", "next_run_at", "attempts", "holder", "last_error", "created_by",
              "created_at", "updated_at", "runs"});
  store::TaskSpec spec;
  auto kind = f.requiredString("kind");
  if (!kind.ok()) return kind.error();
  const services::TaskKind* known = kinds.find(*kind);
  if (known == nullptr) {
    return Error::invalid(
        "unknown task kind " + jsonQuote(*kind) + " (known kinds: " + knownKinds(kinds) + ")",
        "kind");
  }
  spec.kind = *kind;
  auto name = f.optionalString("name");
  if (!name.ok()) return name.error();
  if (*name) {
    ATRIUM_TRY(validateName(**name, "name"));
    spec.name = **name;
  }
  auto payload = f.optionalObject("payload");
  if (!payload.ok()) return payload.error();
  json payload_value = *payload != nullptr && !(*payload)->is_null() ? **payload : json::object();
  if (known->check) ATRIUM_TRY(known->check(payload_value));
  spec.payload = dump(payload_value);
  auto run_at = f.optionalString("run_at");
  if (!run_at.ok()) return run_at.error();
  if (*run_at) {
    auto t = devices::parseDeviceTime(**run_at);
    if (!t) {
      return Error::invalid(
          "\"run_at\" must be an RFC 3339 time such as 2026-01-02T15:04:05Z (got " +
              jsonQuote(**run_at) + ")",
          "run_at");
    }
    spec.run_at =
        std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
  }
  auto interval = f.optionalInteger("interval_s");
  if (!interval.ok()) return interval.error();
  if (*interval) {
    const std::int64_t min_interval = std::max<std::int64_t>(known->min_interval_s, 1);
    if (**interval < min_interval || **interval > kMaxIntervalSeconds) {
      const std::string range = "\"interval_s\" must be from " + std::to_string(min_interval) +
                                " to " + std::to_string(kMaxIntervalSeconds) + " seconds";
      if (min_interval > 1 && **interval < min_interval) {
        return Error::invalid("a " + *kind + " task may recur at most every " +
                                  std::to_string(min_interval) + " s: " + range,
                              "interval_s");
      }
      return Error::invalid(range, "interval_s");
    }
    spec.interval_s = **interval;
  }
  auto idempotent = f.optionalBool("idempotent");
  if (!idempotent.ok()) return idempotent.error();
  spec.idempotent = idempotent->value_or(false);
  auto misfire = f.optionalString("misfire");
  if (!misfire.ok()) return misfire.error();
  if (*misfire) {
    if (std::find(kMisfirePolicies.begin(), kMisfirePolicies.end(), **misfire) ==
        kMisfirePolicies.end()) {
      return Error::invalid("\"misfire\" must be one of " + joinNames(kMisfirePolicies) + " (got " +
                                jsonQuote(**misfire) + ")",
                            "misfire");
    }
    spec.misfire = **misfire;
  }
  auto max_attempts = f.optionalInteger("max_attempts");
  if (!max_attempts.ok()) return max_attempts.error();
  if (*max_attempts) {
    if (**max_attempts < 1 || **max_attempts > kMaxAttempts) {
      return Error::invalid("\"max_attempts\" must be from 1 to " + std::to_string(kMaxAttempts),
                            "max_attempts");
    }
    spec.max_attempts = static_cast<int>(**max_attempts);
  }
  ATRIUM_TRY(f.finish());
  return spec;
}

net::Response TaskEndpoints::handle(const ApiCall& call) {
  const std::string id = call.params.empty() ? std::string() : call.params.front();
  Result<net::Response> result = Error::internal("not a task endpoint");
  switch (call.endpoint) {
    case Endpoint::kListTasks:
      result = list(call);
      break;
    case Endpoint::kCreateTask:
      result = create(call);
      break;
    case Endpoint::kGetTask:
      result = get(id);
      break;
    case Endpoint::kCancelTask:
      result = cancel(id, call);
      break;
    default:
      break;
  }
  return databaseResponse(std::move(result));
}

Result<net::Response> TaskEndpoints::list(const ApiCall& call) {
  ATRIUM_TRY(call.query.rejectUnknown({"state", "limit", "offset"}));
  std::string state = call.query.get("state").value_or("");
  if (!state.empty() &&
      std::find(kTaskStates.begin(), kTaskStates.end(), state) == kTaskStates.end()) {
    return Error::invalid("query parameter \"state\" must be one of " + joinNames(kTaskStates) +
                              " (got " + jsonQuote(state) + ")",
                          "state");
  }
  std::int64_t limit = 0, offset = 0;
  ATRIUM_TRY(parsePaging(call.query, kDefaultLimit, limit, offset));
  auto tasks = cluster_.tasks(state, limit, offset);
  if (!tasks.ok()) return tasks.error();
  auto total = cluster_.countTasks(state);
  if (!total.ok()) return total.error();
  json items = json::array();
  for (const auto& t : *tasks) items.push_back(taskToJson(t));
  return jsonResponse(
      200,
      dump({{"items", std::move(items)}, {"total", *total}, {"limit", limit}, {"offset", offset}}));
}

Result<net::Response> TaskEndpoints::create(const ApiCall& call) {
  auto spec = parseTaskCreate(call.body, kinds_);
  if (!spec.ok()) return spec.error();
  spec->created_by = call.actor;
  auto task = cluster_.createTask(*spec);
  if (!task.ok()) return task.error();
  const json body = taskToJson(*task);
  auto audited = store_.recordAudit(call.actor, "create", "task", task->id, "", dump(body));
  if (!audited.ok()) {
    log::warn("task.audit_failed", {{"task_id", task->id}, {"reason", audited.error().message}});
  }
  log::info("task.created", {{"task_id", task->id},
                             {"kind", task->spec.kind},
                             {"name", task->spec.name},
                             {"actor", call.actor}});
  if (on_created_) on_created_();
  auto res = jsonResponse(201, dump(body));
  res.set(boost::beast::http::field::location, "/api/v1/tasks/" + task->id);
  return res;
}

Result<net::Response> TaskEndpoints::get(const std::string& id) {
  auto task = cluster_.task(id);
  if (!task.ok()) return task.error();
  if (!task->has_value()) return taskNotFound(id);
  auto runs = cluster_.taskRuns(id);
  if (!runs.ok()) return runs.error();
  json body = taskToJson(**task);
  json items = json::array();
  for (const auto& r : *runs) items.push_back(taskRunToJson(r));
  body["runs"] = std::move(items);
  return jsonResponse(200, dump(body));
}

Result<net::Response> TaskEndpoints::cancel(const std::string& id, const ApiCall& call) {
  auto before = cluster_.task(id);
  if (!before.ok()) return before.error();
  if (!before->has_value()) return taskNotFound(id);
  auto task = cluster_.cancelTask(id, call.actor);
  if (!task.ok()) {
    if (task.error().code == ErrorCode::kNotFound) return taskNotFound(id);
    if (task.error().code == ErrorCode::kConflict) {
      auto now = cluster_.task(id);
      const std::string state =
          now.ok() && now->has_value() ? (**now).state : std::string((*before)->state);
      return Error::conflict("task " + jsonQuote(id) + " has already ended (" + state + ")");
    }
    return task.error();
  }
  const json body = taskToJson(*task);
  auto audited =
      store_.recordAudit(call.actor, "cancel", "task", id, dump(taskToJson(**before)), dump(body));
  if (!audited.ok()) {
    log::warn("task.audit_failed", {{"task_id", id}, {"reason", audited.error().message}});
  }
  log::info("task.cancelled", {{"task_id", id}, {"state", task->state}, {"actor", call.actor}});
  // A running task stops at its node's next lease renewal: wake this node's scheduler (and,
  // through the notification, the others) so that it happens now rather than a heartbeat later.
  if (on_created_) on_created_();
  return jsonResponse(200, dump(body));
}

}  // namespace atrium::api
