// The /metrics body: snapshots merged into one Prometheus text exposition.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "agent/snapshot.h"

namespace tacho::exporters {

inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// Merges pre-rendered families (each part sorted by name) into one exposition sorted by family
// name: one HELP/TYPE header per family (the first part's), sample lines of every part that has
// it. A family that appears again with a different type is left out of the later part and
// counted in `type_conflicts` (it would make the exposition invalid).
std::string MergeExposition(const std::vector<const std::vector<agent::RenderedFamily>*>& parts,
                            std::size_t* type_conflicts = nullptr);

}  // namespace tacho::exporters
