#include "api/folder_json.h"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "api/json_body.h"
#include "api/validation.h"
#include "common/clock.h"

namespace atrium::api {

using nlohmann::json;

namespace {

void markReadOnly(JsonFields& fields) {
  fields.readOnly({"id", "created_at", "updated_at", "children"});
}

}  // namespace

Result<store::Folder> parseFolderCreate(std::string_view body) {
  auto parsed = parseJsonObject(body, "folder");
  if (!parsed.ok()) return parsed.error();
  JsonFields f(*parsed);
  markReadOnly(f);
  auto name = f.requiredString("name");
  if (!name.ok()) return name.error();
  auto parent = f.nullableString("parent_id");
  if (!parent.ok()) return parent.error();
  ATRIUM_TRY(f.finish());

  store::Folder folder;
  ATRIUM_TRY(validateName(*name, "name"));
  folder.name = std::move(*name);
  if (*parent && **parent) {
    ATRIUM_TRY(validateUuid(***parent, "parent_id"));
    folder.parent_id = std::move(**parent);
  }
  return folder;
}

Result<store::FolderPatch> parseFolderPatch(std::string_view body) {
  auto parsed = parseJsonObject(body, "folder");
  if (!parsed.ok()) return parsed.error();
  JsonFields f(*parsed);
  markReadOnly(f);
  auto name = f.optionalString("name");
  if (!name.ok()) return name.error();
  auto parent = f.nullableString("parent_id");
  if (!parent.ok()) return parent.error();
  ATRIUM_TRY(f.finish());

  store::FolderPatch patch;
  if (*name) ATRIUM_TRY(validateName(**name, "name"));
  patch.name = std::move(*name);
  if (*parent && **parent) ATRIUM_TRY(validateUuid(***parent, "parent_id"));
  patch.parent_id = std::move(*parent);
  return patch;
}

json folderToJson(const store::Folder& folder) {
  return {
      {"id", folder.id},
      {"name", folder.name},
      {"parent_id", folder.parent_id ? json(*folder.parent_id) : json(nullptr)},
      {"created_at", formatTimestamp(folder.created_at)},
      {"updated_at", formatTimestamp(folder.updated_at)},
  };
}

json folderTreeJson(const std::vector<store::Folder>& folders) {
  std::set<std::string> ids;
  for (const auto& f : folders) ids.insert(f.id);
  std::map<std::string, std::vector<const store::Folder*>> children;
  std::vector<const store::Folder*> roots;
  for (const auto& f : folders) {
    if (f.parent_id && ids.count(*f.parent_id) && *f.parent_id != f.id) {
      children[*f.parent_id].push_back(&f);
    } else {
      roots.push_back(&f);
    }
  }
  // Depth-first, guarding against cycles in bad data.
  std::set<std::string> seen;
  std::function<json(const store::Folder&)> build = [&](const store::Folder& f) {
    json node = folderToJson(f);
    node["children"] = json::array();
    seen.insert(f.id);
    auto it = children.find(f.id);
    if (it != children.end()) {
      for (const auto* child : it->second) {
        if (!seen.count(child->id)) node["children"].push_back(build(*child));
      }
    }
    return node;
  };
  json out = json::array();
  for (const auto* root : roots) out.push_back(build(*root));
  return out;
}

}  // namespace atrium::api
