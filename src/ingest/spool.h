// The node's local spool: what a system sent, appended and fsynced while the database cannot take
// it, replayed in order once it can. A record is durable when append() returns; only then may the
// sender be answered. Records carry their own idempotency keys inside the payload, so a record
// replayed twice (a crash between commit and acknowledge) is stored once by the database.
//
// On disk: segment files "segment-<first sequence, 20 digits>.log" of records
//   [u32 payload length][u32 CRC-32 of sequence+payload][u64 sequence][payload]
// (little-endian), and "acknowledged" holding the highest sequence known to be in the database.
// A torn or corrupt tail (a crash during append, before the sender was answered) is cut off at
// open.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace atrium::ingest {

struct SpoolRecord {
  std::uint64_t sequence = 0;
  std::string payload;
};

struct SpoolOptions {
  std::uint64_t segment_bytes = 64ull << 20;   // a new segment starts past this size
  std::uint32_t max_record_bytes = 16u << 20;  // larger payloads are refused
  bool fsync = true;                           // tests of the format may turn it off
};

class Spool {
 public:
  // Opens (creating) the spool in `dir`, recovering what is there.
  static Result<std::unique_ptr<Spool>> open(const std::filesystem::path& dir, SpoolOptions options = {});
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  ~Spool();

  // Appends and fsyncs one record; returns its sequence. Thread-safe.
  Result<std::uint64_t> append(std::string_view payload);

  // Up to `max` records not yet acknowledged, oldest first.
  Result<std::vector<SpoolRecord>> pending(std::size_t max);

  // Records up to and including `sequence` are in the database: they will not be replayed, and
  // segments holding only such records are deleted.
  Status acknowledge(std::uint64_t sequence);

  std::uint64_t pendingCount() const;
  std::uint64_t acknowledgedSequence() const;
  // Bytes cut off a torn tail at open (0 when the spool was clean).
  std::uint64_t recoveredTornBytes() const { return torn_bytes_; }

 private:
  struct Segment {
    std::uint64_t first_sequence = 0;
    std::uint64_t last_sequence = 0;  // 0 while empty
    std::filesystem::path path;
    std::uint64_t size = 0;
  };

  Spool(std::filesystem::path dir, SpoolOptions options) : dir_(std::move(dir)), options_(options) {}
  Status recover();
  Status openTail();
  Status startSegment(std::uint64_t first_sequence);
  Status writeAcknowledged(std::uint64_t sequence);

  std::filesystem::path dir_;
  SpoolOptions options_;
  mutable std::mutex mu_;
  std::vector<Segment> segments_;  // oldest first; the last one is written to
  int tail_fd_ = -1;
  std::uint64_t next_sequence_ = 1;
  std::uint64_t acknowledged_ = 0;
  std::uint64_t torn_bytes_ = 0;
};

}  // namespace atrium::ingest
