#include "collectors/all.h"

#include "collectors/process/process_collector.h"

namespace tacho::collectors {

void RegisterBuiltinCollectors(agent::CollectorRegistry& registry) {
  registry.Register(process::ProcessCollectorKind());
}

}  // namespace tacho::collectors
