// `tacho rules ...`: the rule subcommands of the command line.
#pragma once

#include "agent/collector_registry.h"

namespace tacho::agent {

// argv[0] is "rules". Subcommands:
//   export [--config FILE]   the configured rules (default pack included) as a Prometheus rule
//                            file on stdout
//   eval --samples FILE --time SECONDS EXPR...
//                            evaluates each EXPR at SECONDS (Unix time) over the samples in FILE
//                            (the JSON of Prometheus' /api/v1/query for a range selector, i.e.
//                            a "matrix" result) and prints one JSON result per line, shaped like
//                            Prometheus' /api/v1/query data. For differential tests.
// Returns the exit code (0, 1 evaluation error, 2 usage or configuration error).
int RunRulesCommand(int argc, char** argv, const CollectorRegistry& registry);

}  // namespace tacho::agent
