// The one place that lists tacho's built-in collector kinds.
#pragma once

#include "agent/collector_registry.h"

namespace tacho::collectors {

void RegisterBuiltinCollectors(agent::CollectorRegistry& registry);

}  // namespace tacho::collectors
