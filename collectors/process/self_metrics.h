// The standard process_* metrics for tacho itself, read from /proc/self at scrape time.
#pragma once

#include <string>

#include "agent/metric_sink.h"

namespace tacho::collectors::process {

// Writes process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_virtual_memory_bytes, process_virtual_memory_max_bytes,
// process_resident_memory_bytes, process_start_time_seconds (the names every official client
// library uses). Cheap (a handful of small reads); safe to call from any thread. A file that
// cannot be read leaves its metric out rather than reporting 0.
void WriteSelfProcessMetrics(agent::MetricSink& sink, const std::string& procfs_root = "/proc");

}  // namespace tacho::collectors::process
