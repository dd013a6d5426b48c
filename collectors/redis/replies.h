// Redis replies as a small value tree (no hiredis types), and pure parsers for the replies the
// collector reads besides INFO: LATENCY HISTOGRAM, SLOWLOG GET, CONFIG GET.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tacho::collectors::redis {

// One RESP2 reply. resp.h converts hiredis replies into this.
struct Reply {
  enum class Type { kNil, kString, kStatus, kError, kInteger, kArray };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  long long integer = 0;
  std::vector<Reply> elements;  // kArray

  bool is_error() const { return type == Type::kError; }
  bool is_text() const { return type == Type::kString || type == Type::kStatus; }

  static Reply String(std::string s) { return {Type::kString, std::move(s), 0, {}}; }
  static Reply Status(std::string s) { return {Type::kStatus, std::move(s), 0, {}}; }
  static Reply Error(std::string s) { return {Type::kError, std::move(s), 0, {}}; }
  static Reply Integer(long long i) { return {Type::kInteger, {}, i, {}}; }
  static Reply Array(std::vector<Reply> e) { return {Type::kArray, {}, 0, std::move(e)}; }
};

// The first word of an error reply: "WRONGPASS", "NOPERM", "ERR"...
std::string_view ErrorCode(std::string_view error);

// One command's latency distribution since the server started (or CONFIG RESETSTAT).
struct CommandHistogram {
  std::string command;
  std::uint64_t calls = 0;
  // (bucket upper bound in whole microseconds as Redis prints it, cumulative count), ascending.
  // Redis leaves out buckets that add no calls.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets;
};

// LATENCY HISTOGRAM reply (Redis 7+), a map of command -> {calls, histogram_usec}:
//
//   1) "set"  2) 1) "calls" 2) (integer) 5002 3) "histogram_usec" 4) 1) 1 2) 4897 3) 2 4) 4965
//
// Entries that don't have this shape are skipped.
std::vector<CommandHistogram> ParseLatencyHistogram(const Reply& reply);

// One SLOWLOG GET entry without its arguments: they may hold secrets and are never kept.
struct SlowlogEntry {
  std::int64_t id = 0;
  std::int64_t timestamp = 0;    // unix seconds
  std::int64_t duration_us = 0;  // execution time, microseconds
  std::string command;           // "get", "config|get"; "other" when not a known command
};

// SLOWLOG GET reply, newest first:
//
//   1) 1) (integer) 20198  2) (integer) 1795370390  3) (integer) 6
//      4) 1) "config" 2) "get" 3) "maxmemory"  5) "127.0.0.1:45670"  6) ""
//
// The command name is the first argument in lower case, or "container|subcommand" when
// `is_command` knows that name (the cmdstat names of INFO); a name `is_command` rejects
// becomes "other", so that no argument can ever reach a label.
std::vector<SlowlogEntry> ParseSlowlog(const Reply& reply,
                                       const std::function<bool(std::string_view)>& is_command);

// CONFIG GET reply: a flat array of name, value pairs.
//   1) "maxmemory" 2) "0"
std::map<std::string, std::string> ParseConfigGet(const Reply& reply);

}  // namespace tacho::collectors::redis
