// The process collector: groups of processes matched by comm, exe, cmdline regex or pidfile,
// exported under process-exporter's namedprocess_namegroup_* names.
#pragma once

#include "agent/collector.h"

namespace tacho::collectors::process {

// The kind "process" with its schema and factory, for RegisterBuiltinCollectors().
agent::CollectorKind ProcessCollectorKind();

}  // namespace tacho::collectors::process
