#include "collectors/postgres/statements.h"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <set>

namespace tacho::collectors::postgres {
namespace {

using agent::Labels;

void WriteAvailable(SampleWriter& sink, bool yes) {
  sink.Gauge("tacho_pg_stat_statements_available",
             "1 if pg_stat_statements can be read in the connected database; 0 if the "
             "extension is missing, not preloaded or unreadable (the log says how to fix it).",
             {}, yes ? 1 : 0);
}

}  // namespace

StatementsCollector::StatementsCollector(StatementsOptions options)
    : options_(options),
      engine_(
          StatementsDeltaOptions{.top_k = options.top_k, .sticky_windows = options.sticky_windows}),
      texts_(std::max<std::size_t>(4 * options.top_k, 256)) {}

void StatementsCollector::Report(StatementsState state, const ServerFacts& facts,
                                 const std::string& detail) {
  state_ = state;
  if (state == logged_) return;
  logged_ = state;
  switch (state) {
    case StatementsState::kNotInstalled:
      spdlog::warn(
          "postgres: pg_stat_statements is not installed in database \"{}\"; query statistics "
          "are off until you run: CREATE EXTENSION pg_stat_statements;{}",
          facts.current_db,
          facts.pgss_preloaded ? ""
                               : " (and add pg_stat_statements to shared_preload_libraries, "
                                 "then restart PostgreSQL)");
      break;
    case StatementsState::kNotPreloaded:
      spdlog::warn(
          "postgres: pg_stat_statements is installed but not loaded; query statistics are off "
          "until you add it to shared_preload_libraries in postgresql.conf and restart "
          "PostgreSQL");
      break;
    case StatementsState::kUnusable:
      spdlog::warn("postgres: pg_stat_statements cannot be read ({}); query statistics are off",
                   detail);
      break;
    case StatementsState::kAvailable:
      spdlog::info("postgres: pg_stat_statements {} is available in database \"{}\"",
                   facts.pgss_version, facts.current_db);
      break;
    case StatementsState::kUnknown:
      break;
  }
}

std::string StatementsCollector::RoleName(PgSession& s, Cycle& c, std::uint32_t oid) {
  auto it = roles_.find(oid);
  if (it != roles_.end()) return it->second;
  // An unknown role: refresh the whole map once (roles rarely change).
  auto r = RunQuery(s, "roles", "SELECT oid::bigint, rolname FROM pg_catalog.pg_roles", c.ctx,
                    c.stats, &c.last_error);
  if (r) {
    roles_.clear();
    for (const pqxx::row row : *r) {
      roles_[static_cast<std::uint32_t>(FieldInt(row[0]).value_or(0))] = FieldString(row[1]);
    }
  }
  it = roles_.find(oid);
  if (it != roles_.end()) return it->second;
  return roles_[oid] = std::to_string(oid);  // dropped role: its oid
}

StatementsState StatementsCollector::Collect(PgSession& s, Cycle& c, const ServerFacts& facts,
                                             const std::vector<DatabaseInfo>& databases) {
  std::optional<StatementsColumns> columns = UsableColumns(facts);
  if (!columns) {
    WriteAvailable(c.sink, false);
    return state_;
  }
  const std::string schema = s.QuoteName(facts.pgss_schema);
  std::optional<pqxx::result> result = QueryStatements(s, c, facts, *columns, schema);
  WriteAvailable(c.sink, result.has_value());
  if (!result) return state_;

  const std::size_t hidden = ReadRows(*result);
  const std::optional<double> reset_marker =
      columns->info_view ? ReadInfo(s, c, schema) : std::nullopt;
  c.sink.Gauge("pg_stat_statements_entries",
               "Entries in pg_stat_statements now; compare with pg_stat_statements_max.", {},
               static_cast<double>(result->size()));
  if (facts.pgss_max > 0) {
    c.sink.Gauge("pg_stat_statements_max",
                 "pg_stat_statements.max: entries kept before the least-executed are evicted.", {},
                 facts.pgss_max);
  }
  engine_.Update(rows_, reset_marker);
  WriteCounters(s, c, databases);
  if (options_.query_text) WriteQueryTexts(s, c, schema);
  WriteSelf(c, hidden);
  return state_;
}

std::optional<StatementsColumns> StatementsCollector::UsableColumns(const ServerFacts& facts) {
  if (facts.pgss_schema.empty()) {
    Report(StatementsState::kNotInstalled, facts, "");
    return std::nullopt;
  }
  StatementsColumns columns = DiscoverStatementsColumns(facts.columns);
  if (!columns.usable) {
    Report(StatementsState::kUnusable, facts,
           "extension version " + facts.pgss_version + " lacks the expected columns");
    return std::nullopt;
  }
  return columns;
}

std::optional<pqxx::result> StatementsCollector::QueryStatements(PgSession& s, Cycle& c,
                                                                 const ServerFacts& facts,
                                                                 const StatementsColumns& columns,
                                                                 const std::string& schema) {
  const auto started = std::chrono::steady_clock::now();
  auto result = s.QueryPrepared("tacho_statements", BuildStatementsQuery(columns, schema), c.ctx);
  c.stats.last_duration_seconds["statements"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!result.ok()) {
    ++c.stats.errors_total["statements"];
    c.last_error = "statements: " + result.error().message;
    if (result.error().sqlstate == "55000") {
      Report(StatementsState::kNotPreloaded, facts, "");
    } else if (result.error().sqlstate == "42501") {
      Report(StatementsState::kUnusable, facts, result.error().message);
    }
    return std::nullopt;
  }
  Report(StatementsState::kAvailable, facts, "");
  return std::move(result.value());
}

std::size_t StatementsCollector::ReadRows(const pqxx::result& r) {
  rows_.clear();
  rows_.reserve(r.size());
  const int c_user = ColumnIndex(r, "userid"), c_db = ColumnIndex(r, "dbid"),
            c_qid = ColumnIndex(r, "queryid"), c_top = ColumnIndex(r, "toplevel"),
            c_since = ColumnIndex(r, "stats_since");
  std::array<int, kStatementCounterCount> c_counters;
  for (std::size_t i = 0; i < kStatementCounterCount; ++i) {
    c_counters[i] = ColumnIndex(r, std::string(kStatementCounters[i].name).c_str());
  }
  std::size_t hidden = 0;
  for (const pqxx::row row : r) {
    // queryid is NULL for other users' statements without pg_read_all_stats.
    auto queryid = FieldInt(row[c_qid]);
    if (!queryid) {
      ++hidden;
      continue;
    }
    StatementRow out;
    out.key.userid = static_cast<std::uint32_t>(FieldInt(row[c_user]).value_or(0));
    out.key.dbid = static_cast<std::uint32_t>(FieldInt(row[c_db]).value_or(0));
    out.key.queryid = *queryid;
    out.toplevel = c_top < 0 || FieldBool(row[c_top]);
    for (std::size_t i = 0; i < kStatementCounterCount; ++i) {
      if (c_counters[i] >= 0) out.counters[i] = FieldDouble(row[c_counters[i]], 0);
    }
    if (c_since >= 0) out.stats_since = FieldDouble(row[c_since]);
    rows_.push_back(out);
  }
  return hidden;
}

std::optional<double> StatementsCollector::ReadInfo(PgSession& s, Cycle& c,
                                                    const std::string& schema) {
  auto info = RunQuery(s, "statements_info",
                       "SELECT dealloc::float8 AS dealloc, extract(epoch from "
                       "stats_reset)::float8 AS stats_reset FROM " +
                           schema + ".pg_stat_statements_info",
                       c.ctx, c.stats, &c.last_error, true);
  if (!info || info->empty()) return std::nullopt;
  const pqxx::row row = (*info)[0];
  const std::optional<double> reset_marker = FieldDouble(row["stats_reset"]);
  if (auto v = FieldDouble(row["dealloc"])) {
    c.sink.Counter("pg_stat_statements_dealloc_total",
                   "Times pg_stat_statements evicted its least-executed entries because more "
                   "distinct statements than pg_stat_statements.max were seen (14+).",
                   {}, *v);
  }
  if (reset_marker) {
    c.sink.Gauge("pg_stat_statements_stats_reset_timestamp_seconds",
                 "Time of the last full reset of pg_stat_statements, Unix seconds (14+).", {},
                 *reset_marker);
  }
  return reset_marker;
}

void StatementsCollector::WriteCounters(PgSession& s, Cycle& c,
                                        const std::vector<DatabaseInfo>& databases) {
  std::unordered_map<std::uint32_t, std::string> datnames;
  for (const DatabaseInfo& db : databases) datnames[db.oid] = db.name;
  auto datname = [&datnames](std::uint32_t oid) {
    auto it = datnames.find(oid);
    return it != datnames.end() ? it->second : std::to_string(oid);
  };
  for (const ExportedStatement& e : engine_.exported()) {
    Labels labels{{"user", RoleName(s, c, e.key.userid)},
                  {"datname", datname(e.key.dbid)},
                  {"queryid", std::to_string(e.key.queryid)}};
    for (std::size_t i = 0; i < kStatementCounterCount; ++i) {
      const StatementCounterSpec& spec = kStatementCounters[i];
      c.sink.Counter(StatementFamily(spec), spec.help, labels, e.totals[i] * spec.scale);
    }
  }
  for (const auto& [dbid, totals] : engine_.database_totals()) {
    auto it = datnames.find(dbid);
    if (it == datnames.end()) continue;  // dropped database
    Labels labels{{"datname", it->second}};
    for (std::size_t i = 0; i < kStatementCounterCount; ++i) {
      const StatementCounterSpec& spec = kStatementCounters[i];
      c.sink.Counter(DatabaseFamily(spec), DatabaseHelp(spec), labels, totals[i] * spec.scale);
    }
  }
}

void StatementsCollector::WriteQueryTexts(PgSession& s, Cycle& c, const std::string& schema) {
  FetchTexts(s, c, schema);
  std::set<std::int64_t> done;
  for (const ExportedStatement& e : engine_.exported()) {
    if (!done.insert(e.key.queryid).second) continue;
    auto text = texts_.Get(e.key.queryid);
    if (!text || text->empty()) continue;
    c.sink.Gauge("pg_stat_statements_query_id",
                 "Query text of an exported queryid (whitespace collapsed, first 120 "
                 "characters); always 1.",
                 {{"queryid", std::to_string(e.key.queryid)}, {"query", *text}}, 1);
  }
}

void StatementsCollector::WriteSelf(Cycle& c, std::size_t hidden) {
  auto& sink = c.sink;
  sink.Gauge("tacho_pg_statements_exported",
             "Statements exported this cycle (top K plus those still sticky).", {},
             static_cast<double>(engine_.exported().size()));
  sink.Gauge("tacho_pg_statements_dropped",
             "Statements in pg_stat_statements that the top-K cap left out this cycle (their "
             "counts are still in pg_stat_statements_database_*).",
             {}, static_cast<double>(engine_.dropped()));
  sink.Gauge("tacho_pg_statements_tracked",
             "Statements the delta engine keeps state for (present ones and recently evicted "
             "ones).",
             {}, static_cast<double>(engine_.tracked()));
  sink.Gauge("tacho_pg_statements_hidden",
             "Rows of pg_stat_statements without a queryid (other users' statements without "
             "pg_read_all_stats), left out.",
             {}, static_cast<double>(hidden));
  sink.Counter("tacho_pg_statements_rebaselines_total",
               "Statement rows whose counters were found restarted (reset, eviction and "
               "re-creation) and re-baselined without a negative delta.",
               {}, static_cast<double>(engine_.rebaselines()));
  sink.Counter("tacho_pg_query_text_fetches_total",
               "Queries that fetched texts for newly exported queryids.", {},
               static_cast<double>(text_fetches_));
  sink.Gauge("tacho_pg_query_texts_cached", "Query texts held in the cache.", {},
             static_cast<double>(texts_.size()));
}

void StatementsCollector::FetchTexts(PgSession& s, Cycle& c, const std::string& schema) {
  std::string ids;
  std::set<std::int64_t> wanted;
  for (const ExportedStatement& e : engine_.exported()) {
    if (texts_.Contains(e.key.queryid) || !wanted.insert(e.key.queryid).second) continue;
    if (!ids.empty()) ids += ',';
    ids += std::to_string(e.key.queryid);
  }
  if (wanted.empty()) return;
  ++text_fetches_;
  // pg_stat_statements(true) reads the whole query-text file, hence only for new queryids.
  auto r = RunQuery(s, "query_texts",
                    "SELECT DISTINCT ON (queryid) queryid, query FROM " + schema +
                        ".pg_stat_statements(true) WHERE queryid = ANY('{" + ids +
                        "}'::bigint[]) ORDER BY queryid",
                    c.ctx, c.stats, &c.last_error);
  if (!r) return;  // retried next cycle
  for (const pqxx::row row : *r) {
    auto queryid = FieldInt(row[0]);
    if (!queryid) continue;
    texts_.Put(*queryid, NormalizeQueryText(FieldString(row[1])));
    wanted.erase(*queryid);
  }
  // Evicted before its text was read: remember that, so it is not fetched every cycle.
  for (std::int64_t queryid : wanted) texts_.Put(queryid, "");
}

}  // namespace tacho::collectors::postgres
