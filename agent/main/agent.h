// The Agent: turns a configuration into running collector instances, serves them over HTTP,
// reloads on SIGHUP and stops on SIGTERM/SIGINT.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/alerts/rule_engine.h"
#include "agent/collector_registry.h"
#include "agent/pool_chains.h"
#include "agent/scheduler.h"
#include "agent/self_metrics.h"
#include "agent/snapshot.h"
#include "config/config.h"

namespace tacho::exporters {
class HttpServer;
}  // namespace tacho::exporters
namespace tacho::webhook {
class Notifier;
}  // namespace tacho::webhook

namespace tacho::agent {

struct AgentOptions {
  std::string config_path;          // empty: the embedded default
  std::string listen_override;      // --listen
  std::string log_level_override;   // --log-level
  std::string listen_address_file;  // --listen-address-file: "host:port" written once bound
};

// Metrics computed at scrape time from tacho itself (process_*), supplied by main so the agent
// core does not depend on a collector.
using ScrapeTimeMetrics = std::function<void(MetricSink&)>;

// The [alerts] table: alert evaluation's keys (alerts::RulesSchema) followed by delivery's
// (webhook::DeliverySchema).
const config::Schema& AlertsSectionSchema();

// The embedded default configuration used when no --config is given.
extern const char* const kEmbeddedConfig;

// Loads the configuration named by the options (or the embedded default).
Expected<config::Config, config::Error> LoadConfig(const AgentOptions& options,
                                                   const CollectorRegistry& registry);

class Agent {
 public:
  Agent(const CollectorRegistry& registry, AgentOptions options, ScrapeTimeMetrics scrape_time);
  ~Agent();

  // Serves until SIGTERM/SIGINT. Returns the process exit code.
  int Run(config::Config config);
  // One round of collections; writes the exposition to stdout. 0 if every instance succeeded.
  int RunOnce(config::Config config);
  // Configures every collector instance (without collecting). 0 if all accept their section,
  // 2 (printed as file:line:col) otherwise.
  int CheckConfig(const config::Config& config);

 private:
  Expected<std::vector<std::shared_ptr<CollectorRuntime>>, config::Error> Build(
      const config::Config& config);
  void ApplyConfig(config::Config config, std::vector<std::shared_ptr<CollectorRuntime>> runtimes);
  void Reload();
  void Shutdown();
  void WaitForCollectionsThenStop(std::chrono::steady_clock::time_point give_up);
  void InstallRoutes();
  std::string RenderMetrics();
  std::string RenderStatusJson() const;
  std::string RenderLandingPage() const;
  // Alerts (agent/alerts/rule_engine.h, exporters/webhook/notifier.h): applied after every
  // (re)load, evaluated every [alerts] interval on the event loop over the latest snapshots and
  // self-metrics.
  void ApplyAlerts();
  void ScheduleAlerts();
  void EvaluateAlerts();
  void SaveAlertState();

  const CollectorRegistry& registry_;
  AgentOptions options_;
  ScrapeTimeMetrics scrape_time_;
  boost::asio::io_context io_;
  SnapshotStore store_;
  Scheduler scheduler_{io_};
  std::unique_ptr<exporters::HttpServer> http_;
  config::Config config_;
  std::vector<PoolLink> pool_links_;
  AgentHealth health_;
  alerts::RuleEngine rules_;
  std::unique_ptr<webhook::Notifier> notifier_;
  boost::asio::steady_timer alerts_timer_{io_};
  std::string external_url_;       // http(s)://<bound address>
  std::string alerts_url_;         // [alerts] external_url, or external_url_
  std::string alert_state_error_;  // the last failure to write alerts-state.json, "" when ok
  std::chrono::milliseconds alerts_interval_{15000};
  bool alert_state_loaded_ = false;
  bool stopping_ = false;
};

}  // namespace tacho::agent
