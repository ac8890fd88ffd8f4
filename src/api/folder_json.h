// Folders as the API reads and writes them (pure functions, like system_json.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "store/types.h"

namespace atrium::api {

// POST /api/v1/folders: {"name": required, "parent_id": UUID or null}. Fills name and parent_id.
Result<store::Folder> parseFolderCreate(std::string_view body);
// PATCH /api/v1/folders/{id}: {"name", "parent_id"} both optional; parent_id null moves it to
// the top level.
Result<store::FolderPatch> parseFolderPatch(std::string_view body);

nlohmann::json folderToJson(const store::Folder& folder);
// The folders nested: top-level folders, each with "children" (sorted as given). A folder whose
// parent is missing from the list is shown at the top level.
nlohmann::json folderTreeJson(const std::vector<store::Folder>& folders);

}  // namespace atrium::api
