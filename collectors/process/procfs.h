// Parsers for the /proc files the process collector reads, and a reader that fetches them from
// a procfs root ("/proc", or a fixture tree in tests) into a reused buffer.
//
// The parsers are pure functions over text. They ignore fields they do not know and tolerate
// missing ones, because kernels differ; only a file whose essential fields are absent is a
// parse error.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tacho::collectors::process {

// Why one read failed. The collector counts these per reason; none of them is logged.
enum class ReadError {
  kVanished,    // ENOENT/ESRCH: the process exited between the listing and the read
  kPermission,  // EACCES/EPERM: e.g. another user's io or fd/ without CAP_SYS_PTRACE
  kParse,       // the file was read but its essential fields are missing or malformed
  kMissing,     // the file is absent although the process exists (kernel option not built in)
  kOther,       // any other errno (EMFILE, EIO, ...)
};
inline constexpr int kReadErrorCount = 5;

// "vanished", "permission", "parse", "missing", "other": the `reason` label values.
const char* ReadErrorName(ReadError error);
// ENOENT and ESRCH are kVanished; EACCES and EPERM kPermission; anything else kOther.
ReadError ClassifyErrno(int err);

// A soft limit of "unlimited" in /proc/<pid>/limits.
inline constexpr std::uint64_t kUnlimited = std::numeric_limits<std::uint64_t>::max();

// /proc/<pid>/stat, the fields the collector uses. Units as the kernel gives them.
struct ProcStat {
  int pid = 0;
  std::string comm;  // at most 15 bytes on Linux (TASK_COMM_LEN - 1); may hold any byte
  char state = '?';  // R, S, D, Z, T, t, X, I, ...
  std::int64_t ppid = 0;
  std::uint64_t minflt = 0;
  std::uint64_t majflt = 0;
  std::uint64_t utime = 0;  // clock ticks (ClockTicksPerSecond())
  std::uint64_t stime = 0;  // clock ticks
  std::int64_t num_threads = 0;
  std::uint64_t starttime = 0;  // clock ticks since boot
  std::uint64_t vsize = 0;      // bytes
  std::int64_t rss = 0;         // pages (PageSizeBytes())
};

// 4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 120 0 3 0 15 7 0 0 20 0 2 0 98765 12345678 512
// ... comm runs from the first '(' to the LAST ')', because comm itself may hold spaces,
// parentheses and even newlines. Fields after rss are ignored; a line that stops before rss is a
// parse error (nullopt).
std::optional<ProcStat> ParseProcStat(std::string_view text);

// /proc/<pid>/status, the fields the collector uses. Kernel threads have no Vm* lines.
struct ProcStatus {
  std::optional<std::string> name;  // escaped by the kernel: a newline shows as "\n"
  std::optional<std::uint64_t> vm_swap_bytes;
  std::optional<std::int64_t> threads;
  std::optional<std::uint64_t> voluntary_ctxt_switches;
  std::optional<std::uint64_t> nonvoluntary_ctxt_switches;
};

// Name:\tpostgres\nVmSwap:\t      12 kB\nThreads:\t1\nvoluntary_ctxt_switches:\t42\n...
// Never fails: absent lines stay nullopt.
ProcStatus ParseProcStatus(std::string_view text);

// /proc/<pid>/io (needs CONFIG_TASK_IO_ACCOUNTING). Bytes.
struct ProcIo {
  std::optional<std::uint64_t> rchar;        // bytes passed to read()-like calls
  std::optional<std::uint64_t> wchar;        // bytes passed to write()-like calls
  std::optional<std::uint64_t> read_bytes;   // bytes fetched from the storage layer
  std::optional<std::uint64_t> write_bytes;  // bytes sent to the storage layer
};

// rchar: 6976\nwchar: 0\nsyscr: 10\nsyscw: 0\nread_bytes: 4096\nwrite_bytes: 0\n...
// Never fails: absent lines stay nullopt.
ProcIo ParseProcIo(std::string_view text);

// Max open files            1024                 524288               files
// The soft limit of the row named `limit` in /proc/<pid>/limits: kUnlimited for "unlimited",
// nullopt when the row is absent or malformed.
std::optional<std::uint64_t> ParseSoftLimit(std::string_view text, std::string_view limit);
// ParseSoftLimit(text, "Max open files").
std::optional<std::uint64_t> ParseMaxOpenFiles(std::string_view text);

// postgres\0-D\0/var/lib/postgresql/15/main\0  ->  "postgres -D /var/lib/postgresql/15/main"
// NUL-separated arguments joined by single spaces; the trailing NUL is dropped. Processes that
// rewrite their argv (postgres, sshd) may hand back one space-separated string: kept as is.
std::string JoinCmdline(std::string_view raw);
// The same arguments as a list. An empty file (kernel thread, zombie) gives an empty list.
std::vector<std::string> SplitCmdline(std::string_view raw);

// /usr/sbin/redis-server (deleted)  ->  /usr/sbin/redis-server
// The target of /proc/<pid>/exe without the suffix the kernel adds once the binary was
// replaced on disk (a package upgrade while the process runs).
std::string_view StripDeletedSuffix(std::string_view exe_target);

// btime 1700000000   (a line of /proc/stat): seconds since the epoch at boot.
std::optional<std::int64_t> ParseBootTime(std::string_view proc_stat);
// MemTotal:       16314180 kB   (a line of /proc/meminfo): in bytes.
std::optional<std::uint64_t> ParseMemTotalBytes(std::string_view meminfo);
// cpu0 4705 150 1120 1644520 ...: the number of "cpu<N>" lines of /proc/stat (online CPUs).
int CountCpuLines(std::string_view proc_stat);
// 4242\n  (a pidfile): the pid, nullopt unless the first line is a positive integer.
std::optional<int> ParsePidfile(std::string_view text);

// sysconf(_SC_CLK_TCK): the unit of utime, stime and starttime. Never hard-coded.
long ClockTicksPerSecond();
// sysconf(_SC_PAGESIZE): the unit of rss.
long PageSizeBytes();

// Reads files below a procfs root with one reused buffer, so a scan of a thousand processes
// allocates almost nothing. Not thread-safe: one reader per collector (or per call).
//
// Per-process reads take the process directory's name ("4242", or "self") and return the parsed
// part or the reason it is missing. ENOENT on a secondary file of a process that still exists
// is kMissing rather than kVanished.
class ProcfsReader {
 public:
  // A test seam: consulted before every per-process read with the directory name and the file
  // ("stat", "status", "io", "limits", "cmdline", "exe", "fd"). Returning an errno makes the
  // read fail with it; 0 lets it proceed. Root reads permission-protected files anyway, so
  // tests cannot rely on chmod.
  using FaultInjector = std::function<int(std::string_view proc, std::string_view file)>;

  explicit ProcfsReader(std::string root = "/proc", FaultInjector inject = nullptr);
  ~ProcfsReader();
  ProcfsReader(const ProcfsReader&) = delete;
  ProcfsReader& operator=(const ProcfsReader&) = delete;

  const std::string& root() const { return root_; }
  // True for "/proc" (and "/proc/"): the live system rather than a fixture tree.
  bool is_live() const { return live_; }

  // The numeric entries of the root, in directory order. Also (re)opens the root directory
  // that the other reads are relative to. Fails with a message naming the root.
  Expected<std::vector<int>, Status> ListPids();

  Expected<ProcStat, ReadError> ReadStat(std::string_view proc);
  Expected<ProcStatus, ReadError> ReadStatus(std::string_view proc);
  Expected<ProcIo, ReadError> ReadIo(std::string_view proc);
  // The "Max open files" soft limit, kUnlimited for "unlimited".
  Expected<std::uint64_t, ReadError> ReadMaxOpenFiles(std::string_view proc);
  // The number of entries of <proc>/fd (open file descriptors).
  Expected<std::uint64_t, ReadError> CountOpenFds(std::string_view proc);
  // The space-joined command line (JoinCmdline), at most max_bytes long.
  Expected<std::string, ReadError> ReadCmdline(std::string_view proc, std::size_t max_bytes = 4096);
  // The exe link target, " (deleted)" stripped. Empty, not an error, for kernel threads.
  Expected<std::string, ReadError> ReadExe(std::string_view proc);
  // The pid the link <root>/self points to (the reading process, in the root's pid namespace).
  std::optional<int> ReadSelfPid();

  // The whole content of a file relative to the root ("stat", "meminfo", "self/cgroup"). The
  // view is valid until the next read.
  Expected<std::string_view, ReadError> ReadFile(std::string_view path);
  // The same for a path outside the root (relative to the working directory, or absolute):
  // cgroup files.
  Expected<std::string_view, ReadError> ReadOutsideFile(std::string_view path);
  // The first kPidfileMaxBytes of a pidfile. Whoever can write its directory controls what the
  // path is, so: opened non-blocking (a FIFO never hangs the collection), not through a symlink
  // unless `follow_symlinks`, and only a regular file is read (a link to /dev/zero never grows
  // memory). A FIFO, device or directory is kOther; a symlink that is not followed, kOther.
  Expected<std::string_view, ReadError> ReadPidfile(std::string_view path, bool follow_symlinks);
  static constexpr std::size_t kPidfileMaxBytes = 4096;

 private:
  // Reads <root>/<proc>/<file> into buf_. 0 or an errno.
  int ReadProcFile(std::string_view proc, std::string_view file);
  // Reads the file at path_ (relative to the root, or to the working directory) into buf_.
  int ReadPath(bool from_root = true);
  // Reads fd into buf_ until end of file or max_bytes, then closes it. 0 or an errno.
  int ReadAndClose(int fd, std::size_t max_bytes);
  // Maps an errno of a read of <proc>/<file> to a ReadError (ENOENT: vanished or missing).
  ReadError Classify(std::string_view proc, int err);
  void SetPath(std::string_view proc, std::string_view file);
  int RootFd();

  std::string root_;
  bool live_ = false;
  FaultInjector inject_;
  int root_fd_ = -1;
  bool is_procfs_ = false;  // the root is a procfs mount, not a fixture tree
  std::string path_;
  std::string buf_;
  std::size_t len_ = 0;
  std::vector<char> dents_;
};

}  // namespace tacho::collectors::process
