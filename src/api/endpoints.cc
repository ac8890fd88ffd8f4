#include "api/endpoints.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <utility>

#include "api/device_json.h"
#include "api/errors.h"
#include "api/folder_json.h"
#include "api/system_json.h"
#include "api/validation.h"
#include "common/clock.h"

namespace atrium::api {

using nlohmann::json;

namespace {

Error systemNotFound(const std::string& id) {
  return Error::notFound("no system with id " + jsonQuote(id));
}

Error folderNotFound(const std::string& id) {
  return Error::notFound("no folder with id " + jsonQuote(id));
}

// Says which value of which field conflicts, when the store names the field.
Error systemConflict(Error e, const std::optional<std::string>& name,
                     const std::optional<std::string>& serial) {
  if (e.code != ErrorCode::kConflict) return e;
  if (e.field == "name" && name) {
    e.message = "a system named " + jsonQuote(*name) + " already exists";
  } else if (e.field == "serial_number" && serial) {
    e.message = "a system with serial number " + jsonQuote(*serial) + " already exists";
  }
  return e;
}

Error folderConflict(Error e, const std::optional<std::string>& name) {
  if (e.code == ErrorCode::kConflict && e.field == "name" && name) {
    e.message = "a folder named " + jsonQuote(*name) + " already exists in the same parent folder";
  }
  return e;
}

json installationToJson(const store::Installation& inst) {
  return {{"id", inst.id},
          {"name", inst.name},
          {"created_at", formatTimestamp(inst.created_at)},
          {"epoch", inst.epoch}};
}

json storedJson(const std::string& text) {
  if (text.empty()) return nullptr;
  json out = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) return text;
  return out;
}

json auditEntryToJson(const store::AuditEntry& e) {
  return {{"id", e.id},
          {"at", formatTimestamp(e.at)},
          {"actor", e.actor},
          {"action", e.action},
          {"entity_type", e.entity_type},
          {"entity_id", e.entity_id},
          {"old_value", storedJson(e.old_value)},
          {"new_value", storedJson(e.new_value)}};
}

}  // namespace

net::Response Endpoints::handle(const ApiCall& call) {
  const std::string id = call.params.empty() ? std::string() : call.params.front();
  Result<net::Response> result = Error::internal("endpoint not served by the store");
  switch (call.endpoint) {
    case Endpoint::kInstallation:
      result = installation();
      break;
    case Endpoint::kListSystems:
      result = listSystems(call);
      break;
    case Endpoint::kCreateSystem:
      result = createSystem(call);
      break;
    case Endpoint::kGetSystem:
      result = getSystem(id);
      break;
    case Endpoint::kPatchSystem:
      result = patchSystem(id, call);
      break;
    case Endpoint::kDeleteSystem:
      result = deleteSystem(id, call);
      break;
    case Endpoint::kMoveSystem:
      result = moveSystem(id, call);
      break;
    case Endpoint::kListFolders:
      result = listFolders(call);
      break;
    case Endpoint::kCreateFolder:
      result = createFolder(call);
      break;
    case Endpoint::kGetFolder:
      result = getFolder(id);
      break;
    case Endpoint::kPatchFolder:
      result = patchFolder(id, call);
      break;
    case Endpoint::kDeleteFolder:
      result = deleteFolder(id, call);
      break;
    case Endpoint::kAudit:
      result = audit(call);
      break;
    case Endpoint::kListEvents:
      result = listEvents(call, std::nullopt);
      break;
    case Endpoint::kSystemEvents:
      result = listEvents(call, id);
      break;
    case Endpoint::kListCalls:
      result = listCalls(call, std::nullopt);
      break;
    case Endpoint::kSystemCalls:
      result = listCalls(call, id);
      break;
    case Endpoint::kListTickets:
      result = listTickets(call);
      break;
    case Endpoint::kAcknowledgeTicket:
      result = acknowledgeTicket(id, call);
      break;
    case Endpoint::kGetServerAddresses:
      result = serverAddresses();
      break;
    case Endpoint::kPutServerAddresses:
      result = putServerAddresses(call);
      break;
    case Endpoint::kGetSoftwareVersions:
      result = softwareVersions();
      break;
    case Endpoint::kPutSoftwareVersions:
      result = putSoftwareVersions(call);
      break;
    case Endpoint::kHealthz:
    case Endpoint::kReadyz:
    case Endpoint::kMetrics:
    case Endpoint::kFeedback:
    case Endpoint::kClusterNodes:
    case Endpoint::kPromoteNode:
    case Endpoint::kDemoteNode:
    case Endpoint::kCreateSession:
    case Endpoint::kCurrentSession:
    case Endpoint::kEndCurrentSession:
    case Endpoint::kRevokeSession:
    case Endpoint::kListUsers:
    case Endpoint::kCreateUser:
    case Endpoint::kGetUser:
    case Endpoint::kPatchUser:
    case Endpoint::kSetUserPassword:
    case Endpoint::kChangeOwnPassword:
    case Endpoint::kListGroups:
    case Endpoint::kCreateGroup:
    case Endpoint::kGetGroup:
    case Endpoint::kPatchGroup:
    case Endpoint::kDeleteGroup:
    case Endpoint::kAddGroupMember:
    case Endpoint::kRemoveGroupMember:
    case Endpoint::kListTokens:
    case Endpoint::kCreateToken:
    case Endpoint::kRevokeToken:
    case Endpoint::kClusterDiagnostics:
    case Endpoint::kListTasks:
    case Endpoint::kCreateTask:
    case Endpoint::kGetTask:
    case Endpoint::kCancelTask:
      break;
  }
  return databaseResponse(std::move(result));
}

Result<net::Response> Endpoints::installation() {
  auto inst = store_.installation();
  if (!inst.ok()) {
    if (inst.error().code == ErrorCode::kNotFound) {
      return Error::notFound("the database holds no installation yet: run `atrium init`");
    }
    return inst.error();
  }
  return jsonAnswer(200, installationToJson(*inst));
}

Result<net::Response> Endpoints::listSystems(const ApiCall& call) {
  auto filter = parseSystemFilter(call.query);
  if (!filter.ok()) return filter.error();
  auto page = store_.listSystems(*filter);
  if (!page.ok()) return page.error();
  json items = json::array();
  for (const auto& s : page->items) items.push_back(systemToJson(s));
  return jsonAnswer(200, {{"items", std::move(items)},
                          {"total", page->total},
                          {"limit", filter->limit},
                          {"offset", filter->offset}});
}

Result<net::Response> Endpoints::createSystem(const ApiCall& call) {
  auto system = parseSystemCreate(call.body);
  if (!system.ok()) return system.error();
  auto created_system = store_.createSystem(*system, call.actor);
  if (!created_system.ok()) {
    return systemConflict(created_system.error(), system->name, system->serial_number);
  }
  return createdAnswer(systemToJson(*created_system), "/api/v1/systems/" + created_system->id);
}

Result<net::Response> Endpoints::getSystem(const std::string& id) {
  if (!isUuid(id)) return systemNotFound(id);
  auto s = store_.system(id);
  if (!s.ok()) {
    if (s.error().code == ErrorCode::kNotFound) return systemNotFound(id);
    return s.error();
  }
  return jsonAnswer(200, systemToJson(*s));
}

Result<net::Response> Endpoints::patchSystem(const std::string& id, const ApiCall& call) {
  if (!isUuid(id)) return systemNotFound(id);
  auto patch = parseSystemPatch(call.body);
  if (!patch.ok()) return patch.error();
  std::vector<std::string> notices;
  auto s = store_.updateSystem(id, *patch, call.actor, &notices);
  if (!s.ok()) {
    if (s.error().code == ErrorCode::kNotFound) return systemNotFound(id);
    std::optional<std::string> serial;
    if (patch->serial_number) serial = *patch->serial_number;
    return systemConflict(s.error(), patch->name, serial);
  }
  json body = systemToJson(*s);
  if (!notices.empty()) body["warnings"] = notices;
  return jsonAnswer(200, std::move(body));
}

Result<net::Response> Endpoints::deleteSystem(const std::string& id, const ApiCall& call) {
  if (!isUuid(id)) return systemNotFound(id);
  auto st = store_.deleteSystem(id, call.actor);
  if (!st.ok()) {
    if (st.error().code == ErrorCode::kNotFound) return systemNotFound(id);
    return st.error();
  }
  return noContent();
}

Result<net::Response> Endpoints::moveSystem(const std::string& id, const ApiCall& call) {
  if (!isUuid(id)) return systemNotFound(id);
  auto target = parseSystemMove(call.body);
  if (!target.ok()) return target.error();
  store::SystemPatch patch;
  patch.folder_id = *target;
  auto s = store_.updateSystem(id, patch, call.actor);
  if (!s.ok()) {
    if (s.error().code == ErrorCode::kNotFound) return systemNotFound(id);
    return s.error();
  }
  return jsonAnswer(200, systemToJson(*s));
}

Result<net::Response> Endpoints::listFolders(const ApiCall& call) {
  auto tree = parseFolderListTree(call.query);
  if (!tree.ok()) return tree.error();
  auto folders = store_.folders();
  if (!folders.ok()) return folders.error();
  if (*tree) return jsonAnswer(200, {{"items", folderTreeJson(*folders)}});
  json items = json::array();
  for (const auto& f : *folders) items.push_back(folderToJson(f));
  return jsonAnswer(200, {{"items", std::move(items)}});
}

Result<net::Response> Endpoints::createFolder(const ApiCall& call) {
  auto folder = parseFolderCreate(call.body);
  if (!folder.ok()) return folder.error();
  auto f = store_.createFolder(folder->name, folder->parent_id, call.actor);
  if (!f.ok()) return folderConflict(f.error(), folder->name);
  return createdAnswer(folderToJson(*f), "/api/v1/folders/" + f->id);
}

Result<net::Response> Endpoints::getFolder(const std::string& id) {
  if (!isUuid(id)) return folderNotFound(id);
  auto f = store_.folder(id);
  if (!f.ok()) {
    if (f.error().code == ErrorCode::kNotFound) return folderNotFound(id);
    return f.error();
  }
  return jsonAnswer(200, folderToJson(*f));
}

Result<net::Response> Endpoints::patchFolder(const std::string& id, const ApiCall& call) {
  if (!isUuid(id)) return folderNotFound(id);
  auto patch = parseFolderPatch(call.body);
  if (!patch.ok()) return patch.error();
  auto f = store_.updateFolder(id, *patch, call.actor);
  if (!f.ok()) {
    if (f.error().code == ErrorCode::kNotFound) return folderNotFound(id);
    return folderConflict(f.error(), patch->name);
  }
  return jsonAnswer(200, folderToJson(*f));
}

Result<net::Response> Endpoints::deleteFolder(const std::string& id, const ApiCall& call) {
  if (!isUuid(id)) return folderNotFound(id);
  auto st = store_.deleteFolder(id, call.actor);
  if (!st.ok()) {
    if (st.error().code == ErrorCode::kNotFound) return folderNotFound(id);
    return st.error();
  }
  return noContent();
}

Result<net::Response> Endpoints::audit(const ApiCall& call) {
  auto filter = parseAuditFilter(call.query);
  if (!filter.ok()) return filter.error();
  auto page = store_.audit(*filter);
  if (!page.ok()) return page.error();
  json items = json::array();
  for (const auto& e : page->items) items.push_back(auditEntryToJson(e));
  return jsonAnswer(200, {{"items", std::move(items)},
                          {"total", page->total},
                          {"limit", filter->limit},
                          {"offset", filter->offset}});
}

template <typename T, typename ToJson>
net::Response pageResponse(const store::Page<T>& page, std::int64_t limit, std::int64_t offset,
                           ToJson to_json) {
  json items = json::array();
  for (const auto& item : page.items) items.push_back(to_json(item));
  return jsonAnswer(
      200,
      {{"items", std::move(items)}, {"total", page.total}, {"limit", limit}, {"offset", offset}});
}

Status Endpoints::requireSystem(const std::string& id) {
  if (!isUuid(id)) return systemNotFound(id);
  auto s = store_.system(id);
  if (s.ok()) return okStatus();
  if (s.error().code == ErrorCode::kNotFound) return systemNotFound(id);
  return s.error();
}

Result<net::Response> Endpoints::listEvents(const ApiCall& call,
                                            const std::optional<std::string>& system) {
  if (system) ATRIUM_TRY(requireSystem(*system));
  auto filter = parseEventFilter(call.query, system);
  if (!filter.ok()) return filter.error();
  auto page = devices_.events(*filter);
  if (!page.ok()) return page.error();
  return pageResponse(*page, filter->limit, filter->offset, eventToJson);
}

Result<net::Response> Endpoints::listCalls(const ApiCall& call,
                                           const std::optional<std::string>& system) {
  if (system) ATRIUM_TRY(requireSystem(*system));
  auto filter = parseCallFilter(call.query, system);
  if (!filter.ok()) return filter.error();
  auto page = devices_.callRecords(*filter);
  if (!page.ok()) return page.error();
  return pageResponse(*page, filter->limit, filter->offset, callRecordToJson);
}

Result<net::Response> Endpoints::listTickets(const ApiCall& call) {
  auto filter = parseTicketFilter(call.query);
  if (!filter.ok()) return filter.error();
  auto page = devices_.tickets(*filter);
  if (!page.ok()) return page.error();
  return pageResponse(*page, filter->limit, filter->offset, ticketToJson);
}

Result<net::Response> Endpoints::acknowledgeTicket(const std::string& id, const ApiCall& call) {
  auto not_found = Error::notFound("no ticket with id " + jsonQuote(id));
  std::int64_t ticket_id = 0;
  auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), ticket_id);
  if (ec != std::errc() || ptr != id.data() + id.size() || ticket_id <= 0) return not_found;
  auto t = devices_.acknowledgeTicket(ticket_id, call.actor);
  if (!t.ok()) {
    if (t.error().code == ErrorCode::kNotFound) return not_found;
    return t.error();
  }
  return jsonAnswer(200, ticketToJson(*t));
}

Result<net::Response> Endpoints::serverAddresses() {
  auto a = devices_.serverAddresses();
  if (!a.ok()) return a.error();
  return jsonAnswer(200, serverAddressesToJson(*a));
}

Result<net::Response> Endpoints::putServerAddresses(const ApiCall& call) {
  auto a = parseServerAddresses(call.body);
  if (!a.ok()) return a.error();
  ATRIUM_TRY(devices_.setServerAddresses(*a, call.actor));
  return jsonAnswer(200, serverAddressesToJson(*a));
}

Result<net::Response> Endpoints::softwareVersions() {
  auto v = devices_.expectedSoftwareVersions();
  if (!v.ok()) return v.error();
  return jsonAnswer(200, json(*v));
}

Result<net::Response> Endpoints::putSoftwareVersions(const ApiCall& call) {
  auto v = parseSoftwareVersions(call.body);
  if (!v.ok()) return v.error();
  ATRIUM_TRY(devices_.setExpectedSoftwareVersions(*v, call.actor));
  return jsonAnswer(200, json(*v));
}

}  // namespace atrium::api
