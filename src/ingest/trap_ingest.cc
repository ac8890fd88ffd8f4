#include "ingest/trap_ingest.h"

#include "common/log.h"
#include "devices/event_key.h"
#include "ingest/event_records.h"

namespace atrium::ingest {
namespace {

constexpr auto kCacheFresh = std::chrono::seconds(10);
constexpr std::size_t kMaxUnknownLogged = 1024;

}  // namespace

TrapIngest::TrapIngest(store::DeviceStore& store, EventSink& sink, const Clock& clock,
                       std::string node)
    : store_(store), sink_(sink), clock_(clock), node_(std::move(node)) {}

Result<std::vector<std::string>> TrapIngest::systemsFor(const std::string& address) {
  const auto now = clock_.monotonic();
  {
    std::lock_guard lock(mu_);
    auto it = by_address_.find(address);
    if (it != by_address_.end() && now - it->second.fetched < kCacheFresh) return it->second.ids;
  }
  auto found = store_.systemsByAddress(address);
  std::lock_guard lock(mu_);
  if (!found.ok()) {
    auto it = by_address_.find(address);
    if (it != by_address_.end()) return it->second.ids;
    return found.error();
  }
  std::vector<std::string> ids;
  for (const auto& m : *found) ids.push_back(m.system.id);
  by_address_[address] = {ids, now};
  return ids;
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
    if (ids.ok()) {
      std::lock_guard lock(mu_);
      if (unknown_logged_.size() < kMaxUnknownLogged &&
          unknown_logged_.insert(trap.source_address).second) {
        log::warn("trap.unknown_sender",
                  {{"source", trap.source_address}, {"trap_oid", trap.trap_oid}});
      }
    }
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
