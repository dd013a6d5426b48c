#include "collectors/pool/app_pool_mapping.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <set>

namespace tacho::collectors::pool {
namespace {

enum class Family { kHikariCp, kGoSql };

enum class Field {
  kSize,
  kInUse,
  kIdle,
  kWaiting,
  kMaxWaitSeconds,
  kWaitsTotal,
  kWaitSecondsTotal,
  kTimeoutsTotal,
};

struct Rule {
  std::string_view name;
  Family family;
  Field field;
  double scale = 1;  // to base units
};

// Every sample name the mapping reads. Not mapped on purpose: the totals (active + idle),
// HikariCP's minimum idle, usage and creation timers, and Go's closed-connection counters.
// HikariCP's acquire count counts every borrow, waiting or not, so it is not waits_total.
constexpr std::array kRules = {
    // HikariCP via Micrometer.
    Rule{"hikaricp_connections_max", Family::kHikariCp, Field::kSize},
    Rule{"hikaricp_connections_active", Family::kHikariCp, Field::kInUse},
    Rule{"hikaricp_connections_idle", Family::kHikariCp, Field::kIdle},
    Rule{"hikaricp_connections_pending", Family::kHikariCp, Field::kWaiting},
    Rule{"hikaricp_connections_acquire_seconds_max", Family::kHikariCp, Field::kMaxWaitSeconds},
    Rule{"hikaricp_connections_acquire_seconds_sum", Family::kHikariCp, Field::kWaitSecondsTotal},
    Rule{"hikaricp_connections_timeout_total", Family::kHikariCp, Field::kTimeoutsTotal},
    // HikariCP's own Prometheus tracker (summary or histogram variant).
    Rule{"hikaricp_max_connections", Family::kHikariCp, Field::kSize},
    Rule{"hikaricp_active_connections", Family::kHikariCp, Field::kInUse},
    Rule{"hikaricp_idle_connections", Family::kHikariCp, Field::kIdle},
    Rule{"hikaricp_pending_threads", Family::kHikariCp, Field::kWaiting},
    Rule{"hikaricp_connection_timeout_total", Family::kHikariCp, Field::kTimeoutsTotal},
    Rule{"hikaricp_connection_acquired_nanos_sum", Family::kHikariCp, Field::kWaitSecondsTotal,
         1e-9},
    // Go database/sql, client_golang's NewDBStatsCollector.
    Rule{"go_sql_max_open_connections", Family::kGoSql, Field::kSize},
    Rule{"go_sql_in_use_connections", Family::kGoSql, Field::kInUse},
    Rule{"go_sql_idle_connections", Family::kGoSql, Field::kIdle},
    Rule{"go_sql_wait_count_total", Family::kGoSql, Field::kWaitsTotal},
    Rule{"go_sql_wait_duration_seconds_total", Family::kGoSql, Field::kWaitSecondsTotal},
    // Go database/sql, dlmiddlecote/sqlstats (counters without _total; tolerated with it).
    Rule{"go_sql_stats_connections_max_open", Family::kGoSql, Field::kSize},
    Rule{"go_sql_stats_connections_in_use", Family::kGoSql, Field::kInUse},
    Rule{"go_sql_stats_connections_idle", Family::kGoSql, Field::kIdle},
    Rule{"go_sql_stats_connections_waited_for", Family::kGoSql, Field::kWaitsTotal},
    Rule{"go_sql_stats_connections_waited_for_total", Family::kGoSql, Field::kWaitsTotal},
    Rule{"go_sql_stats_connections_blocked_seconds", Family::kGoSql, Field::kWaitSecondsTotal},
    Rule{"go_sql_stats_connections_blocked_seconds_total", Family::kGoSql,
         Field::kWaitSecondsTotal},
    Rule{"go_sql_stats_connections_blocked_time", Family::kGoSql, Field::kWaitSecondsTotal},
};

const Rule* FindRule(std::string_view name) {
  for (const Rule& rule : kRules) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

bool Wanted(Family family, SourceFormat format) {
  switch (format) {
    case SourceFormat::kAuto:
      return true;
    case SourceFormat::kHikariCp:
      return family == Family::kHikariCp;
    case SourceFormat::kGoSql:
      return family == Family::kGoSql;
  }
  return false;
}

const char* FamilyName(Family family) {
  return family == Family::kHikariCp ? "hikaricp" : "go_sql";
}

using LabelList = std::vector<std::pair<std::string, std::string>>;

struct Group {
  Family family;
  std::string name;  // the pool / db_name label
  LabelList others;  // the remaining identifying labels, sorted by name
  std::array<std::optional<double>, 8> fields;
};

std::optional<double>& Slot(Group& group, Field field) {
  return group.fields[static_cast<std::size_t>(field)];
}

std::string Key(Family family, const std::string& name, const LabelList& others) {
  std::string key = FamilyName(family);
  key += '\x1f';
  key += name;
  for (const auto& [k, v] : others) {
    key += '\x1f';
    key += k;
    key += '=';
    key += v;
  }
  return key;
}

agent::PoolSample ToPool(const Group& group, std::string name) {
  agent::PoolSample p;
  p.kind = "app";
  p.pool = std::move(name);
  const auto get = [&group](Field f) { return group.fields[static_cast<std::size_t>(f)]; };
  if (auto size = get(Field::kSize)) {
    if (*size > 0) {
      p.size = *size;
    } else {
      // Go: SetMaxOpenConns(0), the default, means no limit. HikariCP's maximum is at least 1.
      p.no_limit = agent::NoLimit::kUnlimited;
    }
  } else {
    p.no_limit = agent::NoLimit::kUnknown;
  }
  p.in_use = get(Field::kInUse);
  p.idle = get(Field::kIdle);
  p.waiting = get(Field::kWaiting);
  p.max_wait_seconds = get(Field::kMaxWaitSeconds);
  p.waits_total = get(Field::kWaitsTotal);
  p.wait_seconds_total = get(Field::kWaitSecondsTotal);
  p.timeouts_total = get(Field::kTimeoutsTotal);
  return p;
}

// A pool name's suffix names at most this many differing labels, each value cut to
// kMaxSuffixValue bytes; groups still alike after that get "#2", "#3", ... Without the bound,
// N groups that each carry a label of their own made every one of N names list N labels.
constexpr std::size_t kMaxSuffixLabels = 3;
constexpr std::size_t kMaxSuffixValue = 64;

// For groups sharing a pool name: "[application=billing]" with the labels that differ.
std::vector<std::string> Suffixes(const std::vector<const Group*>& groups) {
  const auto value_of = [](const Group* g, const std::string& key) -> std::string {
    // others is sorted by key.
    auto it = std::lower_bound(g->others.begin(), g->others.end(), key,
                               [](const auto& kv, const std::string& k) { return kv.first < k; });
    if (it == g->others.end() || it->first != key) return "";
    return it->second.substr(0, kMaxSuffixValue);
  };
  // The differing keys, in name order, up to the bound: a key differs when some group's value
  // (absent: "") is not the first group's.
  std::set<std::string> keys;
  for (const Group* g : groups) {
    for (const auto& [k, v] : g->others) keys.insert(k);
  }
  std::vector<std::string> differing;
  for (const std::string& key : keys) {
    if (differing.size() == kMaxSuffixLabels) break;
    const std::string first = value_of(groups.front(), key);
    for (const Group* g : groups) {
      if (value_of(g, key) != first) {
        differing.push_back(key);
        break;
      }
    }
  }
  bool families_differ = false;
  for (const Group* g : groups) families_differ |= g->family != groups.front()->family;
  std::vector<std::string> suffixes;
  for (const Group* g : groups) {
    std::string parts;
    if (families_differ) parts = FamilyName(g->family);
    for (const std::string& key : differing) {
      parts += (parts.empty() ? "" : ",") + key + "=" + value_of(g, key);
    }
    suffixes.push_back("[" + parts + "]");
  }
  return suffixes;
}

}  // namespace

bool GlobMatch(const std::string& pattern, const std::string& text) {
  return fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

bool IsPoolSampleName(std::string_view name) {
  // Cheap prefix test first: this runs for every sample of the exposition.
  if (name.substr(0, 9) != "hikaricp_" && name.substr(0, 7) != "go_sql_") return false;
  return FindRule(name) != nullptr;
}

MappingResult MapPools(const std::vector<ExpositionSample>& samples,
                       const MappingOptions& options) {
  std::map<std::string, Group> groups;
  for (const ExpositionSample& sample : samples) {
    const Rule* rule = FindRule(sample.name);
    if (rule == nullptr || !Wanted(rule->family, options.format)) continue;
    // Micrometer reports NaN for a gauge whose pool was garbage-collected: no value.
    if (std::isnan(sample.value)) continue;
    const std::string_view pool_label = rule->family == Family::kHikariCp ? "pool" : "db_name";
    std::string name = "default";
    LabelList others;
    for (const auto& [k, v] : sample.labels) {
      if (k == pool_label) {
        if (!v.empty()) name = v;
      } else if (k != "quantile" && k != "le") {
        others.emplace_back(k, v);
      }
    }
    std::sort(others.begin(), others.end());
    const std::string key = Key(rule->family, name, others);
    auto it = groups.find(key);
    if (it == groups.end()) {
      Group group{rule->family, name, std::move(others), {}};
      it = groups.emplace(key, std::move(group)).first;
    }
    std::optional<double>& slot = Slot(it->second, rule->field);
    // Both variants of one library may be present; the first value written wins.
    if (!slot) slot = sample.value * rule->scale;
  }

  MappingResult result;
  // Only max_pools groups can be exported: the rest are counted before any of them is named, so
  // naming costs O(max_pools), whatever the endpoint returns. Groups are in (family, name,
  // labels) order, so the same ones are kept from one collection to the next.
  std::map<std::string, std::vector<const Group*>> by_name;
  std::size_t kept = 0;
  for (const auto& [key, group] : groups) {
    bool matched = false;
    for (const std::string& pattern : options.pools) matched |= GlobMatch(pattern, group.name);
    if (!matched) {
      ++result.filtered;
      continue;
    }
    if (kept == options.max_pools) {
      ++result.dropped;
      continue;
    }
    ++kept;
    by_name[group.name].push_back(&group);
  }
  std::map<std::string, const Group*> named;
  for (const auto& [name, same] : by_name) {
    if (same.size() == 1) {
      named.emplace(name, same.front());
      continue;
    }
    const std::vector<std::string> suffixes = Suffixes(same);
    for (std::size_t i = 0; i < same.size(); ++i) {
      std::string full = name + suffixes[i];
      // Identical labels and family cannot happen (they would be one group); be safe anyway.
      for (int n = 2; named.count(full) > 0; ++n)
        full = name + suffixes[i] + "#" + std::to_string(n);
      named.emplace(std::move(full), same[i]);
    }
  }
  for (const auto& [name, group] : named) result.pools.push_back(ToPool(*group, name));
  return result;
}

}  // namespace tacho::collectors::pool
