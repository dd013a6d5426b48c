// Internals of the process collector, exposed for its tests: the parsed options and a
// constructor that bypasses the factory (so a test can add a fault injector).
#pragma once

#include <memory>
#include <string>

#include "agent/collector.h"
#include "collectors/process/scanner.h"
#include "config/config.h"

namespace tacho::collectors::process::detail {

struct CollectorOptions {
  ScannerOptions scanner;
  std::string cgroup_root = "/sys/fs/cgroup";
};

// The kind's declared keys.
const config::Schema& ProcessSchema();

// Which member each declared key fills.
const config::Binding<CollectorOptions>& ProcessBinding();

// The binding's copy, then what the schema cannot express: at least one matcher per group,
// unique group names, cmdline regexes that compile.
Expected<CollectorOptions, config::Error> ParseOptions(const config::Section& section,
                                                       const agent::Environment& env = {});

std::unique_ptr<agent::Collector> NewProcessCollector(CollectorOptions options);

}  // namespace tacho::collectors::process::detail
