// An exclusive advisory lock (flock) on a file, held for the lifetime of the object: closing the
// descriptor releases it, also when the process dies. The holder's pid is written into the file
// for an administrator looking at it.
#pragma once

#include <filesystem>
#include <memory>

#include "common/result.h"

namespace atrium {

class FileLock {
 public:
  // Creates the file if needed and locks it without waiting: kConflict when another process
  // holds it, kInvalid when the file cannot be created, kInternal for any other failure.
  static Result<std::unique_ptr<FileLock>> acquire(const std::filesystem::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  FileLock(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_;
};

}  // namespace atrium
