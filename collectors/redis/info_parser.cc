#include "collectors/redis/info_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace tacho::collectors::redis {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool AllDigits(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// cmdstat_<name>:calls=..,usec=..,usec_per_call=..[,rejected_calls=..,failed_calls=..]
std::optional<CommandStat> ParseCommandStat(std::string_view name, std::string_view value) {
  CommandStat stat;
  stat.name = Lower(name);
  bool has_calls = false;
  for (auto [k, v] : SplitKeyValues(value)) {
    auto number = ParseNumber(v);
    if (!number) continue;
    if (k == "calls") {
      stat.calls = *number;
      has_calls = true;
    } else if (k == "usec") {
      stat.usec = *number;
    } else if (k == "rejected_calls") {
      stat.rejected_calls = *number;
    } else if (k == "failed_calls") {
      stat.failed_calls = *number;
    }
  }
  if (!has_calls || stat.name.empty()) return std::nullopt;
  return stat;
}

// p50=0.001,p99=1.003,p99.9=2.007
LatencyPercentiles ParsePercentiles(std::string_view command, std::string_view value) {
  LatencyPercentiles out;
  out.command = Lower(command);
  for (auto [k, v] : SplitKeyValues(value)) {
    if (k.size() < 2 || k[0] != 'p') continue;
    auto p = ParseNumber(k.substr(1));
    auto usec = ParseNumber(v);
    if (p && usec) out.percentiles.emplace_back(*p, *usec);
  }
  return out;
}

// keys=6,expires=1,avg_ttl=75447[,subexpiry=0]
std::optional<KeyspaceStat> ParseKeyspace(std::string_view db, std::string_view value) {
  KeyspaceStat stat;
  stat.db = std::string(db);
  bool has_keys = false;
  for (auto [k, v] : SplitKeyValues(value)) {
    auto number = ParseNumber(v);
    if (!number) continue;
    if (k == "keys") {
      stat.keys = *number;
      has_keys = true;
    } else if (k == "expires") {
      stat.expires = *number;
    } else if (k == "avg_ttl") {
      stat.avg_ttl_ms = *number;
    }
  }
  if (!has_keys) return std::nullopt;
  return stat;
}

// ip=10.0.0.7,port=6379,state=online,offset=98000,lag=0
std::optional<ReplicaStat> ParseReplica(std::string_view value) {
  ReplicaStat replica;
  bool has_ip = false;
  for (auto [k, v] : SplitKeyValues(value)) {
    if (k == "ip") {
      replica.ip = std::string(v);
      has_ip = true;
    } else if (k == "port") {
      replica.port = std::string(v);
    } else if (k == "state") {
      replica.state = std::string(v);
    } else if (k == "offset") {
      replica.offset = ParseNumber(v);
    } else if (k == "lag") {
      replica.lag_seconds = ParseNumber(v);
    }
  }
  if (!has_ip) return std::nullopt;
  return replica;
}

}  // namespace

std::optional<double> ParseNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::pair<std::string_view, std::string_view>> SplitKeyValues(std::string_view text,
                                                                          char separator) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  while (!text.empty()) {
    std::size_t end = text.find(separator);
    std::string_view part = text.substr(0, end);
    std::size_t eq = part.find('=');
    if (eq != std::string_view::npos && eq > 0) {
      out.emplace_back(part.substr(0, eq), part.substr(eq + 1));
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

bool InfoReport::HasSection(std::string_view name) const {
  return std::find(sections.begin(), sections.end(), name) != sections.end();
}

const std::string* InfoReport::Field(std::string_view key) const {
  auto it = fields.find(key);
  return it == fields.end() ? nullptr : &it->second;
}

std::optional<double> InfoReport::Number(std::string_view key) const {
  const std::string* value = Field(key);
  if (value == nullptr) return std::nullopt;
  return ParseNumber(*value);
}

InfoReport ParseInfo(std::string_view text) {
  InfoReport report;
  report.fields.reserve(256);
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;

    if (line.front() == '#') {
      std::string_view name = line.substr(1);
      while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
      if (!name.empty()) report.sections.emplace_back(name);
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);

    // The per-item lines are recognised by their key, whatever section they appear in, so
    // that the reply to a single-section INFO (no headers) parses the same way.
    if (StartsWith(key, "cmdstat_")) {
      if (auto stat = ParseCommandStat(key.substr(8), value)) {
        report.commands.push_back(std::move(*stat));
      }
      continue;
    }
    if (StartsWith(key, "errorstat_")) {
      for (auto [k, v] : SplitKeyValues(value)) {
        auto count = ParseNumber(v);
        if (k == "count" && count && key.size() > 10) {
          report.errors.push_back({std::string(key.substr(10)), *count});
        }
      }
      continue;
    }
    if (StartsWith(key, "latency_percentiles_usec_")) {
      report.latency_percentiles.push_back(ParsePercentiles(key.substr(25), value));
      continue;
    }
    if (StartsWith(key, "db") && AllDigits(key.substr(2)) &&
        value.find('=') != std::string_view::npos) {
      if (auto stat = ParseKeyspace(key, value)) report.keyspace.push_back(std::move(*stat));
      continue;
    }
    if (StartsWith(key, "slave") && AllDigits(key.substr(5)) &&
        value.find('=') != std::string_view::npos) {
      if (auto replica = ParseReplica(value)) report.replicas.push_back(std::move(*replica));
      continue;
    }
    report.fields.insert_or_assign(std::string(key), std::string(value));
  }
  return report;
}

}  // namespace tacho::collectors::redis
