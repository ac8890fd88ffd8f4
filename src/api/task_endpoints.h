// The task queue in the API: GET/POST /api/v1/tasks, GET /api/v1/tasks/{id} (with its run
// history) and DELETE /api/v1/tasks/{id} (cancel). A task is created only for a kind this build
// runs, with a payload that kind accepts; creating and cancelling are audited. Blocking
// (database): ApiServer runs it on its database pool.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

#include "api/endpoints.h"
#include "net/http_server.h"
#include "services/scheduler.h"
#include "store/cluster_store.h"
#include "store/store.h"

namespace atrium::api {

class TaskEndpoints {
 public:
  // `on_created` runs after a task was stored or cancelled (wake this node's scheduler and notify
  // the others).
  TaskEndpoints(store::ClusterStore& cluster, store::Store& store, const services::TaskKinds& kinds,
                std::function<void()> on_created)
      : cluster_(cluster), store_(store), kinds_(kinds), on_created_(std::move(on_created)) {}

  static bool serves(Endpoint e) {
    return e == Endpoint::kListTasks || e == Endpoint::kCreateTask || e == Endpoint::kGetTask ||
           e == Endpoint::kCancelTask;
  }
  net::Response handle(const ApiCall& call);

 private:
  Result<net::Response> list(const ApiCall& call);
  Result<net::Response> create(const ApiCall& call);
  Result<net::Response> get(const std::string& id);
  Result<net::Response> cancel(const std::string& id, const ApiCall& call);

  store::ClusterStore& cluster_;
  store::Store& store_;
  const services::TaskKinds& kinds_;
  std::function<void()> on_created_;
};

nlohmann::json taskToJson(const store::TaskRecord& task);
nlohmann::json taskRunToJson(const store::TaskRun& run);
// The body of POST /api/v1/tasks as a TaskSpec (created_by left empty); unknown kinds and
// payloads the kind refuses are invalid_argument errors.
Result<store::TaskSpec> parseTaskCreate(std::string_view body, const services::TaskKinds& kinds);

}  // namespace atrium::api
