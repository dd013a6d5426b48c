#include "collectors/process/process_collector.h"

#include <exception>
#include <set>
#include <utility>

#include "collectors/process/host.h"
#include "collectors/process/process_collector_internal.h"
#include "collectors/process/procfs.h"
#include "collectors/process/scanner.h"

namespace tacho::collectors::process {
namespace detail {
namespace {

using agent::Labels;
using agent::MetricSink;

// process-exporter's HELP texts where it has the metric, so dashboards read the same.
constexpr const char* kNumProcsHelp = "number of processes in this group";
constexpr const char* kCpuHelp = "Cpu user usage in seconds";
constexpr const char* kReadBytesHelp = "number of bytes read by this group";
constexpr const char* kWriteBytesHelp = "number of bytes written by this group";
constexpr const char* kMajorFaultsHelp = "Major page faults";
constexpr const char* kMinorFaultsHelp = "Minor page faults";
constexpr const char* kCtxSwitchesHelp = "Context switches";
constexpr const char* kMemoryHelp = "number of bytes of memory in use";
constexpr const char* kOpenFdsHelp = "number of open file descriptors for this group";
constexpr const char* kWorstFdRatioHelp =
    "the worst (closest to 1) ratio between open fds and max fds among all procs in this group";
constexpr const char* kNumThreadsHelp = "Number of threads";
constexpr const char* kOldestStartHelp =
    "start time in seconds since 1970/01/01 of oldest process in group";
constexpr const char* kStatesHelp =
    "Number of processes in states Running, Sleeping, Waiting, Zombie, or Other";

class ProcessCollector : public agent::Collector {
 public:
  explicit ProcessCollector(CollectorOptions options)
      : procfs_root_(options.scanner.procfs_root),
        cgroup_root_(std::move(options.cgroup_root)),
        scanner_(std::move(options.scanner)) {}

  Status Collect(const agent::CollectContext& ctx, MetricSink& sink) override {
    try {
      if (ClockTicksPerSecond() <= 0 || PageSizeBytes() <= 0) {
        return Status::Error("sysconf(_SC_CLK_TCK/_SC_PAGESIZE) failed");
      }
      Status status = scanner_.Scan(ctx);
      if (!status.ok()) return status;
      WriteGroups(sink);
      WriteHost(sink);
      WriteSelf(sink);
      return Status::Ok();
    } catch (const std::exception& e) {
      return Status::Error(std::string("process collector: ") + e.what());
    }
  }

 private:
  void WriteGroups(MetricSink& sink) {
    const double ticks = static_cast<double>(ClockTicksPerSecond());
    const auto& groups = scanner_.groups();
    const auto& all_totals = scanner_.totals();
    for (std::size_t i = 0; i < groups.size(); ++i) {
      const GroupTotals& t = all_totals[i];
      const std::string& name = groups[i].name;
      auto labels = [&name](std::initializer_list<agent::Label> extra = {}) {
        Labels l{{"groupname", name}};
        l.insert(l.end(), extra.begin(), extra.end());
        return l;
      };
      auto d = [](std::uint64_t v) { return static_cast<double>(v); };

      sink.Gauge("namedprocess_namegroup_num_procs", kNumProcsHelp, labels(), d(t.num_procs));
      sink.Counter("namedprocess_namegroup_cpu_seconds_total", kCpuHelp, labels({{"mode", "user"}}),
                   d(t.user_ticks) / ticks);
      sink.Counter("namedprocess_namegroup_cpu_seconds_total", kCpuHelp,
                   labels({{"mode", "system"}}), d(t.system_ticks) / ticks);
      // Only when some member's io could be read (or no read ever failed): a group whose
      // every io read was refused has no byte counters rather than a false 0.
      if (t.io_ever_read || !t.io_ever_failed) {
        sink.Counter("namedprocess_namegroup_read_bytes_total", kReadBytesHelp, labels(),
                     d(t.read_bytes));
        sink.Counter("namedprocess_namegroup_write_bytes_total", kWriteBytesHelp, labels(),
                     d(t.write_bytes));
      }
      sink.Counter("namedprocess_namegroup_major_page_faults_total", kMajorFaultsHelp, labels(),
                   d(t.major_faults));
      sink.Counter("namedprocess_namegroup_minor_page_faults_total", kMinorFaultsHelp, labels(),
                   d(t.minor_faults));
      sink.Counter("namedprocess_namegroup_context_switches_total", kCtxSwitchesHelp,
                   labels({{"ctxswitchtype", "voluntary"}}), d(t.voluntary_ctxt));
      sink.Counter("namedprocess_namegroup_context_switches_total", kCtxSwitchesHelp,
                   labels({{"ctxswitchtype", "nonvoluntary"}}), d(t.nonvoluntary_ctxt));
      sink.Gauge("namedprocess_namegroup_memory_bytes", kMemoryHelp,
                 labels({{"memtype", "resident"}}), d(t.resident_bytes));
      sink.Gauge("namedprocess_namegroup_memory_bytes", kMemoryHelp,
                 labels({{"memtype", "virtual"}}), d(t.virtual_bytes));
      sink.Gauge("namedprocess_namegroup_memory_bytes", kMemoryHelp,
                 labels({{"memtype", "swapped"}}), d(t.swapped_bytes));
      // Members whose fd/ was refused are left out of the sum; with none readable, no sample.
      if (t.fds_known > 0 || t.num_procs == 0) {
        sink.Gauge("namedprocess_namegroup_open_filedesc", kOpenFdsHelp, labels(), d(t.open_fds));
        sink.Gauge("namedprocess_namegroup_worst_fd_ratio", kWorstFdRatioHelp, labels(),
                   t.worst_fd_ratio);
      }
      sink.Gauge("namedprocess_namegroup_num_threads", kNumThreadsHelp, labels(), d(t.num_threads));
      // process-exporter reports year 1 for an empty group; tacho leaves the sample out.
      if (t.oldest_starttime && scanner_.boot_time()) {
        sink.Gauge("namedprocess_namegroup_oldest_start_time_seconds", kOldestStartHelp, labels(),
                   static_cast<double>(*scanner_.boot_time()) + d(*t.oldest_starttime) / ticks);
      }
      for (std::size_t s = 0; s < kStateNames.size(); ++s) {
        sink.Gauge("namedprocess_namegroup_states", kStatesHelp,
                   labels({{"state", kStateNames[s]}}), d(t.states[s]));
      }
    }
  }

  void WriteHost(MetricSink& sink) {
    auto facts = ReadHostFacts(procfs_root_, cgroup_root_);
    if (!facts.ok()) {
      ++host_errors_;
      return;
    }
    sink.Gauge("tacho_host_cpus", "Online CPUs of the host.", {}, static_cast<double>(facts->cpus));
    sink.Gauge("tacho_host_memory_bytes", "Physical memory of the host (MemTotal), in bytes.", {},
               static_cast<double>(facts->memory_total_bytes));
    if (facts->cgroup_cpu_quota_cores) {
      sink.Gauge("tacho_host_cgroup_cpu_quota_cores",
                 "CPU quota of tacho's cgroup v2 (cpu.max quota/period, tightest ancestor), in "
                 "cores. Absent when unlimited.",
                 {}, *facts->cgroup_cpu_quota_cores);
    }
    if (facts->cgroup_memory_limit_bytes) {
      sink.Gauge("tacho_host_cgroup_memory_limit_bytes",
                 "Memory limit of tacho's cgroup v2 (memory.max, tightest ancestor), in bytes. "
                 "Absent when unlimited.",
                 {}, static_cast<double>(*facts->cgroup_memory_limit_bytes));
    }
  }

  void WriteSelf(MetricSink& sink) {
    const auto& errors = scanner_.errors();
    for (int r = 0; r < kReadErrorCount; ++r) {
      std::uint64_t count = errors[r];
      if (static_cast<ReadError>(r) == ReadError::kOther) count += host_errors_;
      sink.Counter("tacho_process_read_errors_total",
                   "Reads of /proc files that failed, by reason: vanished (the process exited "
                   "meanwhile), permission (another user's io or fd/ without privileges), parse, "
                   "missing (file absent although the process exists), other.",
                   {{"reason", ReadErrorName(static_cast<ReadError>(r))}},
                   static_cast<double>(count));
    }
    sink.Gauge("tacho_process_scanned",
               "Process directories of procfs_root visited by the last "
               "scan.",
               {}, static_cast<double>(scanner_.scanned()));
  }

  std::string procfs_root_;
  std::string cgroup_root_;
  ProcessScanner scanner_;
  std::uint64_t host_errors_ = 0;
};

}  // namespace

const config::Schema& ProcessSchema() {
  using config::KeySpec;
  using config::Type;
  static const config::Schema kSchema = {
      {.name = "procfs_root",
       .type = Type::kString,
       .default_value = "\"/proc\"",
       .description = "Where procfs is mounted; \"/host/proc\" to watch the host from a "
                      "container (mount it read-only)."},
      {.name = "cgroup_root",
       .type = Type::kString,
       .default_value = "\"/sys/fs/cgroup\"",
       .description = "Where the cgroup v2 hierarchy is mounted (for the tacho_host_cgroup_* "
                      "limits)."},
      {.name = "groups",
       .type = Type::kTableList,
       .description = "Process groups, exported with the label groupname. A process joins the "
                      "first group whose matchers all match; within comm and exe any entry may "
                      "match. Each group needs at least one of comm, exe, cmdline, pidfile, "
                      "self.",
       .fields =
           {
               {.name = "name",
                .type = Type::kString,
                .description = "The groupname label; unique within the instance.",
                .required = true,
                .example = "\"postgres\""},
               {.name = "comm",
                .type = Type::kStringList,
                .description = "Process names (/proc/<pid>/comm), matched exactly. The "
                               "kernel keeps 15 bytes of a name, so \"postgres_exporter\" "
                               "matches a process whose comm is postgres_export.",
                .example = "[\"postgres\"]"},
               {.name = "exe",
                .type = Type::kStringList,
                .description = "Executables (/proc/<pid>/exe): a full path, or a basename "
                               "when there is no '/'. A binary replaced on disk, say by a "
                               "package upgrade (\"/usr/bin/redis-server (deleted)\"), still "
                               "matches.",
                .example = "[\"redis-server\"]"},
               {.name = "cmdline",
                .type = Type::kString,
                .description = "ECMAScript regular expression (C++ std::regex) searched, "
                               "not anchored, in the command line (arguments joined by single "
                               "spaces, first 4 KiB). An invalid expression is a configuration "
                               "error.",
                .example = "\"^pgbouncer .*/etc/pgbouncer\""},
               {.name = "pidfile",
                .type = Type::kString,
                .description = "The process whose pid this file holds, re-read every "
                               "collection; a missing file means the group has no member (not "
                               "an error). Only a regular file is read, non-blocking, at most "
                               "4 KiB: whoever can write its directory controls the path.",
                .example = "\"/run/pgbouncer/pgbouncer.pid\""},
               {.name = "pidfile_follow_symlinks",
                .type = Type::kBool,
                .default_value = "false",
                .description = "Read the pidfile through a symbolic link. Off: a link at the "
                               "pidfile's path is counted as a read error (a link can point "
                               "anywhere, e.g. at /dev/zero)."},
               {.name = "self",
                .type = Type::kBool,
                .default_value = "false",
                .description = "tacho itself (the process <procfs_root>/self points to)."},
           },
       .examples =
           {
               {.description = "Every postgres process: postmaster, backends, checkpointer, "
                               "walwriter, ...",
                .lines = {"name = \"postgres\"", "comm = [\"postgres\"]"}},
               {.description = "Redis by executable: a basename matches any path.",
                .lines = {"name = \"redis\"", "exe = [\"redis-server\"]"}},
               {.description = "pgbouncer by the process in its pidfile, or by command line when "
                               "it runs without one. Uncomment the pidfile line to use it.",
                .lines = {"name = \"pgbouncer\"", "# pidfile = \"/run/postgresql/pgbouncer.pid\"",
                          "cmdline = \"^(/usr/sbin/)?pgbouncer( |$)\""}},
               {.description = "Names longer than 15 bytes match the kernel's truncation of comm.",
                .lines = {"name = \"postgres_exporter\"", "comm = [\"postgres_exporter\"]"},
                .commented = true},
               {.description = "tacho itself.", .lines = {"name = \"tacho\"", "self = true"}},
           }},
  };
  return kSchema;
}

namespace {

const config::Binding<GroupSpec>& GroupBinding() {
  static const config::Binding<GroupSpec> kBinding = {
      config::Bind("name", &GroupSpec::name),
      config::Bind("comm", &GroupSpec::comm),
      config::Bind("exe", &GroupSpec::exe),
      config::ReadByCode("cmdline"),
      config::Bind("pidfile", &GroupSpec::pidfile),
      config::Bind("self", &GroupSpec::self),
      config::Bind("pidfile_follow_symlinks", &GroupSpec::pidfile_follow_symlinks),
  };
  return kBinding;
}

}  // namespace

const config::Binding<CollectorOptions>& ProcessBinding() {
  static const config::Binding<CollectorOptions> kBinding = {
      config::Bind("procfs_root", &CollectorOptions::scanner, &ScannerOptions::procfs_root),
      config::Bind("cgroup_root", &CollectorOptions::cgroup_root),
      config::ReadByCode("groups", GroupBinding().Keys()),
  };
  return kBinding;
}

Expected<CollectorOptions, config::Error> ParseOptions(const config::Section& section,
                                                       const agent::Environment&) {
  CollectorOptions options;
  ProcessBinding().Fill(section, options);
  if (options.scanner.procfs_root.empty()) {
    return section.ErrorAt("procfs_root", "procfs_root must not be empty");
  }
  std::set<std::string, std::less<>> names;
  for (const config::Section& g : section.GetTableList("groups")) {
    GroupSpec group;
    GroupBinding().Fill(g, group);
    if (group.name.empty()) return g.ErrorAt("name", "group name must not be empty");
    if (!names.insert(group.name).second) {
      return g.ErrorAt("name", "duplicate process group name \"" + group.name + "\"");
    }
    for (const std::string& exe : group.exe) {
      if (exe.empty()) return g.ErrorAt("exe", "exe entries must not be empty");
    }
    if (g.Has("cmdline")) {
      const std::string& pattern = g.GetString("cmdline");
      try {
        group.cmdline.emplace(pattern, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        return g.ErrorAt("cmdline", "invalid regular expression \"" + pattern +
                                        "\" in cmdline of group \"" + group.name +
                                        "\": " + e.what());
      }
    }
    if (group.comm.empty() && group.exe.empty() && !group.cmdline && group.pidfile.empty() &&
        !group.self) {
      return g.ErrorAt("name", "process group \"" + group.name +
                                   "\" has no matcher: set at least one of comm, exe, cmdline, "
                                   "pidfile, self");
    }
    options.scanner.groups.push_back(std::move(group));
  }
  return options;
}

std::unique_ptr<agent::Collector> NewProcessCollector(CollectorOptions options) {
  return std::make_unique<ProcessCollector>(std::move(options));
}

}  // namespace detail

agent::CollectorKind ProcessCollectorKind() {
  return agent::CollectorKind{
      .name = "process",
      .description =
          "Groups of processes (by comm, exe, cmdline, pidfile or self) with process-exporter's "
          "namedprocess_namegroup_* metrics, plus host CPU/memory and cgroup limits. A scan "
          "of 1,000 processes takes a few milliseconds.",
      .schema = detail::ProcessSchema(),
      .bound_keys = detail::ProcessBinding().Keys(),
      .create = agent::MakeFactory(&detail::ParseOptions, &detail::NewProcessCollector),
  };
}

}  // namespace tacho::collectors::process
