// The reply to INFO (any sections), parsed into plain fields and the per-item lines.
//
// Pure and tolerant: unknown fields are kept as plain fields and ignored by the exporters, missing
// ones are simply absent (Redis 5, 6 and 7 and Valkey differ), malformed lines are skipped.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tacho::collectors::redis {

// cmdstat_config|get:calls=5,usec=187,usec_per_call=37.40,rejected_calls=0,failed_calls=0
struct CommandStat {
  std::string name;  // lower case, "container|subcommand" for subcommands (Redis 7)
  double calls = 0;
  double usec = 0;
  std::optional<double> rejected_calls;  // Redis 6.2+
  std::optional<double> failed_calls;    // Redis 6.2+
};

// errorstat_WRONGTYPE:count=1  (Redis 6.2+)
struct ErrorStat {
  std::string code;
  double count = 0;
};

// latency_percentiles_usec_get:p50=0.001,p99=1.003,p99.9=2.007  (Redis 7+, lifetime-only)
struct LatencyPercentiles {
  std::string command;
  std::vector<std::pair<double, double>> percentiles;  // (percentile, microseconds)
};

// db0:keys=6,expires=1,avg_ttl=75447
struct KeyspaceStat {
  std::string db;  // "db0", as redis_exporter labels it
  double keys = 0;
  double expires = 0;
  std::optional<double> avg_ttl_ms;
};

// slave0:ip=127.0.0.1,port=16392,state=online,offset=14,lag=1  (on a master)
struct ReplicaStat {
  std::string ip;
  std::string port;
  std::string state;
  std::optional<double> offset;
  std::optional<double> lag_seconds;  // Redis 3.0+
};

// Lets the fields map be searched with a string_view (no temporary string per lookup).
struct FieldHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct InfoReport {
  // "# Server" headers in order of appearance: which sections this server has.
  std::vector<std::string> sections;
  // Every "key:value" line that is not one of the per-item lines below.
  std::unordered_map<std::string, std::string, FieldHash, std::equal_to<>> fields;
  std::vector<CommandStat> commands;
  std::vector<ErrorStat> errors;
  std::vector<LatencyPercentiles> latency_percentiles;
  std::vector<KeyspaceStat> keyspace;
  std::vector<ReplicaStat> replicas;

  bool HasSection(std::string_view name) const;
  const std::string* Field(std::string_view key) const;
  // The field as a number; nullopt when absent or not numeric ("ok", "").
  std::optional<double> Number(std::string_view key) const;
};

// Parses the text of an INFO reply. Lines end in CRLF on the wire; a bare LF is accepted too.
//
//   # Clients\r\nconnected_clients:1\r\n...\r\ncmdstat_get:calls=2,usec=3,...\r\n
InfoReport ParseInfo(std::string_view text);

// A decimal number as Redis prints it ("12", "-1", "5.39", "0.00"); nullopt for anything else.
std::optional<double> ParseNumber(std::string_view text);

// Splits "a=1,b=2" into pairs; parts without '=' are skipped.
//   calls=2,usec=3,usec_per_call=1.50  ->  {calls,2} {usec,3} {usec_per_call,1.50}
std::vector<std::pair<std::string_view, std::string_view>> SplitKeyValues(std::string_view text,
                                                                          char separator = ',');

}  // namespace tacho::collectors::redis
