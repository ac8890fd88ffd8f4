// Where every event a node receives goes. accept() returns OK only once the events are durable:
// committed to the database (DeviceStore::storeEvents, with the call records they imply), or —
// while the database is unavailable or read-only — appended and fsynced to the node's spool as
// one record per batch. A replay thread drains the spool in order whenever the database takes
// writes again and acknowledges each record after its commit; idempotency keys make a replay
// after a crash harmless. While the spool holds records, new batches are spooled behind them so
// events reach the database in the order they were received.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "ingest/spool.h"
#include "store/device_store.h"

namespace atrium::ingest {

// Told after each commit (also of replayed batches) about the events that were new. Called on
// the committing thread (a request's or the replay thread): return quickly, hand long work off.
class EventObserver {
 public:
  virtual ~EventObserver() = default;
  virtual void onEventsStored(const std::vector<store::StoredEvent>& events) = 0;
};

struct EventSinkOptions {
  std::chrono::milliseconds replay_retry{250};  // after a failed replay, and idle re-checks
  std::size_t replay_batch = 64;                // spool records read at a time
};

struct EventSinkStats {
  std::uint64_t accepted = 0;    // batches made durable (stored or spooled)
  std::uint64_t stored = 0;      // events committed directly
  std::uint64_t spooled = 0;     // batches appended to the spool
  std::uint64_t replayed = 0;    // spool records committed by the replay thread
  std::uint64_t duplicates = 0;  // events stored before (same idempotency key)
  std::uint64_t failures = 0;    // accept() calls that could make nothing durable
  std::uint64_t spool_pending = 0;
};

class EventSink {
 public:
  EventSink(store::DeviceStore& store, Spool& spool, EventSinkOptions options = {});
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;
  ~EventSink();

  // Observers are registered before start(); the sink does not own them.
  void addObserver(EventObserver* observer);
  void start();  // starts the replay thread
  void stop();   // stops it; idempotent

  // Blocking (database or fsync): call off the network threads.
  Status accept(std::vector<store::StoredEvent> events);

  EventSinkStats stats() const;

 private:
  // Commits a batch and tells the observers; the error when it could not be committed.
  Status commit(const std::vector<store::StoredEvent>& events, bool replay);
  Status spoolBatch(const std::vector<store::StoredEvent>& events);
  void replayLoop();
  // Replays what is pending; false when the database refused (retry later).
  bool replayOnce();

  store::DeviceStore& store_;
  Spool& spool_;
  EventSinkOptions options_;
  std::vector<EventObserver*> observers_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  std::thread replay_thread_;
  // Serialises spool appends with the check "is the spool empty?" so no batch overtakes a
  // spooled one.
  std::mutex order_mu_;

  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> stored_{0};
  std::atomic<std::uint64_t> spooled_{0};
  std::atomic<std::uint64_t> replayed_{0};
  std::atomic<std::uint64_t> duplicates_{0};
  std::atomic<std::uint64_t> failures_{0};
};

}  // namespace atrium::ingest
