// The /metrics body: snapshots merged into one Prometheus text exposition.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/snapshot.h"

namespace tacho::exporters {

inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// Merges pre-rendered families (each part sorted by name) into one exposition sorted by family
// name: one HELP/TYPE header per family (the first part's), sample lines of every part that has
// it. A family that appears again with a different type is left out of the later part and
// counted in `type_conflicts` (it would make the exposition invalid).
// True if an Accept-Encoding header value admits gzip ("gzip", "gzip;q=0.5", "*"; not "gzip;q=0").
bool AcceptsGzip(std::string_view accept_encoding);

// gzip-compresses `body` (level 1: scrapes favour speed; exposition text still shrinks ~5-10x).
std::string GzipCompress(std::string_view body);

std::string MergeExposition(const std::vector<const std::vector<agent::RenderedFamily>*>& parts,
                            std::size_t* type_conflicts = nullptr);

}  // namespace tacho::exporters
