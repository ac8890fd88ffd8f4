#include "ingest/trap_ingest.h"

#include <algorithm>

#include "common/log.h"
#include "devices/event_key.h"
#include "ingest/event_records.h"

namespace atrium::ingest {
namespace {

constexpr auto kCacheFresh = std::chrono::seconds(10);

}  // namespace

bool TrapIngest::TokenBucket::take(std::chrono::steady_clock::time_point now, double burst,
                                   double per_second) {
  if (!started) {
    started = true;
    tokens = burst;
    refilled = now;
  } else if (now > refilled) {
    const double seconds = std::chrono::duration<double>(now - refilled).count();
    tokens = std::min(burst, tokens + seconds * per_second);
    refilled = now;
  }
  if (tokens < 1) return false;
  tokens -= 1;
  return true;
}

TrapIngest::TrapIngest(store::DeviceStore& store, EventSink& sink, const Clock& clock,
                       std::string node, TrapIngestOptions options)
    : store_(store),
      sink_(sink),
      clock_(clock),
      node_(std::move(node)),
      options_(options),
      by_address_(options.max_cached_addresses),
      unknown_(options.max_cached_addresses) {}

TrapIngestStats TrapIngest::stats() const {
  std::lock_guard lock(mu_);
  TrapIngestStats s = stats_;
  s.cached_addresses = by_address_.size();
  return s;
}

Result<std::vector<std::string>> TrapIngest::systemsFor(const std::string& address) {
  const auto now = clock_.monotonic();
  {
    std::lock_guard lock(mu_);
    if (auto* cached = by_address_.find(address); cached && now - cached->fetched < kCacheFresh) {
      return cached->ids;
    }
  }
  auto found = store_.systemsByAddress(address);
  std::lock_guard lock(mu_);
  if (!found.ok()) {
    if (auto* cached = by_address_.find(address)) return cached->ids;
    return found.error();
  }
  std::vector<std::string> ids;
  for (const auto& m : *found) ids.push_back(m.system.id);
  by_address_.findOrInsert(address) = {ids, now};
  return ids;
}

bool TrapIngest::admitUnknown(const SnmpTrap& trap) {
  const auto now = clock_.monotonic();
  std::lock_guard lock(mu_);
  bool fresh = unknown_.find(trap.source_address) == nullptr;
  UnknownSender& sender = unknown_.findOrInsert(trap.source_address);
  const char* limit = nullptr;
  if (!sender.bucket.take(now, options_.per_address_burst, options_.per_address_per_second)) {
    limit = "per-address";
  } else if (!global_.take(now, options_.global_burst, options_.global_per_second)) {
    limit = "all-unknown-senders";
  }
  if (limit != nullptr) {
    ++stats_.unknown_limited;
    if (auto n = limited_log_.note(now)) {
      log::warn("trap.unknown_sender_limited", {{"count", n},
                                                {"last_source", trap.source_address},
                                                {"limit", limit},
                                                {"total_limited", stats_.unknown_limited}});
    }
    return false;
  }
  ++stats_.unknown_stored;
  if (fresh) {
    if (auto n = new_sender_log_.note(now)) {
      log::warn("trap.unknown_sender",
                {{"source", trap.source_address}, {"trap_oid", trap.trap_oid}, {"new_senders", n}});
    }
  }
  return true;
}

Status TrapIngest::accept(const SnmpTrap& trap) {
  auto ids = systemsFor(trap.source_address);
  std::vector<std::string> systems;
  if (ids.ok()) {
    systems = std::move(ids).value();
  } else {
    // The database is away and the address was never seen: stored without a system rather
    // than lost (the payload keeps the source address).
    log::debug("trap.system_unresolved",
               {{"source", trap.source_address}, {"detail", ids.error().message}});
  }
  Reception reception{std::nullopt, node_, trap.source_address, clock_.now()};
  std::vector<store::StoredEvent> events;
  if (systems.empty()) {
    // Over the limit: counted and dropped, but answered (an inform is acknowledged) so that the
    // sender does not retry and add to the flood.
    if (ids.ok() && !admitUnknown(trap)) return okStatus();
    events.push_back(storedTrapEvent(trap, reception));
  } else {
    for (std::size_t i = 0; i < systems.size(); ++i) {
      reception.system_id = systems[i];
      store::StoredEvent e = storedTrapEvent(trap, reception);
      // One event per system listing the address; the first keeps the trap's own key.
      if (i > 0) e.idempotency_key = devices::sha256Hex(e.idempotency_key + ":" + systems[i]);
      events.push_back(std::move(e));
    }
  }
  return sink_.accept(std::move(events));
}

}  // namespace atrium::ingest
