// Query statistics: pg_stat_statements read each cycle without query text, through the delta
// engine, exported for the top K statements, with exact per-database totals.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "collectors/postgres/columns.h"
#include "collectors/postgres/cycle.h"
#include "collectors/postgres/query_text.h"
#include "collectors/postgres/statements_delta.h"

namespace tacho::collectors::postgres {

enum class StatementsState {
  kUnknown,  // not checked yet
  kAvailable,
  kNotInstalled,  // no CREATE EXTENSION in the connected database
  kNotPreloaded,  // not in shared_preload_libraries
  kUnusable,      // an extension version without the columns tacho needs, or no privilege
};

struct StatementsOptions {
  std::size_t top_k = 100;
  int sticky_windows = 5;
  bool query_text = true;
};

// Owned by the collector; used by the collection thread only.
class StatementsCollector {
 public:
  explicit StatementsCollector(StatementsOptions options);

  // Reads pg_stat_statements and writes its families. `databases` maps dbid to names for the
  // datname label. Returns the availability found (and logs the fix once when it changes).
  StatementsState Collect(PgSession& s, Cycle& c, const ServerFacts& facts,
                          const std::vector<DatabaseInfo>& databases);
  StatementsState state() const { return state_; }

 private:
  // The steps of Collect(), in order. Each reports the availability it finds.
  std::optional<StatementsColumns> UsableColumns(const ServerFacts& facts);
  std::optional<pqxx::result> QueryStatements(PgSession& s, Cycle& c, const ServerFacts& facts,
                                              const StatementsColumns& columns,
                                              const std::string& schema);
  // Fills rows_; returns the rows left out for lack of a queryid.
  std::size_t ReadRows(const pqxx::result& r);
  // pg_stat_statements_info (14+): writes its families, returns stats_reset as Unix seconds.
  std::optional<double> ReadInfo(PgSession& s, Cycle& c, const std::string& schema);
  void WriteCounters(PgSession& s, Cycle& c, const std::vector<DatabaseInfo>& databases);
  void WriteQueryTexts(PgSession& s, Cycle& c, const std::string& schema);
  void WriteSelf(Cycle& c, std::size_t hidden);

  void FetchTexts(PgSession& s, Cycle& c, const std::string& schema);
  void Report(StatementsState state, const ServerFacts& facts, const std::string& detail);
  std::string RoleName(PgSession& s, Cycle& c, std::uint32_t oid);

  StatementsOptions options_;
  StatementsDelta engine_;
  QueryTextCache texts_;
  StatementsState state_ = StatementsState::kUnknown;
  StatementsState logged_ = StatementsState::kUnknown;
  std::unordered_map<std::uint32_t, std::string> roles_;
  std::uint64_t text_fetches_ = 0;
  std::vector<StatementRow> rows_;  // reused between cycles
};

}  // namespace tacho::collectors::postgres
