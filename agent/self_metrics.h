// tacho_* self-metrics: build info, per-instance collection health, configuration reloads.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "agent/metric_sink.h"
#include "agent/runtime.h"

namespace tacho::agent {

struct AgentHealth {
  bool config_last_reload_successful = true;
  std::chrono::system_clock::time_point config_last_reload_success{};
  std::chrono::system_clock::time_point started_at{};
};

// Writes tacho_build_info, tacho_scrape_collector_success, tacho_scrape_collector_duration_seconds,
// tacho_collector_last_success_timestamp_seconds, tacho_collector_runs_total,
// tacho_collector_errors_total, tacho_collector_timeouts_total, tacho_collector_skipped_total,
// tacho_collector_series, tacho_config_last_reload_successful and
// tacho_config_last_reload_success_timestamp_seconds. Event-loop thread (reads runtime stats).
void WriteSelfMetrics(MetricSink& sink,
                      const std::vector<std::shared_ptr<CollectorRuntime>>& runtimes,
                      const AgentHealth& health);

double ToUnixSeconds(std::chrono::system_clock::time_point t);

}  // namespace tacho::agent
