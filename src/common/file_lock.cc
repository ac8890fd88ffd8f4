#include "common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace atrium {

Result<std::unique_ptr<FileLock>> FileLock::acquire(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error::invalid(fmt::format("cannot create the lock file {}: {}", path.string(), std::strerror(errno)));
  }
  std::unique_ptr<FileLock> lock(new FileLock(path, fd));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Error::conflict(fmt::format("{} is locked by another process", path.string()));
    return Error::internal(fmt::format("cannot lock {}: {}", path.string(), std::strerror(errno)));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    const ssize_t n = ::pwrite(fd, pid.data(), pid.size(), 0);
    (void)n;  // only informative
  }
  return lock;
}

FileLock::~FileLock() { ::close(fd_); }

}  // namespace atrium
