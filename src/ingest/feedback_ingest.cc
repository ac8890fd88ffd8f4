#include "ingest/feedback_ingest.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "devices/cisco_mcu/mcu_api.h"
#include "devices/cisco_xapi/feedback_document.h"
#include "devices/event_key.h"
#include "ingest/event_records.h"

namespace atrium::ingest {
namespace {

constexpr auto kCacheFresh = std::chrono::seconds(30);
constexpr auto kUnknownLogInterval = std::chrono::seconds(10);
constexpr std::size_t kMalformedExcerpt = 512;

bool looksLikeSecret(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool isXmlRpcCall(std::string_view body) {
  return body.find("<methodCall") != std::string_view::npos;
}

bool databaseDown(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kReadOnly ||
         e.code == ErrorCode::kTimeout;
}

}  // namespace

FeedbackIngest::FeedbackIngest(store::DeviceStore& store, EventSink& sink, const Clock& clock,
                               std::string node, FeedbackLimits limits)
    : store_(store), sink_(sink), clock_(clock), node_(std::move(node)), limits_(limits) {}

FeedbackIngest::~FeedbackIngest() { stop(); }

void FeedbackIngest::start() {
  std::lock_guard lock(thread_mu_);
  if (reload_thread_.joinable()) return;
  stopping_ = false;
  Status loaded = loadSecrets();
  if (!loaded.ok()) {
    log::warn("feedback.secrets_not_loaded", {{"detail", loaded.error().message}});
  }
  reload_thread_ = std::thread([this] { reloadLoop(); });
}

void FeedbackIngest::stop() {
  {
    std::lock_guard lock(thread_mu_);
    if (!reload_thread_.joinable()) return;
    stopping_ = true;
  }
  thread_cv_.notify_all();
  reload_thread_.join();
}

void FeedbackIngest::reloadLoop() {
  // Systems created a little before the last look (on any node, by its clock) are looked for
  // again, so clock differences within the time-sync limit lose none.
  constexpr auto kCreatedOverlap = std::chrono::minutes(2);
  std::unique_lock lock(thread_mu_);
  auto next_full = clock_.monotonic() + limits_.secrets_reload;
  bool last_ok = true;
  while (!stopping_) {
    if (thread_cv_.wait_for(lock, limits_.secrets_refresh, [this] { return stopping_; })) break;
    lock.unlock();
    const bool full = !last_ok || clock_.monotonic() >= next_full;
    Status loaded = okStatus();
    try {
      loaded = full ? loadSecrets() : loadSecrets(clock_.now() - kCreatedOverlap);
    } catch (const std::exception& e) {
      loaded = Error::internal(std::string("unexpected error: ") + e.what());
    }
    if (!loaded.ok() && last_ok) {
      log::warn("feedback.secrets_not_loaded", {{"detail", loaded.error().message}});
    }
    if (loaded.ok() && full) next_full = clock_.monotonic() + limits_.secrets_reload;
    last_ok = loaded.ok();
    lock.lock();
  }
}

Status FeedbackIngest::loadSecrets(std::optional<store::TimePoint> created_since) {
  auto secrets = store_.feedbackSecrets(created_since.value_or(store::TimePoint{}));
  if (!secrets.ok()) return secrets.error();
  const auto now = clock_.monotonic();
  std::lock_guard lock(mu_);
  if (!created_since) by_secret_.clear();  // a full load also forgets removed systems
  for (auto& [system_id, secret] : *secrets) {
    if (!secret.empty()) by_secret_[secret] = {std::move(system_id), now};
  }
  return okStatus();
}

void FeedbackIngest::noteUnknownSecret(const std::string& peer_address) {
  ++unknown_secret_;
  std::lock_guard lock(mu_);
  ++unknown_since_log_;
  auto now = clock_.monotonic();
  if (now - last_unknown_log_ < kUnknownLogInterval) return;
  log::warn("feedback.unknown_secret",
            {{"peer", peer_address}, {"count_since_last_log", unknown_since_log_}});
  last_unknown_log_ = now;
  unknown_since_log_ = 0;
}

Result<std::string> FeedbackIngest::systemFor(const std::string& secret) {
  const auto now = clock_.monotonic();
  std::optional<std::string> cached;
  {
    std::lock_guard lock(mu_);
    auto it = by_secret_.find(secret);
    if (it != by_secret_.end()) {
      if (now - it->second.fetched < kCacheFresh) return it->second.system_id;
      cached = it->second.system_id;
    }
  }
  auto found = store_.systemByFeedbackSecret(secret);
  if (found.ok()) {
    std::lock_guard lock(mu_);
    by_secret_[secret] = {found->system.id, now};
    return found->system.id;
  }
  std::lock_guard lock(mu_);
  if (found.error().code == ErrorCode::kNotFound) {
    by_secret_.erase(secret);
  } else if (cached && databaseDown(found.error())) {
    return *cached;  // the database is away: the secret was valid a moment ago
  }
  return found.error();
}

Status FeedbackIngest::recordMalformed(const std::string& system_id, std::string_view body,
                                       const std::string& peer_address, const std::string& reason) {
  ++malformed_;
  log::warn("feedback.malformed",
            {{"system_id", system_id}, {"peer", peer_address}, {"detail", reason}});
  auto ticket = store_.raiseTicket(system_id, store::kTicketMalformedInput, "minor",
                                   "the system posted feedback that cannot be read: " + reason);
  if (!ticket.ok()) {
    log::warn("feedback.ticket_failed",
              {{"system_id", system_id}, {"detail", ticket.error().message}});
  }
  store::StoredEvent e;
  e.system_id = system_id;
  e.idempotency_key = devices::sha256Hex("malformed-v1:" + system_id + ":" + std::string(body));
  e.source = "feedback";
  e.kind = "malformed";
  e.received_at = clock_.now();
  e.node = node_;
  e.source_address = peer_address;
  nlohmann::json payload = {{"error", reason},
                            {"bytes", body.size()},
                            {"excerpt", std::string(body.substr(0, kMalformedExcerpt))}};
  e.payload = payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return sink_.accept({std::move(e)});
}

Result<std::size_t> FeedbackIngest::handle(std::string_view secret_view, std::string_view body,
                                           const std::string& peer_address) {
  const std::string secret(secret_view);
  if (!looksLikeSecret(secret)) {
    noteUnknownSecret(peer_address);
    return Error::notFound("no system is registered for this feedback address");
  }
  auto system_id = systemFor(secret);
  if (!system_id.ok()) {
    if (system_id.error().code == ErrorCode::kNotFound) {
      noteUnknownSecret(peer_address);
      return Error::notFound("no system is registered for this feedback address");
    }
    return system_id.error();
  }

  Result<std::vector<devices::DeviceEvent>> parsed = std::vector<devices::DeviceEvent>{};
  std::string source = "feedback";
  if (isXmlRpcCall(body)) {
    source = "notification";
    auto notification = devices::cisco_mcu::decodeEventNotification(body);
    if (notification.ok()) {
      parsed = devices::cisco_mcu::notificationEvents(*notification, *system_id);
    } else {
      parsed = notification.error();
    }
  } else {
    parsed = devices::cisco_xapi::parseFeedbackXml(body, *system_id);
  }
  if (!parsed.ok()) {
    const std::string reason = parsed.error().message;
    Status recorded = recordMalformed(*system_id, body, peer_address, reason);
    if (!recorded.ok()) return recorded.error();
    return Error::invalid("the feedback document cannot be read: " + reason);
  }

  const std::size_t parsed_count = parsed->size();
  std::size_t keep = std::min(parsed_count, limits_.max_events_per_post);
  const bool over_post_limit = keep < parsed_count;
  keep = allowance(*system_id, keep);
  if (keep < parsed_count)
    reportDropped(*system_id, parsed_count - keep, parsed_count, over_post_limit);

  Reception reception{*system_id, node_, peer_address, clock_.now()};
  const std::int64_t received_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       reception.received_at.time_since_epoch())
                                       .count();
  std::vector<store::StoredEvent> events;
  events.reserve(keep);
  for (std::size_t i = 0; i < keep; ++i) {
    store::StoredEvent e = storedDeviceEvent((*parsed)[i], source, reception);
    // The content's key decides what is a retry (the store keeps one per content within
    // store::kRetryWindow); the stored key only tells this copy from a replay of itself.
    e.retry_key = e.idempotency_key;
    e.idempotency_key =
        devices::sha256Hex(fmt::format("{}@{}@{}", *e.retry_key, received_ms, node_));
    events.push_back(std::move(e));
  }
  const std::size_t count = events.size();
  ATRIUM_TRY(sink_.accept(std::move(events)));
  ++posts_;
  events_ += count;
  return count;
}

std::size_t FeedbackIngest::allowance(const std::string& system_id, std::size_t wanted) {
  const double rate = static_cast<double>(limits_.max_events_per_system_per_second);
  const double burst = rate * 10;
  const auto now = clock_.monotonic();
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(system_id);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = burst;
  } else {
    const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(burst, b.tokens + std::max(0.0, elapsed) * rate);
  }
  b.refilled = now;
  const auto granted = static_cast<std::size_t>(std::min(b.tokens, static_cast<double>(wanted)));
  b.tokens -= static_cast<double>(granted);
  return granted;
}

void FeedbackIngest::reportDropped(const std::string& system_id, std::size_t dropped,
                                   std::size_t parsed, bool over_post_limit) {
  constexpr auto kTicketInterval = std::chrono::seconds(10);
  dropped_ += dropped;
  const auto now = clock_.monotonic();
  std::uint64_t total = 0;
  {
    std::lock_guard lock(mu_);
    Bucket& b = buckets_[system_id];
    b.dropped_since_ticket += dropped;
    if (b.last_ticket != std::chrono::steady_clock::time_point{} &&
        now - b.last_ticket < kTicketInterval)
      return;
    b.last_ticket = now;
    total = b.dropped_since_ticket;
    b.dropped_since_ticket = 0;
  }
  const std::string why =
      over_post_limit
          ? fmt::format(
                "one feedback post held {} events, more than ingest.max_events_per_post ({})",
                parsed, limits_.max_events_per_post)
          : fmt::format(
                "the system sends more than ingest.max_events_per_system_per_second ({}) events "
                "per second",
                limits_.max_events_per_system_per_second);
  log::warn("feedback.events_dropped",
            {{"system_id", system_id}, {"dropped", total}, {"reason", why}});
  auto ticket = store_.raiseTicket(system_id, store::kTicketFeedbackFlood, "major",
                                   fmt::format("{}; {} events were dropped (counted in "
                                               "atrium_feedback_events_dropped_total)",
                                               why, total));
  if (!ticket.ok()) {
    log::warn("feedback.ticket_failed",
              {{"system_id", system_id}, {"detail", ticket.error().message}});
  }
}

FeedbackStats FeedbackIngest::stats() const {
  std::size_t known = 0;
  {
    std::lock_guard lock(mu_);
    known = by_secret_.size();
  }
  return {posts_.load(),     events_.load(),  unknown_secret_.load(),
          malformed_.load(), dropped_.load(), known};
}

}  // namespace atrium::ingest
