#include "collectors/process/self_metrics.h"

#include "collectors/process/procfs.h"

namespace tacho::collectors::process {

void WriteSelfProcessMetrics(agent::MetricSink& sink, const std::string& procfs_root) {
  // A reader per call: no state shared between threads. "Unlimited" limits are reported as
  // 2^64-1, as client_golang's process collector does.
  ProcfsReader reader(procfs_root);
  const double ticks = static_cast<double>(ClockTicksPerSecond());

  auto stat = reader.ReadStat("self");
  if (stat.ok() && ticks > 0) {
    sink.Counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                 {}, static_cast<double>(stat->utime + stat->stime) / ticks);
    sink.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {},
               static_cast<double>(stat->vsize));
    sink.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
               static_cast<double>(stat->rss) * static_cast<double>(PageSizeBytes()));
  }

  if (auto fds = reader.CountOpenFds("self"); fds.ok()) {
    sink.Gauge("process_open_fds", "Number of open file descriptors.", {},
               static_cast<double>(*fds));
  }

  if (auto limits = reader.ReadFile("self/limits"); limits.ok()) {
    if (auto max_fds = ParseMaxOpenFiles(*limits)) {
      sink.Gauge("process_max_fds", "Maximum number of open file descriptors.", {},
                 static_cast<double>(*max_fds));
    }
    if (auto max_vm = ParseSoftLimit(*limits, "Max address space")) {
      sink.Gauge("process_virtual_memory_max_bytes",
                 "Maximum amount of virtual memory available in bytes.", {},
                 static_cast<double>(*max_vm));
    }
  }

  if (stat.ok() && ticks > 0) {
    if (auto proc_stat = reader.ReadFile("stat"); proc_stat.ok()) {
      if (auto btime = ParseBootTime(*proc_stat)) {
        sink.Gauge("process_start_time_seconds",
                   "Start time of the process since unix epoch in seconds.", {},
                   static_cast<double>(*btime) + static_cast<double>(stat->starttime) / ticks);
      }
    }
  }
}

}  // namespace tacho::collectors::process
