#include "agent/collector_registry.h"

#include <algorithm>
#include <stdexcept>

namespace tacho::agent {

void CollectorRegistry::Register(CollectorKind kind) {
  for (const config::KeySpec& common : config::CommonCollectorSchema()) {
    for (const config::KeySpec& own : kind.schema) {
      if (own.name == common.name) {
        throw std::logic_error("collector kind '" + kind.name + "' redeclares common key '" +
                               own.name + "'");
      }
    }
  }
  if (!kind.upstream_kinds.empty() &&
      std::none_of(kind.schema.begin(), kind.schema.end(),
                   [](const config::KeySpec& key) { return key.name == "upstream"; })) {
    throw std::logic_error("collector kind '" + kind.name +
                           "' declares upstream kinds but no 'upstream' key");
  }
  if (auto problem = config::CheckBinding(kind.schema, kind.bound_keys)) {
    throw std::logic_error("collector kind '" + kind.name + "' " + *problem);
  }
  std::string name = kind.name;
  if (!kinds_.emplace(name, std::move(kind)).second) {
    throw std::logic_error("collector kind '" + name + "' registered twice");
  }
}

const CollectorKind* CollectorRegistry::Find(std::string_view name) const {
  auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<const CollectorKind*> CollectorRegistry::Kinds() const {
  std::vector<const CollectorKind*> out;
  for (const auto& [name, kind] : kinds_) out.push_back(&kind);
  return out;
}

config::KindSchemas CollectorRegistry::Schemas() const {
  return config::KindSchemas{
      .find = [this](std::string_view name) -> const config::Schema* {
        const CollectorKind* kind = Find(name);
        return kind == nullptr ? nullptr : &kind->schema;
      },
      .kinds =
          [this]() {
            std::vector<std::string> names;
            for (const auto& [name, kind] : kinds_) names.push_back(name);
            return names;
          },
  };
}

std::vector<config::SampleKind> CollectorRegistry::SampleKinds() const {
  std::vector<config::SampleKind> out;
  for (const auto& [name, kind] : kinds_) {
    out.push_back(config::SampleKind{kind.name, kind.description, &kind.schema});
  }
  return out;
}

}  // namespace tacho::agent
