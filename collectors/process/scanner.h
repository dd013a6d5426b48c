// The core of the process collector: one scan of a procfs root, assigning processes to the
// configured groups and keeping each group's counters monotonic across process exits and pid
// reuse. Separate from the Collector so tests can drive it and inspect its totals directly.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/collector.h"
#include "collectors/process/procfs.h"
#include "collectors/process/regex.h"

namespace tacho::collectors::process::detail {

// One [[collectors.process.groups]] entry. A process belongs to the group when every matcher
// that is set matches (like process-exporter's selectors); within `comm` and `exe` any entry
// may match. The first group that matches wins.
struct GroupSpec {
  std::string name;
  std::vector<std::string> comm;         // exact comm; names longer than 15 bytes match truncated
  std::vector<std::string> exe;          // with a '/': the full exe path; without: its basename
  std::optional<std::regex> cmdline;     // searched in the space-joined cmdline
  std::string pidfile;                   // the process whose pid the file holds
  bool pidfile_follow_symlinks = false;  // read the pidfile through a symlink
  bool self = false;                     // tacho itself (<procfs_root>/self)

  bool needs_exe() const { return !exe.empty(); }
  bool needs_cmdline() const { return cmdline.has_value(); }
  // Matchers that depend on the pid rather than on what the process is.
  bool has_pid_matcher() const { return !pidfile.empty() || self; }
};

// `pattern` is a configured comm. The kernel keeps 15 bytes of a comm, so a longer pattern
// matches a 15-byte comm that is its prefix.
bool CommMatches(std::string_view pattern, std::string_view comm);
// `pattern` is a configured exe: a path when it contains '/', else a basename. `exe` is the
// link target with " (deleted)" already stripped.
bool ExeMatches(std::string_view pattern, std::string_view exe);

struct ScannerOptions {
  std::string procfs_root = "/proc";
  std::vector<GroupSpec> groups;
  // Joined cmdlines are cut to this length before regex matching: libstdc++'s std::regex
  // recurses per character and would exhaust a worker thread's stack on a 128 KiB cmdline.
  std::size_t max_cmdline_bytes = 4096;
  ProcfsReader::FaultInjector inject;  // tests only
};

// What a group amounts to after a scan. Counters are cumulative over the collector's life;
// gauges describe the current members.
struct GroupTotals {
  // Counters, in kernel units (ticks, bytes, faults, switches).
  std::uint64_t user_ticks = 0;
  std::uint64_t system_ticks = 0;
  std::uint64_t minor_faults = 0;
  std::uint64_t major_faults = 0;
  std::uint64_t voluntary_ctxt = 0;
  std::uint64_t nonvoluntary_ctxt = 0;
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
  // Whether /proc/<pid>/io was ever read for a member, or ever failed. A group whose io reads
  // all failed has no byte counters to show (rather than a misleading 0).
  bool io_ever_read = false;
  bool io_ever_failed = false;

  // Gauges of the current members.
  std::uint64_t num_procs = 0;
  std::uint64_t num_threads = 0;
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t swapped_bytes = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t fds_known = 0;                    // members whose fd/ could be counted
  std::uint64_t fds_unknown = 0;                  // members whose fd/ could not
  double worst_fd_ratio = 0;                      // max over members of open fds / soft limit
  std::optional<std::uint64_t> oldest_starttime;  // ticks since boot
  // Running, Sleeping, Waiting, Zombie, Other (process-exporter's buckets).
  std::array<std::uint64_t, 5> states{};

  void ResetGauges();
};

inline constexpr std::array<const char*, 5> kStateNames = {"Running", "Sleeping", "Waiting",
                                                           "Zombie", "Other"};
// R -> 0 Running, S -> 1 Sleeping, D -> 2 Waiting, Z -> 3 Zombie, anything else -> 4 Other.
int StateBucket(char state);

// Not thread-safe: Scan() runs on one worker thread at a time (the runtime never overlaps
// collections of one instance).
class ProcessScanner {
 public:
  explicit ProcessScanner(ScannerOptions options);

  // One pass over the procfs root. Fails only when the root cannot be listed or the scan was
  // cancelled before the end (then the counters of the processes seen are still updated, but
  // nothing is forgotten).
  Status Scan(const agent::CollectContext& ctx);

  const std::vector<GroupSpec>& groups() const { return options_.groups; }
  // In the order of groups().
  const std::vector<GroupTotals>& totals() const { return totals_; }
  // Cumulative read errors by ReadError.
  const std::array<std::uint64_t, kReadErrorCount>& errors() const { return errors_; }
  // Process directories visited by the last scan.
  std::uint64_t scanned() const { return scanned_; }
  // Processes remembered between scans (members and non-members).
  std::size_t tracked() const { return tracked_.size(); }
  // Seconds since the epoch at boot, once read.
  std::optional<std::int64_t> boot_time() const { return boot_time_; }
  ProcfsReader& reader() { return reader_; }

 private:
  struct Counters {
    std::uint64_t utime = 0, stime = 0, minflt = 0, majflt = 0;
    std::uint64_t vol = 0, nonvol = 0;
    std::uint64_t read_bytes = 0, write_bytes = 0;
  };
  // One process, identified by (pid, starttime).
  struct Tracked {
    std::uint64_t starttime = 0;
    std::string comm;
    // Groups whose comm/exe/cmdline matchers accept the process, in order; evaluated once per
    // process (and again if its comm changes). Ends early at a group without pid matchers.
    std::vector<int> candidates;
    int group = -1;     // the group counted last scan; -1: none
    bool fresh = true;  // not yet through a scan
    bool has_stat = false, has_ctxt = false, has_io = false;  // which baselines `last` holds
    Counters last;
    std::uint64_t generation = 0;
  };

  void ComputeCandidates(std::string_view proc, Tracked& tracked);
  int ChooseGroup(int pid, const Tracked& tracked) const;
  void ReadPidMatchers();
  // Reads the rest of a member's files and adds it to its group. False when it vanished.
  bool Account(std::string_view proc, const ProcStat& stat, int group, Tracked& tracked);
  void Count(ReadError error) { ++errors_[static_cast<int>(error)]; }

  ScannerOptions options_;
  ProcfsReader reader_;
  bool any_pid_matcher_ = false;
  std::vector<GroupTotals> totals_;
  std::array<std::uint64_t, kReadErrorCount> errors_{};
  std::unordered_map<int, Tracked> tracked_;
  std::uint64_t generation_ = 0;
  std::uint64_t scanned_ = 0;
  std::optional<std::int64_t> boot_time_;
  // Per scan: the pid each group's pidfile names, and tacho's own pid.
  std::vector<std::optional<int>> pidfile_pids_;
  std::optional<int> self_pid_;
};

}  // namespace tacho::collectors::process::detail
