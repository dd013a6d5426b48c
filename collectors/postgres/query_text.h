// Query texts for pg_stat_statements_query_id{queryid,query}: normalised once, cached.
#pragma once

#include <algorithm>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tacho::collectors::postgres {

// Collapses every run of whitespace to one space, trims both ends, replaces bytes that are not
// valid UTF-8 with '?', and keeps at most `max_chars` characters (code points), never cutting
// a multi-byte character:
//   "SELECT *\n\t FROM  t WHERE id = $1" -> "SELECT * FROM t WHERE id = $1"
std::string NormalizeQueryText(std::string_view text, std::size_t max_chars = 120);

// A bounded LRU map queryid -> normalised text. A cached empty string records a text that
// could not be found (the entry was evicted before its text was read), so it is not fetched
// again while it stays cached. Not thread-safe.
class QueryTextCache {
 public:
  explicit QueryTextCache(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // The cached text (and marks it recently used), or nullopt when not cached.
  std::optional<std::string> Get(std::int64_t queryid);
  bool Contains(std::int64_t queryid) const { return index_.count(queryid) != 0; }
  void Put(std::int64_t queryid, std::string text);
  std::size_t size() const { return index_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  using Entry = std::pair<std::int64_t, std::string>;
  std::size_t capacity_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<std::int64_t, std::list<Entry>::iterator> index_;
};

}  // namespace tacho::collectors::postgres
