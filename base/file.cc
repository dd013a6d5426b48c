#include "base/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace tacho::base {

namespace fs = std::filesystem;

namespace {

Status Failed(const char* step, const std::string& path, int err) {
  return Status::Error(std::string("cannot ") + step + " " + path + ": " + std::strerror(err));
}

std::string DirectoryOf(const std::string& path) {
  const std::string dir = fs::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

}  // namespace

std::string TemporaryPathFor(const std::string& path) {
  const fs::path p(path);
  return (p.parent_path() / ("." + p.filename().string() + ".tmp")).string();
}

Status WriteFileAtomically(const std::string& path, std::string_view data, int mode) {
  const std::string tmp = TemporaryPathFor(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Failed("create", tmp, errno);
  auto abandon = [&](const char* step, int err) {
    ::unlink(tmp.c_str());
    return Failed(step, tmp, err);
  };
  for (std::size_t off = 0; off < data.size();) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return abandon("write", err);
    }
    off += static_cast<std::size_t>(n);
  }
  // close() runs whatever fsync() said: a failed fsync must not leak the descriptor.
  const int sync_err = ::fsync(fd) == 0 ? 0 : errno;
  const int close_err = ::close(fd) == 0 ? 0 : errno;
  if (sync_err != 0) return abandon("sync", sync_err);
  if (close_err != 0) return abandon("close", close_err);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return abandon("rename", errno);
  // The rename itself is durable only once the directory is.
  const std::string dir = DirectoryOf(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Failed("open directory", dir, errno);
  const int dir_err = ::fsync(dfd) == 0 ? 0 : errno;
  ::close(dfd);
  if (dir_err != 0) return Failed("sync directory", dir, dir_err);
  return Status::Ok();
}

int RemoveTemporaryFiles(const std::string& dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 5 && name[0] == '.' && name.ends_with(".tmp") &&
        fs::remove(entry.path(), ec)) {
      ++removed;
    }
  }
  return removed;
}

}  // namespace tacho::base
