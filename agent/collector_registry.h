// The explicit registry of collector kinds. Filled by RegisterBuiltinCollectors() in
// collectors/all.cc; no static-initialisation registration.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/collector.h"
#include "config/config.h"

namespace tacho::agent {

// Not thread-safe; filled once at start-up, read-only afterwards.
class CollectorRegistry {
 public:
  // Throws std::logic_error on a duplicate name, a schema that repeats a common key, or bound
  // keys that differ from the schema (config::CheckBinding).
  void Register(CollectorKind kind);
  const CollectorKind* Find(std::string_view name) const;
  // Sorted by name.
  std::vector<const CollectorKind*> Kinds() const;
  // The view of this registry the config loader needs. Valid while the registry lives.
  config::KindSchemas Schemas() const;
  std::vector<config::SampleKind> SampleKinds() const;

 private:
  std::map<std::string, CollectorKind, std::less<>> kinds_;
};

}  // namespace tacho::agent
