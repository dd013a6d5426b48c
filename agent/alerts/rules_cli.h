// `tacho rules ...`: the rule subcommands of the command line.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"
#include "config/config.h"

namespace tacho::alerts {

// argv[0] is "rules". Subcommands:
//   export [--config FILE]   the configured rules (default pack included) as a Prometheus rule
//                            file on stdout
//   eval --samples FILE --time SECONDS EXPR...
//                            evaluates each EXPR at SECONDS (Unix time) over the samples in FILE
//                            (the JSON of Prometheus' /api/v1/query for a range selector, i.e.
//                            a "matrix" result) and prints one JSON result per line, shaped like
//                            Prometheus' /api/v1/query data. For differential tests.
// Returns the exit code (0, 1 evaluation error, 2 usage or configuration error).
// Loads the configuration at a path ("" for the agent's embedded default); supplied by main,
// which knows the collector kinds.
using ConfigLoader = std::function<Expected<config::Config, config::Error>(const std::string&)>;

int RunRulesCommand(int argc, char** argv, const ConfigLoader& load_config);

}  // namespace tacho::alerts
