#include "agent/self_metrics.h"

#include "base/build_info.h"

namespace tacho::agent {

double ToUnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

void WriteSelfMetrics(MetricSink& sink,
                      const std::vector<std::shared_ptr<CollectorRuntime>>& runtimes,
                      const AgentHealth& health) {
  sink.Gauge("tacho_build_info", "tacho's version and revision; always 1.",
             {{"version", kVersion}, {"revision", kRevision}}, 1);
  sink.Gauge("tacho_start_time_seconds", "Unix time tacho started.", {},
             ToUnixSeconds(health.started_at));
  for (const auto& r : runtimes) {
    const InstanceStats& s = r->stats();
    Labels labels = {{"collector", r->kind()}, {"target", r->name()}};
    sink.Gauge("tacho_scrape_collector_success",
               "1 if the instance's latest background collection succeeded, 0 if it failed or "
               "timed out (/metrics serves the latest snapshot; it never collects on scrape).",
               labels, s.state == InstanceState::kUp ? 1 : 0);
    sink.Gauge("tacho_scrape_collector_duration_seconds",
               "Duration of the instance's latest background collection.", labels,
               s.last_duration_seconds);
    if (s.last_success.time_since_epoch().count() != 0) {
      sink.Gauge("tacho_collector_last_success_timestamp_seconds",
                 "Unix time of the instance's latest successful collection; the age of the "
                 "series it serves.",
                 labels, ToUnixSeconds(s.last_success));
    }
    sink.Gauge("tacho_collector_interval_seconds", "Configured collection interval.", labels,
               std::chrono::duration<double>(r->interval()).count());
    sink.Gauge("tacho_collector_series", "Series the instance's latest collection produced.",
               labels, static_cast<double>(s.last_series));
    sink.Counter("tacho_collector_runs_total", "Collections finished (successful or not).", labels,
                 static_cast<double>(s.runs));
    sink.Counter("tacho_collector_errors_total", "Collections that failed or timed out.", labels,
                 static_cast<double>(s.errors));
    sink.Counter("tacho_collector_timeouts_total", "Collections that exceeded their timeout.",
                 labels, static_cast<double>(s.timeouts));
    sink.Counter("tacho_collector_skipped_total",
                 "Ticks skipped because the previous collection was still running.", labels,
                 static_cast<double>(s.skipped));
  }
  sink.Gauge("tacho_config_last_reload_successful",
             "1 if the latest configuration load or reload succeeded; 0 if it failed and the "
             "previous configuration is still running.",
             {}, health.config_last_reload_successful ? 1 : 0);
  sink.Gauge("tacho_config_last_reload_success_timestamp_seconds",
             "Unix time of the latest successful configuration load.", {},
             ToUnixSeconds(health.config_last_reload_success));
}

}  // namespace tacho::agent
