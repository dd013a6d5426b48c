// The app_pool collector: reads an application's own Prometheus endpoint (Spring Boot's
// /actuator/prometheus, a Go service's /metrics) and maps its connection-pool metrics — HikariCP
// or Go database/sql — into tacho's pool model, kind "app". See README.md.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "agent/collector.h"
#include "base/url.h"
#include "collectors/pool/app_pool_mapping.h"

namespace tacho::collectors::pool {

// The kind "app_pool" with its schema and factory, for RegisterBuiltinCollectors().
agent::CollectorKind AppPoolCollectorKind();

// What the factory makes of a [[collectors.app_pool]] table (exposed for tests).
struct AppPoolOptions {
  std::string instance_name;
  base::Url url;
  SourceFormat format = SourceFormat::kAuto;
  std::string bearer_token;  // empty: no Authorization header. Secret.
  std::vector<std::string> pools = {"*"};
  std::size_t max_pools = 50;
  // The name of the pgbouncer or postgres instance the application connects through; empty:
  // none. Stored only; the agent checks it and builds the pool chain.
  std::string upstream;
  std::string ca_file;
  std::size_t body_limit = std::size_t{16} << 20;
};

// The options of one [[collectors.app_pool]] section, or the config error with its position.
Expected<AppPoolOptions, config::Error> ParseAppPoolOptions(const config::Section& section,
                                                            const agent::Environment& env);

std::unique_ptr<agent::Collector> NewAppPoolCollector(AppPoolOptions options);

}  // namespace tacho::collectors::pool
