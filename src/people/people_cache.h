// What every request's authentication reads, kept fresh on each node without asking another: the
// revoked sessions and the active API tokens (re-read every second, so a sign-out or a revocation
// on any node takes effect everywhere within about a second), and each signed-in user with what
// its groups let it do (read again when older than a second, so a disabled user or a changed
// group is seen as fast).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "people/permissions.h"
#include "store/people_store.h"

namespace atrium::people {

// A signed-in user and what it may do.
struct Principal {
  store::User user;
  Access access;
  std::vector<std::string> groups;  // names
};

// Folder id -> parent id (nullopt at the top), for folder-scoped grants.
using FolderTree = std::map<std::string, std::optional<std::string>>;

class PeopleCache {
 public:
  PeopleCache(store::PeopleStore& store, std::function<Result<FolderTree>()> folders, const Clock& clock,
              std::chrono::milliseconds refresh = std::chrono::seconds(1));
  PeopleCache(const PeopleCache&) = delete;
  PeopleCache& operator=(const PeopleCache&) = delete;
  ~PeopleCache();

  void start();  // reads the lists now, then every `refresh`
  void stop();
  // Reads the revoked sessions and active tokens now.
  Status refresh();

  // The user with what it may do; not_found when it does not exist.
  Result<Principal> principal(const std::string& user_id);
  // Forgets a user so its next request reads it again (after a change through this node).
  void forget(const std::string& user_id);
  bool sessionRevoked(const std::string& session_id) const;
  void noteRevokedSession(const std::string& session_id);
  // An active token by id (neither revoked nor expired at the last read).
  std::optional<store::ApiToken> token(const std::string& id) const;
  void noteRevokedToken(const std::string& id);
  void noteToken(const store::ApiToken& token);

 private:
  void loop();

  store::PeopleStore& store_;
  std::function<Result<FolderTree>()> folders_;
  const Clock& clock_;
  std::chrono::milliseconds refresh_;

  mutable std::mutex mu_;
  std::set<std::string> revoked_sessions_;
  std::unordered_map<std::string, store::ApiToken> tokens_;
  struct CachedPrincipal {
    Principal principal;
    std::chrono::steady_clock::time_point read;
  };
  std::unordered_map<std::string, CachedPrincipal> principals_;

  std::mutex thread_mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace atrium::people
