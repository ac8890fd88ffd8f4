// Feeds arbitrary bytes to the API's request-body parsers (systems and folders, create and patch,
// and the move body). They must answer a value or an invalid_argument error, never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/folder_json.h"
#include "api/system_json.h"

namespace {

template <typename T>
void check(const atrium::Result<T>& r) {
  if (!r.ok() && r.error().code != atrium::ErrorCode::kInvalidArgument) std::abort();
  if (!r.ok() && r.error().message.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto created = atrium::api::parseSystemCreate(body);
  check(created);
  if (created.ok()) {
    // What the API would answer must serialise (valid UTF-8 in, valid UTF-8 out).
    (void)atrium::api::systemToJson(*created).dump();
  }
  check(atrium::api::parseSystemPatch(body));
  check(atrium::api::parseSystemMove(body));
  auto folder = atrium::api::parseFolderCreate(body);
  check(folder);
  if (folder.ok()) (void)atrium::api::folderToJson(*folder).dump();
  check(atrium::api::parseFolderPatch(body));
  return 0;
}
