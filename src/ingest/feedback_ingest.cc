#include "ingest/feedback_ingest.h"

#include <fmt/format.h>

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
                               std::string node, store::ClusterStore* shared_retries)
    : store_(store),
      sink_(sink),
      clock_(clock),
      node_(std::move(node)),
      shared_retries_(shared_retries) {}

std::string FeedbackIngest::retryKeyFor(const std::string& content_key) {
  if (shared_retries_ == nullptr) return retries_.keyFor(content_key);
  // A key this node handed out while the database was away stays the key of that content.
  auto shared = shared_retries_->retryKey(content_key, kRetryWindow.count(),
                                          retries_.peek(content_key).value_or(std::string()));
  if (shared.ok()) {
    retries_.remember(content_key, *shared);
    return *shared;
  }
  // The database is away: the events go to the spool, keyed by this node's window.
  return retries_.keyFor(content_key);
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

  Reception reception{*system_id, node_, peer_address, clock_.now()};
  std::vector<store::StoredEvent> events;
  events.reserve(parsed->size());
  for (const auto& e : *parsed) {
    events.push_back(storedDeviceEvent(e, source, reception));
    events.back().idempotency_key = retryKeyFor(events.back().idempotency_key);
  }
  const std::size_t count = events.size();
  ATRIUM_TRY(sink_.accept(std::move(events)));
  ++posts_;
  events_ += count;
  return count;
}

FeedbackStats FeedbackIngest::stats() const {
  return {posts_.load(), events_.load(), unknown_secret_.load(), malformed_.load()};
}

}  // namespace atrium::ingest
