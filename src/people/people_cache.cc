#include "people/people_cache.h"

#include "common/log.h"

namespace atrium::people {
namespace {

constexpr std::size_t kMaxCachedPrincipals = 10000;

}  // namespace

PeopleCache::PeopleCache(store::PeopleStore& store, std::function<Result<FolderTree>()> folders,
                         const Clock& clock, std::chrono::milliseconds refresh)
    : store_(store), folders_(std::move(folders)), clock_(clock), refresh_(refresh) {}

PeopleCache::~PeopleCache() { stop(); }

void PeopleCache::start() {
  std::lock_guard lock(thread_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  Status first = refresh();
  if (!first.ok()) log::warn("people.refresh_failed", {{"detail", first.error().message}});
  thread_ = std::thread([this] { loop(); });
}

void PeopleCache::stop() {
  {
    std::lock_guard lock(thread_mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void PeopleCache::loop() {
  std::unique_lock lock(thread_mu_);
  bool last_ok = true;
  while (!cv_.wait_for(lock, refresh_, [this] { return stopping_; })) {
    lock.unlock();
    Status s = okStatus();
    try {
      s = refresh();
    } catch (const std::exception& e) {
      s = Error::internal(std::string("unexpected error: ") + e.what());
    }
    if (!s.ok() && last_ok) log::warn("people.refresh_failed", {{"detail", s.error().message}});
    last_ok = s.ok();
    lock.lock();
  }
}

Status PeopleCache::refresh() {
  auto revoked = store_.revokedSessions();
  if (!revoked.ok()) return revoked.error();
  auto tokens = store_.activeTokens();
  if (!tokens.ok()) return tokens.error();
  std::lock_guard lock(mu_);
  revoked_sessions_ = std::set<std::string>(revoked->begin(), revoked->end());
  tokens_.clear();
  for (auto& t : *tokens) tokens_.emplace(t.id, std::move(t));
  return okStatus();
}

Result<Principal> PeopleCache::principal(const std::string& user_id) {
  const auto now = clock_.monotonic();
  {
    std::lock_guard lock(mu_);
    auto it = principals_.find(user_id);
    if (it != principals_.end() && now - it->second.read < refresh_) return it->second.principal;
  }
  auto user = store_.user(user_id);
  if (!user.ok()) return user.error();
  auto groups = store_.groupsOf(user_id);
  if (!groups.ok()) return groups.error();
  bool scoped = false;
  std::vector<GroupGrant> grants;
  Principal p;
  p.user = std::move(*user);
  for (const auto& g : *groups) {
    GroupGrant grant;
    for (const auto& name : g.permissions) {
      if (auto perm = parsePermission(name)) add(grant.permissions, *perm);
    }
    grant.folders = g.folders;
    scoped = scoped || !g.folders.empty();
    grants.push_back(std::move(grant));
    p.groups.push_back(g.name);
  }
  FolderTree tree;
  if (scoped) {
    auto folders = folders_();
    if (!folders.ok()) return folders.error();
    tree = std::move(*folders);
  }
  p.access = accessOf(grants, tree);
  std::lock_guard lock(mu_);
  if (principals_.size() >= kMaxCachedPrincipals) principals_.clear();
  principals_[user_id] = {p, now};
  return p;
}

void PeopleCache::forget(const std::string& user_id) {
  std::lock_guard lock(mu_);
  principals_.erase(user_id);
}

bool PeopleCache::sessionRevoked(const std::string& session_id) const {
  std::lock_guard lock(mu_);
  return revoked_sessions_.contains(session_id);
}

void PeopleCache::noteRevokedSession(const std::string& session_id) {
  std::lock_guard lock(mu_);
  revoked_sessions_.insert(session_id);
}

std::optional<store::ApiToken> PeopleCache::token(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

void PeopleCache::noteRevokedToken(const std::string& id) {
  std::lock_guard lock(mu_);
  tokens_.erase(id);
}

void PeopleCache::noteToken(const store::ApiToken& token) {
  std::lock_guard lock(mu_);
  tokens_[token.id] = token;
}

}  // namespace atrium::people
