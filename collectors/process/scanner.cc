#include "collectors/process/scanner.h"

#include <algorithm>
#include <charconv>
#include <utility>

namespace tacho::collectors::process::detail {

// TASK_COMM_LEN is 16 including the terminating NUL.
constexpr std::size_t kMaxCommLength = 15;

bool CommMatches(std::string_view pattern, std::string_view comm) {
  if (pattern == comm) return true;
  return comm.size() == kMaxCommLength && pattern.size() > kMaxCommLength &&
         pattern.substr(0, kMaxCommLength) == comm;
}

bool ExeMatches(std::string_view pattern, std::string_view exe) {
  if (exe.empty()) return false;
  if (pattern.find('/') != std::string_view::npos) return pattern == exe;
  std::size_t slash = exe.rfind('/');
  return (slash == std::string_view::npos ? exe : exe.substr(slash + 1)) == pattern;
}

int StateBucket(char state) {
  switch (state) {
    case 'R':
      return 0;
    case 'S':
      return 1;
    case 'D':
      return 2;
    case 'Z':
      return 3;
    default:
      return 4;
  }
}

void GroupTotals::ResetGauges() {
  num_procs = 0;
  num_threads = 0;
  resident_bytes = 0;
  virtual_bytes = 0;
  swapped_bytes = 0;
  open_fds = 0;
  fds_known = 0;
  fds_unknown = 0;
  worst_fd_ratio = 0;
  oldest_starttime.reset();
  states.fill(0);
}

ProcessScanner::ProcessScanner(ScannerOptions options)
    : options_(std::move(options)),
      reader_(options_.procfs_root, options_.inject),
      totals_(options_.groups.size()),
      pidfile_pids_(options_.groups.size()) {
  any_pid_matcher_ = std::any_of(options_.groups.begin(), options_.groups.end(),
                                 [](const GroupSpec& g) { return g.has_pid_matcher(); });
}

void ProcessScanner::ReadPidMatchers() {
  if (!any_pid_matcher_) return;
  for (std::size_t i = 0; i < options_.groups.size(); ++i) {
    const GroupSpec& group = options_.groups[i];
    pidfile_pids_[i].reset();
    if (group.pidfile.empty()) continue;
    auto text = reader_.ReadPidfile(group.pidfile, group.pidfile_follow_symlinks);
    if (!text.ok()) {
      // No pidfile: the daemon is not running, which num_procs 0 says. Anything else counts.
      if (text.error() != ReadError::kVanished) Count(text.error());
      continue;
    }
    pidfile_pids_[i] = ParsePidfile(*text);
    if (!pidfile_pids_[i]) Count(ReadError::kParse);
  }
  if (!self_pid_) self_pid_ = reader_.ReadSelfPid();
}

void ProcessScanner::ComputeCandidates(std::string_view proc, Tracked& tracked) {
  tracked.candidates.clear();
  // exe and cmdline are read at most once, and only when a group gets as far as asking.
  std::optional<std::string> exe;
  std::optional<std::string> cmdline;
  for (std::size_t i = 0; i < options_.groups.size(); ++i) {
    const GroupSpec& group = options_.groups[i];
    bool match = true;
    if (!group.comm.empty()) {
      match = std::any_of(group.comm.begin(), group.comm.end(),
                          [&](const std::string& c) { return CommMatches(c, tracked.comm); });
    }
    if (match && group.needs_exe()) {
      if (!exe) {
        auto read = reader_.ReadExe(proc);
        if (!read.ok()) Count(read.error());
        exe = read.ok() ? std::move(*read) : std::string();
      }
      match = std::any_of(group.exe.begin(), group.exe.end(),
                          [&](const std::string& e) { return ExeMatches(e, *exe); });
    }
    if (match && group.needs_cmdline()) {
      if (!cmdline) {
        auto read = reader_.ReadCmdline(proc, options_.max_cmdline_bytes);
        if (!read.ok()) Count(read.error());
        cmdline = read.ok() ? std::move(*read) : std::string();
      }
      try {
        match = std::regex_search(*cmdline, *group.cmdline);
      } catch (const std::regex_error&) {  // error_complexity / error_stack
        Count(ReadError::kOther);
        match = false;
      }
    }
    if (!match) continue;
    tracked.candidates.push_back(static_cast<int>(i));
    // A group without pid matchers always takes the process: later groups cannot win.
    if (!group.has_pid_matcher()) break;
  }
}

int ProcessScanner::ChooseGroup(int pid, const Tracked& tracked) const {
  for (int i : tracked.candidates) {
    const GroupSpec& group = options_.groups[i];
    if (!group.pidfile.empty() && pidfile_pids_[i] != pid) continue;
    if (group.self && self_pid_ != pid) continue;
    return i;
  }
  return -1;
}

bool ProcessScanner::Account(std::string_view proc, const ProcStat& stat, int group,
                             Tracked& tracked) {
  GroupTotals& totals = totals_[group];
  // A process that moved here from another group (or from none) starts from a baseline, so
  // that no tick is counted in two groups.
  if (!tracked.fresh && tracked.group != group) {
    tracked.has_stat = tracked.has_ctxt = tracked.has_io = false;
  }
  // Counter rule: with a baseline, add the growth (a decrease is impossible for one process;
  // if the kernel ever shows one, re-baseline rather than go backwards). Without one, a fresh
  // process contributes everything it has done - it started since the last scan, or this is
  // the first scan - and a known one only sets its baseline.
  const bool fresh = tracked.fresh;
  auto add = [fresh](std::uint64_t now, std::uint64_t& last, bool has_base, std::uint64_t& total) {
    if (has_base) {
      if (now >= last) total += now - last;
    } else if (fresh) {
      total += now;
    }
    last = now;
  };
  Counters& last = tracked.last;
  add(stat.utime, last.utime, tracked.has_stat, totals.user_ticks);
  add(stat.stime, last.stime, tracked.has_stat, totals.system_ticks);
  add(stat.minflt, last.minflt, tracked.has_stat, totals.minor_faults);
  add(stat.majflt, last.majflt, tracked.has_stat, totals.major_faults);
  tracked.has_stat = true;
  tracked.group = group;
  tracked.fresh = false;

  auto status = reader_.ReadStatus(proc);
  if (!status.ok()) {
    Count(status.error());
    if (status.error() == ReadError::kVanished) return false;
  } else {
    add(status->voluntary_ctxt_switches.value_or(0), last.vol, tracked.has_ctxt,
        totals.voluntary_ctxt);
    add(status->nonvoluntary_ctxt_switches.value_or(0), last.nonvol, tracked.has_ctxt,
        totals.nonvoluntary_ctxt);
    tracked.has_ctxt = true;
  }

  auto io = reader_.ReadIo(proc);
  if (!io.ok()) {
    Count(io.error());
    if (io.error() == ReadError::kVanished) return false;
    totals.io_ever_failed = true;
  } else {
    add(io->read_bytes.value_or(0), last.read_bytes, tracked.has_io, totals.read_bytes);
    add(io->write_bytes.value_or(0), last.write_bytes, tracked.has_io, totals.write_bytes);
    tracked.has_io = true;
    totals.io_ever_read = true;
  }

  auto fds = reader_.CountOpenFds(proc);
  std::optional<std::uint64_t> max_fds;
  if (!fds.ok()) {
    Count(fds.error());
    if (fds.error() == ReadError::kVanished) return false;
  } else {
    auto limit = reader_.ReadMaxOpenFiles(proc);
    if (!limit.ok()) {
      Count(limit.error());
      if (limit.error() == ReadError::kVanished) return false;
    } else {
      max_fds = *limit;
    }
  }

  // Still there after every read: a member for the gauges.
  ++totals.num_procs;
  totals.num_threads += static_cast<std::uint64_t>(std::max<std::int64_t>(stat.num_threads, 0));
  totals.resident_bytes +=
      static_cast<std::uint64_t>(std::max<std::int64_t>(stat.rss, 0)) * PageSizeBytes();
  totals.virtual_bytes += stat.vsize;
  if (status.ok()) totals.swapped_bytes += status->vm_swap_bytes.value_or(0);
  if (fds.ok()) {
    totals.open_fds += *fds;
    ++totals.fds_known;
    // An unlimited soft limit gives a ratio of 0, as in process-exporter.
    if (max_fds && *max_fds != kUnlimited && *max_fds > 0) {
      totals.worst_fd_ratio = std::max(totals.worst_fd_ratio,
                                       static_cast<double>(*fds) / static_cast<double>(*max_fds));
    }
  } else {
    ++totals.fds_unknown;
  }
  if (!totals.oldest_starttime || stat.starttime < *totals.oldest_starttime) {
    totals.oldest_starttime = stat.starttime;
  }
  ++totals.states[StateBucket(stat.state)];
  return true;
}

Status ProcessScanner::Scan(const agent::CollectContext& ctx) {
  auto pids = reader_.ListPids();
  if (!pids.ok()) return pids.error();

  if (!boot_time_) {
    // Read once: the kernel derives btime from the wall clock, so it can wobble by a second
    // between reads and would make oldest_start_time_seconds jitter.
    auto stat = reader_.ReadFile("stat");
    if (!stat.ok()) {
      Count(stat.error() == ReadError::kVanished ? ReadError::kMissing : stat.error());
    } else if (!(boot_time_ = ParseBootTime(*stat))) {
      Count(ReadError::kParse);
    }
  }

  ReadPidMatchers();
  ++generation_;
  for (GroupTotals& totals : totals_) totals.ResetGauges();
  scanned_ = 0;

  std::size_t done = 0;
  char name[16];
  for (int pid : *pids) {
    if (ctx.Cancelled()) break;
    ++done;
    ++scanned_;
    auto end = std::to_chars(name, name + sizeof(name), pid).ptr;
    std::string_view proc(name, static_cast<std::size_t>(end - name));

    auto stat = reader_.ReadStat(proc);
    if (!stat.ok()) {
      Count(stat.error());
      continue;
    }
    auto [it, inserted] = tracked_.try_emplace(pid);
    Tracked& tracked = it->second;
    if (!inserted && tracked.starttime != stat->starttime) {
      tracked = Tracked{};  // the pid was reused: a new process
      inserted = true;
    }
    if (inserted || tracked.comm != stat->comm) {
      tracked.starttime = stat->starttime;
      tracked.comm = stat->comm;
      ComputeCandidates(proc, tracked);
    }
    tracked.generation = generation_;

    int group = ChooseGroup(pid, tracked);
    if (group < 0) {
      tracked.group = -1;
      tracked.fresh = false;
      continue;
    }
    Account(proc, *stat, group, tracked);
  }

  if (done < pids->size()) {
    return Status::Error("process scan cancelled after " + std::to_string(done) + " of " +
                         std::to_string(pids->size()) + " processes");
  }
  // Forget processes that are gone; their contributions stay in the group counters.
  std::erase_if(tracked_,
                [this](const auto& entry) { return entry.second.generation != generation_; });
  return Status::Ok();
}

}  // namespace tacho::collectors::process::detail
