#include "collectors/process/procfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

namespace tacho::collectors::process {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Parses the whole of `s` (no sign, no spaces) as an unsigned or signed integer.
template <class T>
std::optional<T> ParseInt(std::string_view s) {
  T value{};
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

// Splits `s` on runs of whitespace, calling fn(token) until it returns false.
template <class Fn>
void ForEachToken(std::string_view s, Fn&& fn) {
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    std::size_t start = i;
    while (i < s.size() && !IsSpace(s[i])) ++i;
    if (i > start && !fn(s.substr(start, i - start))) return;
  }
}

// Calls fn(line) for each '\n'-terminated (or final) line.
template <class Fn>
void ForEachLine(std::string_view s, Fn&& fn) {
  while (!s.empty()) {
    std::size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    if (!fn(line)) return;
    if (nl == std::string_view::npos) return;
    s.remove_prefix(nl + 1);
  }
}

// "VmSwap:\t      12 kB" -> ("VmSwap", "12 kB").
bool SplitKeyValue(std::string_view line, std::string_view& key, std::string_view& value) {
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  key = Trim(line.substr(0, colon));
  value = Trim(line.substr(colon + 1));
  return true;
}

// "12 kB" -> 12288; "12" -> 12.
std::optional<std::uint64_t> ParseKbOrNumber(std::string_view value) {
  std::size_t space = value.find(' ');
  auto number = ParseInt<std::uint64_t>(value.substr(0, space));
  if (!number) return std::nullopt;
  if (space != std::string_view::npos && Trim(value.substr(space)) == "kB") return *number * 1024;
  return number;
}

}  // namespace

const char* ReadErrorName(ReadError error) {
  switch (error) {
    case ReadError::kVanished:
      return "vanished";
    case ReadError::kPermission:
      return "permission";
    case ReadError::kParse:
      return "parse";
    case ReadError::kMissing:
      return "missing";
    case ReadError::kOther:
      return "other";
  }
  return "other";
}

ReadError ClassifyErrno(int err) {
  switch (err) {
    case ENOENT:
    case ESRCH:
      return ReadError::kVanished;
    case EACCES:
    case EPERM:
      return ReadError::kPermission;
    default:
      return ReadError::kOther;
  }
}

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  std::size_t open = text.find('(');
  std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat stat;
  auto pid = ParseInt<int>(Trim(text.substr(0, open)));
  if (!pid) return std::nullopt;
  stat.pid = *pid;
  stat.comm.assign(text.substr(open + 1, close - open - 1));

  // Fields after comm, numbered from 0 here: field 3 of proc(5) ("state") is index 0.
  enum : int {
    kState = 0,
    kPpid = 1,
    kMinflt = 7,
    kMajflt = 9,
    kUtime = 11,
    kStime = 12,
    kNumThreads = 17,
    kStarttime = 19,
    kVsize = 20,
    kRss = 21,
  };
  int index = 0;
  bool ok = true;
  auto u64 = [&ok](std::string_view token, std::uint64_t& out) {
    auto v = ParseInt<std::uint64_t>(token);
    if (v) out = *v;
    ok = ok && v.has_value();
  };
  auto i64 = [&ok](std::string_view token, std::int64_t& out) {
    auto v = ParseInt<std::int64_t>(token);
    if (v) out = *v;
    ok = ok && v.has_value();
  };
  ForEachToken(text.substr(close + 1), [&](std::string_view token) {
    switch (index) {
      case kState:
        ok = token.size() == 1;
        stat.state = token[0];
        break;
      case kPpid:
        i64(token, stat.ppid);
        break;
      case kMinflt:
        u64(token, stat.minflt);
        break;
      case kMajflt:
        u64(token, stat.majflt);
        break;
      case kUtime:
        u64(token, stat.utime);
        break;
      case kStime:
        u64(token, stat.stime);
        break;
      case kNumThreads:
        i64(token, stat.num_threads);
        break;
      case kStarttime:
        u64(token, stat.starttime);
        break;
      case kVsize:
        u64(token, stat.vsize);
        break;
      case kRss:
        i64(token, stat.rss);
        break;
      default:
        break;
    }
    ++index;
    return ok && index <= kRss;
  });
  if (!ok || index <= kRss) return std::nullopt;
  return stat;
}

ProcStatus ParseProcStatus(std::string_view text) {
  ProcStatus status;
  ForEachLine(text, [&status](std::string_view line) {
    std::string_view key, value;
    if (!SplitKeyValue(line, key, value)) return true;
    if (key == "Name") {
      status.name.emplace(value);
    } else if (key == "VmSwap") {
      status.vm_swap_bytes = ParseKbOrNumber(value);
    } else if (key == "Threads") {
      status.threads = ParseInt<std::int64_t>(value);
    } else if (key == "voluntary_ctxt_switches") {
      status.voluntary_ctxt_switches = ParseInt<std::uint64_t>(value);
    } else if (key == "nonvoluntary_ctxt_switches") {
      status.nonvoluntary_ctxt_switches = ParseInt<std::uint64_t>(value);
    }
    return true;
  });
  return status;
}

ProcIo ParseProcIo(std::string_view text) {
  ProcIo io;
  ForEachLine(text, [&io](std::string_view line) {
    std::string_view key, value;
    if (!SplitKeyValue(line, key, value)) return true;
    if (key == "rchar") {
      io.rchar = ParseInt<std::uint64_t>(value);
    } else if (key == "wchar") {
      io.wchar = ParseInt<std::uint64_t>(value);
    } else if (key == "read_bytes") {
      io.read_bytes = ParseInt<std::uint64_t>(value);
    } else if (key == "write_bytes") {
      io.write_bytes = ParseInt<std::uint64_t>(value);
    }
    return true;
  });
  return io;
}

std::optional<std::uint64_t> ParseSoftLimit(std::string_view text, std::string_view limit) {
  std::optional<std::uint64_t> result;
  ForEachLine(text, [&](std::string_view line) {
    if (line.size() <= limit.size() || line.substr(0, limit.size()) != limit ||
        !IsSpace(line[limit.size()])) {
      return true;
    }
    ForEachToken(line.substr(limit.size()), [&result](std::string_view soft) {
      result = soft == "unlimited" ? std::optional<std::uint64_t>(kUnlimited)
                                   : ParseInt<std::uint64_t>(soft);
      return false;
    });
    return false;
  });
  return result;
}

std::optional<std::uint64_t> ParseMaxOpenFiles(std::string_view text) {
  return ParseSoftLimit(text, "Max open files");
}

std::string JoinCmdline(std::string_view raw) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  std::string joined(raw);
  for (char& c : joined) {
    if (c == '\0') c = ' ';
  }
  return joined;
}

std::vector<std::string> SplitCmdline(std::string_view raw) {
  std::vector<std::string> args;
  if (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  if (raw.empty()) return args;
  while (true) {
    std::size_t nul = raw.find('\0');
    args.emplace_back(raw.substr(0, nul));
    if (nul == std::string_view::npos) break;
    raw.remove_prefix(nul + 1);
  }
  return args;
}

std::string_view StripDeletedSuffix(std::string_view exe_target) {
  constexpr std::string_view kDeleted = " (deleted)";
  if (exe_target.size() > kDeleted.size() &&
      exe_target.substr(exe_target.size() - kDeleted.size()) == kDeleted) {
    exe_target.remove_suffix(kDeleted.size());
  }
  return exe_target;
}

std::optional<std::int64_t> ParseBootTime(std::string_view proc_stat) {
  std::optional<std::int64_t> btime;
  ForEachLine(proc_stat, [&btime](std::string_view line) {
    if (line.substr(0, 6) != "btime ") return true;
    btime = ParseInt<std::int64_t>(Trim(line.substr(6)));
    return false;
  });
  return btime;
}

std::optional<std::uint64_t> ParseMemTotalBytes(std::string_view meminfo) {
  std::optional<std::uint64_t> total;
  ForEachLine(meminfo, [&total](std::string_view line) {
    std::string_view key, value;
    if (!SplitKeyValue(line, key, value) || key != "MemTotal") return true;
    total = ParseKbOrNumber(value);
    return false;
  });
  return total;
}

int CountCpuLines(std::string_view proc_stat) {
  int cpus = 0;
  ForEachLine(proc_stat, [&cpus](std::string_view line) {
    if (line.size() > 3 && line.substr(0, 3) == "cpu" && line[3] >= '0' && line[3] <= '9') {
      ++cpus;
    }
    return true;
  });
  return cpus;
}

std::optional<int> ParsePidfile(std::string_view text) {
  auto pid = ParseInt<int>(Trim(text.substr(0, text.find('\n'))));
  if (!pid || *pid <= 0) return std::nullopt;
  return pid;
}

long ClockTicksPerSecond() {
  static const long ticks = sysconf(_SC_CLK_TCK);
  return ticks;
}

long PageSizeBytes() {
  static const long page = sysconf(_SC_PAGESIZE);
  return page;
}

// ---------------------------------------------------------------------------------------------
// ProcfsReader

ProcfsReader::ProcfsReader(std::string root, FaultInjector inject)
    : root_(std::move(root)), inject_(std::move(inject)) {
  live_ = root_ == "/proc" || root_ == "/proc/";
  buf_.resize(4096);
}

ProcfsReader::~ProcfsReader() {
  if (root_fd_ >= 0) close(root_fd_);
}

int ProcfsReader::RootFd() {
  if (root_fd_ < 0) {
    root_fd_ = open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct statfs fs;
    is_procfs_ = root_fd_ >= 0 && fstatfs(root_fd_, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
  }
  return root_fd_;
}

Expected<std::vector<int>, Status> ProcfsReader::ListPids() {
  if (root_fd_ >= 0) {
    close(root_fd_);
    root_fd_ = -1;
  }
  if (RootFd() < 0) {
    int err = errno;
    return Status::Error("cannot open procfs_root \"" + root_ + "\": " + std::strerror(err));
  }
  // A fresh open per listing: getdents64 moves the fd's offset, which the *at() reads ignore.
  std::vector<int> pids;
  dents_.resize(32768);
  while (true) {
    ssize_t n = getdents64(root_fd_, dents_.data(), dents_.size());
    if (n < 0) {
      int err = errno;
      return Status::Error("cannot list procfs_root \"" + root_ + "\": " + std::strerror(err));
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      auto* entry = reinterpret_cast<struct dirent64*>(dents_.data() + off);
      off += entry->d_reclen;
      std::string_view name(entry->d_name);
      if (name.empty() || name[0] < '1' || name[0] > '9') continue;
      int pid = 0;
      auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
      if (ec == std::errc() && ptr == name.data() + name.size()) pids.push_back(pid);
    }
  }
  return pids;
}

void ProcfsReader::SetPath(std::string_view proc, std::string_view file) {
  path_.assign(proc);
  if (!file.empty()) {
    path_.push_back('/');
    path_.append(file);
  }
}

int ProcfsReader::ReadPath(bool from_root) {
  int base = from_root ? RootFd() : AT_FDCWD;
  if (base == -1) return errno;
  int fd = openat(base, path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  return ReadAndClose(fd, std::numeric_limits<std::size_t>::max());
}

int ProcfsReader::ReadAndClose(int fd, std::size_t max_bytes) {
  len_ = 0;
  int err = 0;
  while (len_ < max_bytes) {
    if (len_ == buf_.size()) buf_.resize(buf_.size() * 2);
    const ssize_t n = read(fd, buf_.data() + len_, std::min(buf_.size(), max_bytes) - len_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    if (n == 0) break;
    len_ += static_cast<std::size_t>(n);
  }
  close(fd);
  return err;
}

int ProcfsReader::ReadProcFile(std::string_view proc, std::string_view file) {
  if (inject_) {
    if (int err = inject_(proc, file); err != 0) return err;
  }
  SetPath(proc, file);
  return ReadPath();
}

ReadError ProcfsReader::Classify(std::string_view proc, int err) {
  if (err != ENOENT) return ClassifyErrno(err);
  // ENOENT: the process is gone, unless its directory is still there.
  SetPath(proc, "");
  struct stat st;
  if (RootFd() >= 0 && fstatat(root_fd_, path_.c_str(), &st, 0) == 0) return ReadError::kMissing;
  return ReadError::kVanished;
}

Expected<ProcStat, ReadError> ProcfsReader::ReadStat(std::string_view proc) {
  if (int err = ReadProcFile(proc, "stat"); err != 0) return Classify(proc, err);
  auto stat = ParseProcStat(std::string_view(buf_.data(), len_));
  if (!stat) return ReadError::kParse;
  return std::move(*stat);
}

Expected<ProcStatus, ReadError> ProcfsReader::ReadStatus(std::string_view proc) {
  if (int err = ReadProcFile(proc, "status"); err != 0) return Classify(proc, err);
  return ParseProcStatus(std::string_view(buf_.data(), len_));
}

Expected<ProcIo, ReadError> ProcfsReader::ReadIo(std::string_view proc) {
  if (int err = ReadProcFile(proc, "io"); err != 0) return Classify(proc, err);
  ProcIo io = ParseProcIo(std::string_view(buf_.data(), len_));
  if (!io.read_bytes && !io.write_bytes && !io.rchar && !io.wchar) return ReadError::kParse;
  return io;
}

Expected<std::uint64_t, ReadError> ProcfsReader::ReadMaxOpenFiles(std::string_view proc) {
  if (int err = ReadProcFile(proc, "limits"); err != 0) return Classify(proc, err);
  auto limit = ParseMaxOpenFiles(std::string_view(buf_.data(), len_));
  if (!limit) return ReadError::kParse;
  return *limit;
}

Expected<std::uint64_t, ReadError> ProcfsReader::CountOpenFds(std::string_view proc) {
  if (inject_) {
    if (int err = inject_(proc, "fd"); err != 0) return Classify(proc, err);
  }
  SetPath(proc, "fd");
  if (RootFd() < 0) return ClassifyErrno(errno);
  if (is_procfs_) {
    // Since Linux 6.2 the size of a procfs fd/ directory is its number of entries: one
    // stat(2) instead of open + getdents + close. Older kernels say 0: count them.
    struct stat st;
    if (fstatat(root_fd_, path_.c_str(), &st, 0) != 0) return Classify(proc, errno);
    if (st.st_size > 0) return static_cast<std::uint64_t>(st.st_size);
  }
  int fd = openat(root_fd_, path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Classify(proc, errno);
  dents_.resize(32768);
  std::uint64_t count = 0;
  while (true) {
    ssize_t n = getdents64(fd, dents_.data(), dents_.size());
    if (n < 0) {
      int err = errno;
      close(fd);
      return Classify(proc, err);
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      auto* entry = reinterpret_cast<struct dirent64*>(dents_.data() + off);
      off += entry->d_reclen;
      const char* name = entry->d_name;
      if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
      ++count;
    }
  }
  close(fd);
  return count;
}

Expected<std::string, ReadError> ProcfsReader::ReadCmdline(std::string_view proc,
                                                           std::size_t max_bytes) {
  if (int err = ReadProcFile(proc, "cmdline"); err != 0) return Classify(proc, err);
  return JoinCmdline(std::string_view(buf_.data(), std::min(len_, max_bytes)));
}

Expected<std::string, ReadError> ProcfsReader::ReadExe(std::string_view proc) {
  int err = 0;
  if (inject_) err = inject_(proc, "exe");
  if (err == 0) {
    SetPath(proc, "exe");
    if (RootFd() < 0) return ClassifyErrno(errno);
    while (true) {
      ssize_t n = readlinkat(root_fd_, path_.c_str(), buf_.data(), buf_.size());
      if (n < 0) {
        err = errno;
        break;
      }
      if (static_cast<std::size_t>(n) < buf_.size()) {
        return std::string(StripDeletedSuffix(std::string_view(buf_.data(), n)));
      }
      buf_.resize(buf_.size() * 2);
    }
  }
  ReadError error = Classify(proc, err);
  // Kernel threads have no exe link: that is an answer, not an error.
  if (error == ReadError::kMissing) return std::string();
  return error;
}

std::optional<int> ProcfsReader::ReadSelfPid() {
  if (RootFd() < 0) return std::nullopt;
  char target[32];
  ssize_t n = readlinkat(root_fd_, "self", target, sizeof(target));
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof(target)) return std::nullopt;
  return ParsePidfile(std::string_view(target, n));
}

Expected<std::string_view, ReadError> ProcfsReader::ReadFile(std::string_view path) {
  path_.assign(path);
  if (int err = ReadPath(); err != 0) return ClassifyErrno(err);
  return std::string_view(buf_.data(), len_);
}

Expected<std::string_view, ReadError> ProcfsReader::ReadPidfile(std::string_view path,
                                                                bool follow_symlinks) {
  path_.assign(path);
  const int flags =
      O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (follow_symlinks ? 0 : O_NOFOLLOW);
  const int fd = open(path_.c_str(), flags);
  if (fd < 0) return ClassifyErrno(errno);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return ReadError::kOther;
  }
  if (int err = ReadAndClose(fd, kPidfileMaxBytes); err != 0) return ClassifyErrno(err);
  return std::string_view(buf_.data(), len_);
}

Expected<std::string_view, ReadError> ProcfsReader::ReadOutsideFile(std::string_view path) {
  path_.assign(path);
  if (int err = ReadPath(/*from_root=*/false); err != 0) return ClassifyErrno(err);
  return std::string_view(buf_.data(), len_);
}

}  // namespace tacho::collectors::process
