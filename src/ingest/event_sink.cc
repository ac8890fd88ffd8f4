#include "ingest/event_sink.h"

#include "common/log.h"
#include "ingest/event_records.h"

namespace atrium::ingest {
namespace {

bool databaseDown(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kReadOnly ||
         e.code == ErrorCode::kTimeout;
}

}  // namespace

EventSink::EventSink(store::DeviceStore& store, Spool& spool, EventSinkOptions options)
    : store_(store), spool_(spool), options_(options) {}

EventSink::~EventSink() { stop(); }

void EventSink::addObserver(EventObserver* observer) { observers_.push_back(observer); }

void EventSink::start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  replay_thread_ = std::thread([this] { replayLoop(); });
}

void EventSink::stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (replay_thread_.joinable()) replay_thread_.join();
}

Status EventSink::commit(const std::vector<store::StoredEvent>& events, bool replay) {
  auto fresh = store_.storeEvents(events, callUpdatesFor(events));
  if (!fresh.ok()) return fresh.error();
  duplicates_ += events.size() - fresh->size();
  if (replay) {
    ++replayed_;
  } else {
    stored_ += fresh->size();
  }
  if (!fresh->empty()) {
    for (EventObserver* o : observers_) o->onEventsStored(*fresh);
  }
  return okStatus();
}

Status EventSink::spoolBatch(const std::vector<store::StoredEvent>& events) {
  auto seq = spool_.append(encodeBatch(events));
  if (!seq.ok()) {
    ++failures_;
    log::error("ingest.spool_failed", {{"events", events.size()}, {"detail", seq.error().message}});
    return Error::unavailable("the database is unavailable and the spool failed: " +
                              seq.error().message);
  }
  ++spooled_;
  ++accepted_;
  cv_.notify_all();
  return okStatus();
}

Status EventSink::accept(std::vector<store::StoredEvent> events) {
  if (events.empty()) return okStatus();
  {
    // Behind a backlog: keep the order, the replay thread stores it.
    std::lock_guard order(order_mu_);
    if (spool_.pendingCount() > 0) return spoolBatch(events);
  }
  Status committed = commit(events, false);
  if (committed.ok()) {
    ++accepted_;
    return okStatus();
  }
  if (!databaseDown(committed.error())) {
    ++failures_;
    log::error("ingest.store_failed",
               {{"events", events.size()}, {"detail", committed.error().message}});
    return committed.error();
  }
  std::lock_guard order(order_mu_);
  log::debug("ingest.spooling", {{"events", events.size()}, {"reason", committed.error().message}});
  return spoolBatch(events);
}

bool EventSink::replayOnce() {
  for (;;) {
    auto pending = spool_.pending(options_.replay_batch);
    if (!pending.ok()) {
      log::error("ingest.spool_read_failed", {{"detail", pending.error().message}});
      return false;
    }
    if (pending->empty()) return true;
    for (const SpoolRecord& record : *pending) {
      auto events = decodeBatch(record.payload);
      if (!events.ok()) {
        // Written by a build that this one cannot read; keeping it would stop every later record.
        log::error("ingest.spool_record_unreadable",
                   {{"sequence", record.sequence}, {"detail", events.error().message}});
      } else {
        Status s = commit(*events, true);
        if (!s.ok()) {
          if (!databaseDown(s.error())) {
            log::error("ingest.replay_failed",
                       {{"sequence", record.sequence}, {"detail", s.error().message}});
          }
          return false;
        }
      }
      Status acked = spool_.acknowledge(record.sequence);
      if (!acked.ok()) {
        log::error("ingest.spool_ack_failed", {{"detail", acked.error().message}});
        return false;
      }
    }
    log::info("ingest.replayed", {{"up_to", pending->back().sequence},
                                  {"pending", spool_.pendingCount()}});
  }
}

void EventSink::replayLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (spool_.pendingCount() > 0) {
      lock.unlock();
      bool drained = false;
      try {
        drained = replayOnce();
      } catch (const std::exception& e) {
        // Never the end of the replay: logged, and tried again after the retry interval.
        log::error("ingest.replay_unexpected_error", {{"detail", e.what()}});
      }
      lock.lock();
      if (drained) continue;
    }
    cv_.wait_for(lock, options_.replay_retry, [this] { return stopping_; });
  }
}

EventSinkStats EventSink::stats() const {
  EventSinkStats s;
  s.accepted = accepted_;
  s.stored = stored_;
  s.spooled = spooled_;
  s.replayed = replayed_;
  s.duplicates = duplicates_;
  s.failures = failures_;
  s.spool_pending = spool_.pendingCount();
  return s;
}

}  // namespace atrium::ingest
