#include "agent/pool_chains.h"

#include <algorithm>
#include <boost/json.hpp>
#include <set>
#include <string_view>
#include <tuple>

namespace tacho::agent {

namespace json = boost::json;

namespace {

std::string_view LabelValue(const prometheus::ClientMetric& m, std::string_view name) {
  for (const auto& l : m.label) {
    if (l.name == name) return l.value;
  }
  return {};
}

// The PoolSample field a tacho_pool_* family carries, or null.
const PoolFamily* FamilyOf(std::string_view name) {
  for (const PoolFamily& f : PoolFamilies()) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

double Value(const prometheus::ClientMetric& m, prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter:
      return m.counter.value;
    case prometheus::MetricType::Gauge:
      return m.gauge.value;
    default:
      return m.untyped.value;
  }
}

json::value Number(const std::optional<double>& v) {
  return v ? json::value(*v) : json::value(nullptr);
}

json::object PoolJson(const PoolView& v) {
  const PoolSample& p = v.sample;
  json::object o{{"target", v.target},
                 {"kind", p.kind},
                 {"pool", p.pool},
                 {"size", Number(p.size)},
                 {"in_use", Number(p.in_use)},
                 {"idle", Number(p.idle)},
                 {"waiting", Number(p.waiting)},
                 {"max_wait_seconds", Number(p.max_wait_seconds)},
                 {"utilization", Number(PoolUtilization(p))},
                 {"saturated", PoolSaturated(p)}};
  if (!PoolUtilization(p)) {
    o["no_utilization_reason"] = NoLimitReason(p.no_limit);
  }
  return o;
}

// The pools of an instance that stand for it in a chain (CollectorKind::chain_pool).
bool InChain(const PoolSample& p, const PoolLink& link) {
  return link.chain_pool.empty() || p.pool == link.chain_pool;
}

// How close a pool is to its limit, for choosing a layer's worst pool.
double Pressure(const PoolSample& p) {
  double pressure = PoolUtilization(p).value_or(0);
  if (PoolSaturated(p)) pressure += 1;
  if (p.waiting) pressure += *p.waiting;
  return pressure;
}

}  // namespace

std::vector<PoolView> ReadPools(
    const std::map<std::string, std::shared_ptr<const Snapshot>>& snapshots) {
  std::map<std::tuple<std::string, std::string, std::string>, PoolView> pools;
  for (const auto& [instance, snapshot] : snapshots) {
    if (!snapshot) continue;
    for (const prometheus::MetricFamily& family : snapshot->families) {
      const bool unavailable = family.name == kPoolUnavailableFamily;
      const PoolFamily* carried = FamilyOf(family.name);
      if (!unavailable && carried == nullptr) continue;
      for (const prometheus::ClientMetric& m : family.metric) {
        std::string target(LabelValue(m, "target"));
        if (target.empty()) target = instance;
        PoolView& view =
            pools[{target, std::string(LabelValue(m, "kind")), std::string(LabelValue(m, "pool"))}];
        view.target = target;
        view.sample.kind = LabelValue(m, "kind");
        view.sample.pool = LabelValue(m, "pool");
        if (unavailable) {
          view.sample.no_limit = ParseNoLimitReason(LabelValue(m, "reason"));
        } else {
          view.sample.*carried->field = Value(m, family.type);
        }
      }
    }
  }
  std::vector<PoolView> out;
  out.reserve(pools.size());
  for (auto& [key, view] : pools) out.push_back(std::move(view));
  return out;
}

Expected<std::vector<PoolLink>, config::Error> PoolLinks(const config::Config& config,
                                                         const CollectorRegistry& registry) {
  std::map<std::string, std::string> kinds;
  for (const config::CollectorInstance& instance : config.collectors) {
    kinds[instance.name] = instance.kind;
  }
  std::vector<PoolLink> links;
  for (const config::CollectorInstance& instance : config.collectors) {
    const CollectorKind* kind = registry.Find(instance.kind);
    PoolLink link{instance.name, instance.kind, "", kind ? kind->chain_pool : ""};
    if (kind != nullptr && !kind->upstream_kinds.empty() && instance.section.Has("upstream")) {
      const std::vector<std::string>& allowed = kind->upstream_kinds;
      link.upstream = instance.section.GetString("upstream");
      auto it = kinds.find(link.upstream);
      std::string expected;
      for (const std::string& k : allowed) expected += (expected.empty() ? "" : " or ") + k;
      if (it == kinds.end()) {
        return instance.section.ErrorAt("upstream", "no collector instance named '" +
                                                        link.upstream + "' (expected a " +
                                                        expected + " instance)");
      }
      if (std::find(allowed.begin(), allowed.end(), it->second) == allowed.end()) {
        return instance.section.ErrorAt("upstream", "'" + link.upstream + "' is a " + it->second +
                                                        " instance; expected " + expected);
      }
    }
    links.push_back(std::move(link));
  }
  return links;
}

std::string PoolsJson(const std::vector<PoolView>& pools, const std::vector<PoolLink>& links) {
  json::array all;
  for (const PoolView& v : pools) all.push_back(PoolJson(v));

  std::map<std::string, const PoolLink*> by_instance;
  std::set<std::string> referenced;
  for (const PoolLink& l : links) {
    by_instance[l.instance] = &l;
    if (!l.upstream.empty()) referenced.insert(l.upstream);
  }
  json::array chains;
  for (const PoolLink& root : links) {
    if (root.upstream.empty() || referenced.count(root.instance) != 0) continue;
    json::array layers;
    json::value bottleneck = nullptr;
    std::set<std::string> seen;  // the config forbids cycles; stay safe anyway
    int index = 0;
    for (const PoolLink* l = &root; l != nullptr && seen.insert(l->instance).second; ++index) {
      std::vector<const PoolView*> members;
      for (const PoolView& v : pools) {
        if (v.target == l->instance && InChain(v.sample, *l)) members.push_back(&v);
      }
      const PoolView* worst = nullptr;
      bool saturated = false;
      std::optional<double> utilization;
      json::array layer_pools;
      for (const PoolView* v : members) {
        layer_pools.push_back(PoolJson(*v));
        saturated = saturated || PoolSaturated(v->sample);
        if (auto u = PoolUtilization(v->sample))
          utilization = std::max(utilization.value_or(0), *u);
        if (worst == nullptr || Pressure(v->sample) > Pressure(worst->sample)) worst = v;
      }
      if (saturated && worst != nullptr) {
        bottleneck = json::object{{"layer", index},
                                  {"target", l->instance},
                                  {"kind", worst->sample.kind},
                                  {"pool", worst->sample.pool}};
      }
      layers.push_back(json::object{{"target", l->instance},
                                    {"kind", l->kind},
                                    {"saturated", saturated},
                                    {"utilization", Number(utilization)},
                                    {"pools", std::move(layer_pools)}});
      auto next = by_instance.find(l->upstream);
      l = next == by_instance.end() ? nullptr : next->second;
    }
    chains.push_back(json::object{
        {"root", root.instance}, {"layers", std::move(layers)}, {"bottleneck", bottleneck}});
  }
  return json::serialize(json::object{{"pools", std::move(all)}, {"chains", std::move(chains)}}) +
         "\n";
}

}  // namespace tacho::agent
