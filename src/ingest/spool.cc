#include "ingest/spool.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace atrium::ingest {
namespace {

constexpr std::size_t kHeaderBytes = 16;

void putU32(unsigned char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void putU64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
std::uint32_t getU32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
std::uint64_t getU64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::uint32_t checksum(const unsigned char* sequence_bytes, std::string_view payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, sequence_bytes, 8);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size()));
  return static_cast<std::uint32_t>(crc);
}

Error ioError(const std::string& what, const std::filesystem::path& path) {
  return Error::internal(fmt::format("spool: {} {}: {}", what, path.string(), std::strerror(errno)));
}

Status writeAll(int fd, const void* data, std::size_t size, const std::filesystem::path& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ioError("cannot write", path);
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return okStatus();
}

Status fsyncDir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ioError("cannot open", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ioError("cannot fsync", dir);
  return okStatus();
}

std::string segmentName(std::uint64_t first_sequence) { return fmt::format("segment-{:020}.log", first_sequence); }

// Reads the records of one segment file; stops at the first torn or corrupt record and reports
// the offset of the valid prefix.
struct SegmentScan {
  std::vector<SpoolRecord> records;
  std::uint64_t valid_bytes = 0;
  std::uint64_t file_bytes = 0;
};

SegmentScan scanSegment(const std::filesystem::path& path, std::uint64_t skip_up_to, std::size_t max,
                        std::uint32_t max_record_bytes) {
  SegmentScan scan;
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  scan.file_bytes = data.size();
  std::size_t off = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  while (off + kHeaderBytes <= data.size()) {
    std::uint32_t len = getU32(bytes + off);
    std::uint32_t crc = getU32(bytes + off + 4);
    if (len > max_record_bytes || off + kHeaderBytes + len > data.size()) break;
    std::string_view payload(data.data() + off + kHeaderBytes, len);
    if (checksum(bytes + off + 8, payload) != crc) break;
    std::uint64_t seq = getU64(bytes + off + 8);
    if (seq > skip_up_to && scan.records.size() < max) scan.records.push_back({seq, std::string(payload)});
    off += kHeaderBytes + len;
    scan.valid_bytes = off;
  }
  return scan;
}

}  // namespace

Result<std::unique_ptr<Spool>> Spool::open(const std::filesystem::path& dir, SpoolOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error::internal(fmt::format("spool: cannot create {}: {}", dir.string(), ec.message()));
  std::unique_ptr<Spool> spool(new Spool(dir, options));
  ATRIUM_TRY(spool->recover());
  return spool;
}

Spool::~Spool() {
  if (tail_fd_ >= 0) ::close(tail_fd_);
}

Status Spool::recover() {
  // The acknowledged watermark.
  {
    std::ifstream in(dir_ / "acknowledged");
    std::uint64_t v = 0;
    if (in >> v) acknowledged_ = v;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("segment-", 0) == 0 && entry.path().extension() == ".log") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  next_sequence_ = acknowledged_ + 1;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& path = files[i];
    auto scan = scanSegment(path, 0, SIZE_MAX, options_.max_record_bytes);
    Segment seg;
    seg.path = path;
    seg.first_sequence = std::stoull(path.filename().string().substr(8, 20));
    seg.size = scan.valid_bytes;
    if (!scan.records.empty()) {
      seg.last_sequence = scan.records.back().sequence;
      next_sequence_ = std::max(next_sequence_, seg.last_sequence + 1);
    }
    if (scan.valid_bytes < scan.file_bytes) {
      // A torn tail: the append never returned, so no sender was answered for it.
      torn_bytes_ += scan.file_bytes - scan.valid_bytes;
      if (::truncate(path.c_str(), static_cast<off_t>(scan.valid_bytes)) != 0) return ioError("cannot truncate", path);
    }
    if (seg.last_sequence != 0 && seg.last_sequence <= acknowledged_ && i + 1 < files.size()) {
      std::filesystem::remove(path);
      continue;
    }
    segments_.push_back(seg);
  }
  if (segments_.empty()) return startSegment(next_sequence_);
  return openTail();
}

Status Spool::openTail() {
  const auto& tail = segments_.back();
  tail_fd_ = ::open(tail.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (tail_fd_ < 0) return ioError("cannot open", tail.path);
  return okStatus();
}

Status Spool::startSegment(std::uint64_t first_sequence) {
  if (tail_fd_ >= 0) ::close(tail_fd_);
  Segment seg;
  seg.first_sequence = first_sequence;
  seg.path = dir_ / segmentName(first_sequence);
  tail_fd_ = ::open(seg.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (tail_fd_ < 0) return ioError("cannot create", seg.path);
  if (options_.fsync) ATRIUM_TRY(fsyncDir(dir_));
  segments_.push_back(seg);
  return okStatus();
}

Result<std::uint64_t> Spool::append(std::string_view payload) {
  if (payload.size() > options_.max_record_bytes) {
    return Error::invalid(fmt::format("spool: a record of {} bytes is larger than the limit of {}", payload.size(),
                                      options_.max_record_bytes));
  }
  std::lock_guard lock(mu_);
  if (segments_.back().size >= options_.segment_bytes) ATRIUM_TRY(startSegment(next_sequence_));
  auto& tail = segments_.back();
  const std::uint64_t seq = next_sequence_;
  std::string record(kHeaderBytes, '\0');
  auto* h = reinterpret_cast<unsigned char*>(record.data());
  putU32(h, static_cast<std::uint32_t>(payload.size()));
  putU64(h + 8, seq);
  putU32(h + 4, checksum(h + 8, payload));
  record.append(payload);
  if (auto s = writeAll(tail_fd_, record.data(), record.size(), tail.path); !s) {
    // Cut off whatever part was written, so the next append starts on a record boundary.
    if (::ftruncate(tail_fd_, static_cast<off_t>(tail.size)) != 0) return ioError("cannot truncate", tail.path);
    return s.error();
  }
  if (options_.fsync && ::fdatasync(tail_fd_) != 0) return ioError("cannot fsync", tail.path);
  tail.size += record.size();
  tail.last_sequence = seq;
  ++next_sequence_;
  return seq;
}

Result<std::vector<SpoolRecord>> Spool::pending(std::size_t max) {
  std::lock_guard lock(mu_);
  std::vector<SpoolRecord> out;
  for (const auto& seg : segments_) {
    if (out.size() >= max) break;
    if (seg.last_sequence == 0 || seg.last_sequence <= acknowledged_) continue;
    auto scan = scanSegment(seg.path, acknowledged_, max - out.size(), options_.max_record_bytes);
    for (auto& r : scan.records) out.push_back(std::move(r));
  }
  return out;
}

Status Spool::writeAcknowledged(std::uint64_t sequence) {
  const auto path = dir_ / "acknowledged";
  const auto tmp = dir_ / "acknowledged.tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ioError("cannot create", tmp);
  const std::string text = std::to_string(sequence) + "\n";
  auto s = writeAll(fd, text.data(), text.size(), tmp);
  if (s && options_.fsync && ::fsync(fd) != 0) s = ioError("cannot fsync", tmp);
  ::close(fd);
  if (!s) return s;
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return ioError("cannot rename", tmp);
  if (options_.fsync) ATRIUM_TRY(fsyncDir(dir_));
  return okStatus();
}

Status Spool::acknowledge(std::uint64_t sequence) {
  std::lock_guard lock(mu_);
  sequence = std::min(sequence, next_sequence_ - 1);
  if (sequence <= acknowledged_) return okStatus();
  ATRIUM_TRY(writeAcknowledged(sequence));
  acknowledged_ = sequence;
  // Drop whole segments that hold only acknowledged records; keep the tail for appending.
  while (segments_.size() > 1 && segments_.front().last_sequence <= acknowledged_) {
    std::error_code ec;
    std::filesystem::remove(segments_.front().path, ec);
    segments_.erase(segments_.begin());
  }
  if (segments_.size() == 1 && segments_.front().last_sequence != 0 &&
      segments_.front().last_sequence <= acknowledged_ && segments_.front().size >= options_.segment_bytes / 4) {
    const auto old = segments_.front().path;
    segments_.clear();
    ATRIUM_TRY(startSegment(next_sequence_));
    std::error_code ec;
    std::filesystem::remove(old, ec);
  }
  return okStatus();
}

std::uint64_t Spool::pendingCount() const {
  std::lock_guard lock(mu_);
  return next_sequence_ - 1 - acknowledged_;
}

std::uint64_t Spool::acknowledgedSequence() const {
  std::lock_guard lock(mu_);
  return acknowledged_;
}

}  // namespace atrium::ingest
