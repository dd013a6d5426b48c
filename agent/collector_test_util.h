// Test helpers for one collector kind: its configuration loaded through the real loader.
// Header-only and gtest-free; include it from tests only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/collector.h"
#include "config/config.h"

namespace tacho::agent::testutil {

// Schemas that know `kind` alone. `kind` must outlive them.
inline config::KindSchemas SchemasOf(const CollectorKind& kind) {
  config::KindSchemas schemas;
  schemas.find = [&kind](std::string_view name) -> const config::Schema* {
    return name == kind.name ? &kind.schema : nullptr;
  };
  schemas.kinds = [&kind] { return std::vector<std::string>{kind.name}; };
  return schemas;
}

// Loads `body`, the keys of one [[collectors.<kind>]] table named `instance`, as "test.toml".
inline Expected<config::Config, config::Error> LoadCollectorConfig(const CollectorKind& kind,
                                                                   const std::string& instance,
                                                                   const std::string& body) {
  return config::LoadString(
      "[[collectors." + kind.name + "]]\nname = \"" + instance + "\"\n" + body, "test.toml",
      SchemasOf(kind));
}

}  // namespace tacho::agent::testutil
