// The REST endpoints that touch the store. Each call blocks on the database: ApiServer runs them
// on its database thread pool, never on a network thread.
#pragma once

#include <string>
#include <vector>

#include "api/query.h"
#include "net/http_server.h"
#include "store/device_store.h"
#include "store/store.h"

namespace atrium::api {

enum class Endpoint {
  kHealthz,
  kReadyz,
  kMetrics,
  kInstallation,
  kListSystems,
  kCreateSystem,
  kGetSystem,
  kPatchSystem,
  kDeleteSystem,
  kMoveSystem,
  kListFolders,
  kCreateFolder,
  kGetFolder,
  kPatchFolder,
  kDeleteFolder,
  kAudit,
  kListEvents,
  kSystemEvents,
  kListCalls,
  kSystemCalls,
  kListTickets,
  kAcknowledgeTicket,
  kGetServerAddresses,
  kPutServerAddresses,
  kGetSoftwareVersions,
  kPutSoftwareVersions,
  kFeedback,  // POST /feedback/{secret}: answered by ApiServer through the ingest
  // The node registry (answered by ClusterEndpoints, see cluster_endpoints.h).
  kClusterNodes,
  kPromoteNode,
  kDemoteNode,
  // The rule checks (answered by SessionEndpoints, see session_endpoints.h).
  kClusterDiagnostics,
  // People (answered by PeopleEndpoints, see people_endpoints.h).
  kCreateSession,
  kCurrentSession,
  kEndCurrentSession,
  kRevokeSession,
  kListUsers,
  kCreateUser,
  kGetUser,
  kPatchUser,
  kSetUserPassword,
  kChangeOwnPassword,
  kListGroups,
  kCreateGroup,
  kGetGroup,
  kPatchGroup,
  kDeleteGroup,
  kAddGroupMember,
  kRemoveGroupMember,
  kListTokens,
  kCreateToken,
  kRevokeToken,
  // The task queue (answered by TaskEndpoints, see task_endpoints.h).
  kListTasks,
  kCreateTask,
  kGetTask,
  kCancelTask,
};

struct Caller;  // api/authenticator.h

// One routed request, as the endpoints need it.
struct ApiCall {
  Endpoint endpoint = Endpoint::kHealthz;
  std::vector<std::string> params;  // path placeholders in order ({id})
  QueryParams query;
  std::string body;
  std::string actor;  // who, for the audit log: the signed-in user's name
  const Caller* caller = nullptr;         // the signed-in caller (null on public routes)
  std::string client_address;             // the peer, or the client behind a trusted proxy
  bool tls = false;                       // the request came over HTTPS (Secure cookies)
};

class Endpoints {
 public:
  Endpoints(store::Store& store, store::DeviceStore& devices) : store_(store), devices_(devices) {}

  // Runs one store-backed endpoint and answers (errors in the API's error shape).
  net::Response handle(const ApiCall& call);

 private:
  Result<net::Response> installation();
  Result<net::Response> listSystems(const ApiCall& call);
  Result<net::Response> createSystem(const ApiCall& call);
  Result<net::Response> getSystem(const std::string& id);
  Result<net::Response> patchSystem(const std::string& id, const ApiCall& call);
  Result<net::Response> deleteSystem(const std::string& id, const ApiCall& call);
  Result<net::Response> moveSystem(const std::string& id, const ApiCall& call);
  Result<net::Response> listFolders(const ApiCall& call);
  Result<net::Response> createFolder(const ApiCall& call);
  Result<net::Response> getFolder(const std::string& id);
  Result<net::Response> patchFolder(const std::string& id, const ApiCall& call);
  Result<net::Response> deleteFolder(const std::string& id, const ApiCall& call);
  Result<net::Response> audit(const ApiCall& call);
  Result<net::Response> listEvents(const ApiCall& call, const std::optional<std::string>& system);
  Result<net::Response> listCalls(const ApiCall& call, const std::optional<std::string>& system);
  Result<net::Response> listTickets(const ApiCall& call);
  Result<net::Response> acknowledgeTicket(const std::string& id, const ApiCall& call);
  Result<net::Response> serverAddresses();
  Result<net::Response> putServerAddresses(const ApiCall& call);
  Result<net::Response> softwareVersions();
  Result<net::Response> putSoftwareVersions(const ApiCall& call);
  // NotFound (in the API's words) unless the system exists.
  Status requireSystem(const std::string& id);

  store::Store& store_;
  store::DeviceStore& devices_;
};

}  // namespace atrium::api
