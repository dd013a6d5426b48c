#include "collectors/postgres/postgres_collector.h"

#include <fnmatch.h>

#include <algorithm>
#include <exception>
#include <map>
#include <set>

#include "base/backoff.h"
#include "base/text.h"
#include "collectors/postgres/cycle.h"
#include "collectors/postgres/health.h"
#include "collectors/postgres/postgres_internal.h"
#include "collectors/postgres/relations.h"
#include "collectors/postgres/session.h"
#include "collectors/postgres/statements.h"
#include "collectors/postgres/watchdog.h"

namespace tacho::collectors::postgres {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

const config::Schema& PostgresSchema() {
  using config::KeySpec;
  using config::Type;
  static const config::Schema kSchema = {
      {.name = "dsn",
       .type = Type::kString,
       .description = "libpq connection string (\"host=db1 port=5432 user=tacho dbname=postgres\") "
                      "or URI (\"postgresql://tacho@db1:5432/postgres\"), parsed by libpq itself: "
                      "invalid keywords are reported at start-up with their position. Keep the "
                      "password out of it: use password, password_file or password_env.",
       .required = true,
       .example = "\"host=127.0.0.1 port=5432 user=tacho dbname=postgres\""},
      {.name = "password",
       .type = Type::kString,
       .description = "Password for the dsn's user; overrides one in the dsn. Never logged, "
                      "never in a label or error.",
       .secret = true},
      {.name = "databases",
       .type = Type::kStringList,
       .default_value = "[\"*\"]",
       .description = "Databases to read table and index statistics from (one connection each "
                      "besides the dsn's own database, within max_connections). \"*\": every "
                      "database that allows connections and is not a template. Server-wide "
                      "families (databases, connections, locks, statements, ...) always cover "
                      "every database."},
      {.name = "exclude",
       .type = Type::kStringList,
       .default_value = "[]",
       .description = "Glob patterns (fnmatch) of database names left out of databases, e.g. "
                      "[\"rdsadmin\", \"tmp_*\"]."},
      {.name = "max_connections",
       .type = Type::kInt,
       .default_value = "3",
       .description = "Hard cap on tacho's connections to this server, reconnects included: "
                      "the main one (the dsn's database) plus one per other selected database. "
                      "Databases that would need more are skipped and counted in "
                      "tacho_pg_databases_skipped.",
       .min = 1,
       .max = 100},
      {.name = "connect_timeout",
       .type = Type::kDuration,
       .default_value = "\"5s\"",
       .description = "libpq connect_timeout (whole seconds, at least 2) unless the dsn sets "
                      "one; also bounded by what is left of the collection's timeout."},
      {.name = "statement_timeout",
       .type = Type::kDuration,
       .description = "statement_timeout of tacho's sessions; default: the collector's timeout. "
                      "Lowered per query to what is left of the collection's timeout.",
       .example = "\"5s\""},
      {.name = "lock_timeout",
       .type = Type::kDuration,
       .default_value = "\"1s\"",
       .description = "lock_timeout of tacho's sessions, so no query waits long behind DDL."},
      {.name = "slow_interval",
       .type = Type::kDuration,
       .default_value = "\"5m\"",
       .description = "How often the expensive queries run (pg_database_size, re-discovery of "
                      "columns and extensions); their results are re-exported every cycle."},
      {.name = "relations_interval",
       .type = Type::kDuration,
       .default_value = "\"1m\"",
       .description = "How often table and index statistics are read (each database's catalog "
                      "views, the costliest per-cycle queries for the server); re-exported every "
                      "cycle in between (tacho_pg_relations_age_seconds says how old they are). At "
                      "most once per collection: set it to the interval to read them on every "
                      "collection."},
      {.name = "statements.enabled",
       .type = Type::kBool,
       .default_value = "true",
       .description = "Read query statistics from pg_stat_statements."},
      {.name = "statements.top_k",
       .type = Type::kInt,
       .default_value = "100",
       .description = "Statements exported: the top K by total time over the last 3 cycles; "
                      "each stays exported 5 more cycles after leaving the top K (at most 2K). "
                      "Per-database totals count every statement.",
       .min = 1,
       .max = 10000},
      {.name = "statements.query_text",
       .type = Type::kString,
       .default_value = "\"info_metric\"",
       .description = "\"info_metric\": export pg_stat_statements_query_id{queryid,query} 1 for "
                      "exported statements (text fetched once per queryid, whitespace "
                      "collapsed, 120 characters); \"off\": never read query texts.",
       .allowed = {"info_metric", "off"}},
      {.name = "tables.top_k",
       .type = Type::kInt,
       .default_value = "256",
       .description = "Tables exported per database, by rows read and written (seq_tup_read "
                      "+ idx_tup_fetch + n_tup_ins + n_tup_upd + n_tup_del); 0 turns table "
                      "statistics off.",
       .min = 0,
       .max = 100000},
      {.name = "indexes.top_k",
       .type = Type::kInt,
       .default_value = "512",
       .description = "Indexes exported per database, by size; 0 turns index statistics off.",
       .min = 0,
       .max = 100000},
      {.name = "applications.top_k",
       .type = Type::kInt,
       .default_value = "50",
       .description = "application_name values exported by "
                      "pg_stat_activity_application_connections; the rest are summed under "
                      "application_name=\"<other>\".",
       .min = 1,
       .max = 10000},
  };
  return kSchema;
}

bool GlobMatch(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

const config::Binding<Options>& PostgresBinding() {
  static const config::Binding<Options> kBinding = {
      config::ReadByCode("dsn"),
      config::Bind("password", &Options::password),
      config::Bind("databases", &Options::databases),
      config::Bind("exclude", &Options::exclude),
      config::Bind("max_connections", &Options::max_connections),
      config::Bind("connect_timeout", &Options::connect_timeout),
      config::Bind("statement_timeout", &Options::statement_timeout),
      config::Bind("lock_timeout", &Options::lock_timeout),
      config::Bind("slow_interval", &Options::slow_interval),
      config::Bind("relations_interval", &Options::relations_interval),
      config::Bind("statements.enabled", &Options::statements_enabled),
      config::Bind("statements.top_k", &Options::statements_top_k),
      config::ReadByCode("statements.query_text"),
      config::Bind("tables.top_k", &Options::tables_top_k),
      config::Bind("indexes.top_k", &Options::indexes_top_k),
      config::Bind("applications.top_k", &Options::applications_top_k),
  };
  return kBinding;
}

Expected<Options, config::Error> ParseOptions(const config::Section& section,
                                              const agent::Environment& env) {
  Options o;
  PostgresBinding().Fill(section, o);
  auto dsn = ParseDsn(section.GetString("dsn"));
  if (!dsn) return section.ErrorAt("dsn", "invalid dsn: " + dsn.error());
  o.dsn = std::move(dsn).value();
  for (const std::string& db : o.databases) {
    if (db.empty()) return section.ErrorAt("databases", "empty database name");
  }
  if (o.connect_timeout.count() <= 0) {
    return section.ErrorAt("connect_timeout", "must be positive");
  }
  if (section.Has("statement_timeout") && o.statement_timeout.count() <= 0) {
    return section.ErrorAt("statement_timeout", "must be positive");
  }
  o.query_text = section.GetString("statements.query_text") != "off";
  o.interval = env.interval;
  o.timeout = env.timeout;
  return o;
}

std::vector<std::string> SelectDatabases(const std::vector<std::string>& discovered,
                                         const Options& options, const std::string& main_db) {
  auto excluded = [&options](const std::string& name) {
    return std::any_of(options.exclude.begin(), options.exclude.end(),
                       [&name](const std::string& p) { return GlobMatch(p, name); });
  };
  const std::set<std::string> known(discovered.begin(), discovered.end());
  std::set<std::string> wanted;
  for (const std::string& entry : options.databases) {
    if (entry == "*") {
      wanted.insert(known.begin(), known.end());
    } else if (known.count(entry) != 0) {
      wanted.insert(entry);
    }
  }
  std::vector<std::string> out;
  if (wanted.count(main_db) != 0 && !excluded(main_db)) out.push_back(main_db);
  for (const std::string& name : wanted) {
    if (name != main_db && !excluded(name)) out.push_back(name);
  }
  return out;
}

DatabasePlan PlanDatabases(const std::vector<std::string>& selected, const std::string& main_db,
                           int max_connections) {
  DatabasePlan plan;
  const std::size_t extra_allowed =
      max_connections > 1 ? static_cast<std::size_t>(max_connections - 1) : 0;
  for (const std::string& name : selected) {
    if (name == main_db) {
      plan.main_db = true;
    } else if (plan.extra.size() < extra_allowed) {
      plan.extra.push_back(name);
    } else {
      plan.skipped.push_back(name);
    }
  }
  return plan;
}

namespace {

constexpr milliseconds kBackoffInitial{1000};
constexpr milliseconds kBackoffMax{60000};

class PostgresCollector : public agent::Collector {
 public:
  explicit PostgresCollector(Options options)
      : opts_(std::move(options)),
        main_db_(DsnDatabase(opts_.dsn)),
        target_(DescribeTarget(opts_.dsn)),
        main_backoff_(kBackoffInitial, kBackoffMax),
        statements_(StatementsOptions{.top_k = opts_.statements_top_k,
                                      .sticky_windows = opts_.statements_sticky_windows,
                                      .query_text = opts_.query_text}) {}

  Status Collect(const agent::CollectContext& ctx, agent::MetricSink& sink) override {
    watchdog_.Arm(ctx.deadline);
    Status status;
    try {
      status = CollectOnce(ctx, sink);
    } catch (const std::exception& e) {
      // Not expected (queries catch their own), but a collector must never throw.
      main_.reset();
      db_conns_.clear();
      status = Status::Error("PostgreSQL " + target_ + ": " + base::OneLine(e.what()));
    }
    watchdog_.Disarm();
    return status;
  }

  void Stop() override {
    main_.reset();
    db_conns_.clear();
  }

 private:
  struct DbConn {
    std::unique_ptr<PgSession> session;
    base::Backoff backoff{kBackoffInitial, kBackoffMax};
  };
  struct RelationCache {
    std::optional<pqxx::result> tables;
    std::optional<pqxx::result> indexes;
    steady_clock::time_point refreshed{};
    bool valid = false;
  };

  long long StatementTimeoutMs() const {
    const auto t = opts_.statement_timeout.count() > 0 ? opts_.statement_timeout : opts_.timeout;
    return std::max<long long>(t.count(), 1);
  }

  std::string ConnInfo(const std::string& dbname, const agent::CollectContext& ctx) const {
    SessionSettings s;
    const long long remaining_s = (ctx.Remaining().count() + 999) / 1000;
    const long long configured_s = (opts_.connect_timeout.count() + 999) / 1000;
    s.connect_timeout_seconds =
        static_cast<int>(std::max<long long>(2, std::min(configured_s, remaining_s)));
    s.statement_timeout_ms = StatementTimeoutMs();
    s.lock_timeout_ms = opts_.lock_timeout.count();
    s.password = opts_.password;
    s.dbname = dbname;
    // A SQL_ASCII database holds bytes in no known encoding: the server refuses to convert
    // them to UTF8 ("invalid byte sequence"), so they are read as they are and the sink
    // escapes what is not UTF-8.
    if (sql_ascii_dbs_.count(dbname) != 0) s.client_encoding = "SQL_ASCII";
    return BuildConnInfo(opts_.dsn, s);
  }

  int OpenConnections() const {
    int n = main_ ? 1 : 0;
    for (const auto& [name, conn] : db_conns_) n += conn.session ? 1 : 0;
    return n;
  }

  // Opens a session unless that would exceed max_connections.
  Expected<std::unique_ptr<PgSession>, std::string> Open(const std::string& dbname,
                                                         const agent::CollectContext& ctx) {
    if (OpenConnections() >= opts_.max_connections) {
      return std::string("max_connections reached");
    }
    ++connection_attempts_;
    auto session = PgSession::Open(ConnInfo(dbname, ctx), StatementTimeoutMs(), &watchdog_);
    if (!session) ++connection_failures_;
    return session;
  }

  Status Down(const std::string& what) {
    return Status::Error("PostgreSQL " + target_ + ": " + what);
  }

  void DropMain() {
    main_.reset();
    main_backoff_.Failure(steady_clock::now());
  }

  // Reads server facts and the columns of the statistics views (once per connection and
  // every slow_interval).
  bool Discover(Cycle& c) {
    static const std::string kFacts =
        "SELECT current_setting('server_version_num')::int AS version_num, "
        "current_setting('server_version') AS version, "
        "current_setting('block_size')::bigint AS block_size, current_database() AS db, "
        "(SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON "
        "n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements') AS pgss_schema, "
        "(SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_stat_statements') "
        "AS pgss_version, "
        "COALESCE(current_setting('shared_preload_libraries', true), '') AS preload, "
        "current_setting('pg_stat_statements.max', true) AS pgss_max";
    auto r = RunQuery(*main_, "discovery", kFacts, c.ctx, c.stats, &c.last_error);
    if (!r || r->empty()) return false;
    ServerFacts f;
    const pqxx::row row = (*r)[0];
    f.version_num = static_cast<int>(FieldInt(row["version_num"]).value_or(0));
    f.version = FieldString(row["version"]);
    f.block_size = FieldInt(row["block_size"]).value_or(8192);
    f.current_db = FieldString(row["db"]);
    f.pgss_schema = FieldString(row["pgss_schema"]);
    f.pgss_version = FieldString(row["pgss_version"]);
    f.pgss_preloaded = FieldString(row["preload"]).find("pg_stat_statements") != std::string::npos;
    f.pgss_max = FieldDouble(row["pgss_max"], 0);

    std::string views;
    for (const std::string& v : DiscoveredViews()) {
      if (v.rfind("pg_stat_statements", 0) == 0) continue;
      if (!views.empty()) views += ", ";
      views += main_->Quote(v);
    }
    std::string sql =
        "SELECT c.relname, a.attname FROM pg_catalog.pg_attribute a "
        "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE a.attnum > 0 AND NOT a.attisdropped AND ((n.nspname = 'pg_catalog' AND c.relname "
        "IN (" +
        views + "))";
    if (!f.pgss_schema.empty()) {
      sql += " OR (n.nspname = " + main_->Quote(f.pgss_schema) +
             " AND c.relname IN ('pg_stat_statements', 'pg_stat_statements_info'))";
    }
    sql += ")";
    auto cols = RunQuery(*main_, "discovery", sql, c.ctx, c.stats, &c.last_error);
    if (!cols) return false;
    for (const pqxx::row col : *cols) {
      f.columns[FieldString(col[0])].insert(FieldString(col[1]));
    }
    facts_ = std::move(f);
    facts_at_ = steady_clock::now();
    return true;
  }

  Status CollectOnce(const agent::CollectContext& ctx, agent::MetricSink& sink) {
    Cycle c{ctx, SampleWriter(sink), stats_, {}, std::nullopt};
    const auto now = steady_clock::now();

    if (!main_) {
      if (!main_backoff_.Ready(now)) {
        const auto wait =
            std::chrono::duration_cast<milliseconds>(main_backoff_.next_attempt() - now);
        return Down("reconnecting in " + std::to_string(wait.count()) + " ms (backoff after " +
                    std::to_string(main_backoff_.failures()) + " failures): " + main_error_);
      }
      auto session = Open("", ctx);
      if (!session) {
        main_error_ = session.error();
        main_backoff_.Failure(steady_clock::now());
        return Down(main_error_);
      }
      main_ = std::move(session).value();
      if (!Discover(c)) {
        main_error_ = c.last_error;
        if (main_->lost()) DropMain();
        return Down(main_error_);
      }
    } else if (now - facts_at_ >= opts_.slow_interval) {
      // A failure keeps the previous facts; without any yet, nothing can be read right.
      if (!Discover(c) && facts_.version_num == 0 && !main_->lost()) {
        main_error_ = c.last_error;
        return Down(main_error_);
      }
    }
    if (main_ && main_->lost()) {
      main_error_ = c.last_error;
      DropMain();
      return Down("connection lost: " + main_error_);
    }

    if (!CollectServer(*main_, c, facts_, nullptr)) {
      main_error_ = c.last_error;
      if (main_->lost()) {
        DropMain();
        return Down("connection lost: " + main_error_);
      }
      return Down(main_error_);
    }
    main_backoff_.Success();

    std::vector<DatabaseInfo> databases;
    std::size_t databases_dropped = 0;
    CollectDatabases(*main_, c, facts_, &databases, &databases_dropped);
    std::size_t apps_dropped = 0;
    CollectActivity(*main_, c, databases, opts_.applications_top_k, &apps_dropped);
    CollectLocks(*main_, c, databases);
    CollectCheckpointsWalIo(*main_, c, facts_);
    CollectReplication(*main_, c);
    if (opts_.statements_enabled && !main_->lost()) {
      statements_.Collect(*main_, c, facts_, databases);
    }

    // The expensive query: every slow_interval, its result re-exported every cycle.
    if (!main_->lost() && (!sizes_ || now - sizes_at_ >= opts_.slow_interval)) {
      if (auto sizes = QueryDatabaseSizes(*main_, c)) {
        sizes_ = std::move(sizes);
        sizes_at_ = now;
      }
    }
    if (sizes_) {
      for (const DatabaseInfo& db : databases) {
        auto it = sizes_->find(db.name);
        if (it == sizes_->end()) continue;
        c.sink.Gauge("pg_database_size_bytes",
                     "Disk space used by the database, in bytes (pg_database_size, refreshed "
                     "every slow_interval).",
                     {{"datname", db.name}}, it->second);
      }
    }

    if (main_->lost()) {
      main_error_ = c.last_error;
      DropMain();
      return Down("connection lost: " + main_error_);
    }

    CollectPerDatabase(c, databases);
    if (main_ && main_->lost()) {
      main_error_ = c.last_error;
      DropMain();
      return Down("connection lost: " + main_error_);
    }
    WriteSelf(c, databases_dropped, apps_dropped);
    return Status::Ok();
  }

  // The session for a database's relation statistics: the main one for its own database, else
  // the database's own connection, opened (within the cap and its backoff) when needed.
  PgSession* DatabaseSession(Cycle& c, const std::string& name, const std::string& main_db) {
    if (name == main_db) return main_.get();
    DbConn& conn = db_conns_[name];
    if (!conn.session) {
      if (!conn.backoff.Ready(steady_clock::now())) return nullptr;
      auto session = Open(name, c.ctx);
      if (!session) {
        conn.backoff.Failure(steady_clock::now());
        ++stats_.errors_total["connect"];
        c.last_error = "connect to " + name + ": " + session.error();
        db_up_[name] = false;
        return nullptr;
      }
      conn.session = std::move(session).value();
    }
    return conn.session.get();
  }

  // Table and index statistics: read every relations_interval per database, re-exported from
  // the cached results (libpq's compact PGresults) in between.
  void CollectPerDatabase(Cycle& c, const std::vector<DatabaseInfo>& databases) {
    std::vector<std::string> discovered;
    sql_ascii_dbs_.clear();
    for (const DatabaseInfo& db : databases) {
      if (db.allow_conn && !db.is_template) discovered.push_back(db.name);
      if (db.encoding == "SQL_ASCII") sql_ascii_dbs_.insert(db.name);
    }
    const std::string main_db = facts_.current_db.empty() ? main_db_ : facts_.current_db;
    const DatabasePlan plan =
        PlanDatabases(SelectDatabases(discovered, opts_, main_db), main_db, opts_.max_connections);
    databases_skipped_ = plan.skipped.size();
    tables_dropped_.clear();
    indexes_dropped_.clear();
    // Close what the plan no longer wants before opening anything, so the cap holds.
    auto wanted = [&plan, &main_db](const std::string& name) {
      return (plan.main_db && name == main_db) ||
             std::find(plan.extra.begin(), plan.extra.end(), name) != plan.extra.end();
    };
    std::erase_if(db_conns_, [&wanted](const auto& kv) { return !wanted(kv.first); });
    std::erase_if(relations_, [&wanted](const auto& kv) { return !wanted(kv.first); });
    std::erase_if(db_up_, [&wanted](const auto& kv) { return !wanted(kv.first); });
    if (opts_.tables_top_k == 0 && opts_.indexes_top_k == 0) return;

    std::vector<std::string> names = plan.extra;
    if (plan.main_db) names.insert(names.begin(), main_db);
    const auto now = steady_clock::now();
    for (const std::string& name : names) {
      RelationCache& cache = relations_[name];
      const bool due = !cache.valid || now - cache.refreshed >= opts_.relations_interval;
      if (due && !c.ctx.Cancelled()) {
        cache.valid = false;
        cache.tables.reset();
        cache.indexes.reset();
        if (PgSession* s = DatabaseSession(c, name, main_db)) {
          bool ok = true;
          if (opts_.tables_top_k > 0) {
            cache.tables = QueryTables(*s, c, facts_, opts_.tables_top_k);
            ok = ok && cache.tables.has_value();
          }
          if (opts_.indexes_top_k > 0 && !s->lost()) {
            cache.indexes = QueryIndexes(*s, c, facts_, opts_.indexes_top_k);
            ok = ok && cache.indexes.has_value();
          }
          if (ok) {
            cache.valid = true;
            cache.refreshed = now;
          }
          if (name != main_db) {
            DbConn& conn = db_conns_[name];
            if (s->lost()) {
              conn.session.reset();
              conn.backoff.Failure(steady_clock::now());
              db_up_[name] = false;
            } else {
              conn.backoff.Success();
              db_up_[name] = true;
            }
          }
        }
      }
      if (cache.tables) {
        tables_dropped_[name] = EmitTables(c, name, *cache.tables, opts_.tables_top_k);
      }
      if (cache.indexes) {
        indexes_dropped_[name] = EmitIndexes(c, name, *cache.indexes, opts_.indexes_top_k);
      }
      if (cache.valid) {
        c.sink.Gauge("tacho_pg_relations_age_seconds",
                     "Age of the table and index statistics exported for this database (read "
                     "every relations_interval).",
                     {{"datname", name}},
                     std::chrono::duration<double>(now - cache.refreshed).count());
      }
    }
  }

  void WriteSelf(Cycle& c, std::size_t databases_dropped, std::size_t apps_dropped) {
    auto& sink = c.sink;
    sink.Gauge("tacho_pg_connections_open",
               "tacho's open connections to this server (never more than max_connections).", {},
               OpenConnections());
    sink.Gauge("tacho_pg_max_connections", "The configured cap on tacho's connections.", {},
               opts_.max_connections);
    sink.Counter("tacho_pg_connection_attempts_total", "Connections tacho tried to open.", {},
                 static_cast<double>(connection_attempts_));
    sink.Counter("tacho_pg_connection_failures_total", "Connection attempts that failed.", {},
                 static_cast<double>(connection_failures_));
    for (const auto& [query, seconds] : stats_.last_duration_seconds) {
      sink.Gauge("tacho_pg_query_duration_seconds",
                 "Duration of the latest run of each query group, in seconds.", {{"query", query}},
                 seconds);
    }
    for (const auto& [query, n] : stats_.errors_total) {
      sink.Counter("tacho_pg_query_errors_total",
                   "Queries that failed (the rest of the collection goes on without their "
                   "families).",
                   {{"query", query}}, static_cast<double>(n));
    }
    sink.Gauge("tacho_pg_databases_skipped",
               "Databases selected for table and index statistics that got no connection "
               "because of max_connections.",
               {}, static_cast<double>(databases_skipped_));
    sink.Gauge("tacho_pg_databases_dropped",
               "Databases beyond the cap of 256 left out of the per-database families.", {},
               static_cast<double>(databases_dropped));
    sink.Gauge("tacho_pg_applications_dropped",
               "application_name values beyond applications.top_k, summed under \"<other>\".", {},
               static_cast<double>(apps_dropped));
    for (const auto& [datname, n] : tables_dropped_) {
      sink.Gauge("tacho_pg_tables_dropped", "Tables of the database left out by tables.top_k.",
                 {{"datname", datname}}, static_cast<double>(n));
    }
    for (const auto& [datname, n] : indexes_dropped_) {
      sink.Gauge("tacho_pg_indexes_dropped", "Indexes of the database left out by indexes.top_k.",
                 {{"datname", datname}}, static_cast<double>(n));
    }
    for (const auto& [datname, up] : db_up_) {
      sink.Gauge("tacho_pg_database_connection_up",
                 "1 if the extra connection to this database works (table and index "
                 "statistics of databases other than the dsn's).",
                 {{"datname", datname}}, up ? 1 : 0);
    }
  }

  Options opts_;
  const std::string main_db_;
  const std::string target_;
  SocketWatchdog watchdog_;
  std::unique_ptr<PgSession> main_;
  base::Backoff main_backoff_;
  std::string main_error_;
  ServerFacts facts_;
  steady_clock::time_point facts_at_{};
  std::map<std::string, DbConn> db_conns_;
  std::set<std::string> sql_ascii_dbs_;  // databases read with client_encoding SQL_ASCII
  StatementsCollector statements_;
  QueryStats stats_;
  std::optional<std::map<std::string, double>> sizes_;
  steady_clock::time_point sizes_at_{};
  std::uint64_t connection_attempts_ = 0;
  std::uint64_t connection_failures_ = 0;
  std::size_t databases_skipped_ = 0;
  std::map<std::string, RelationCache> relations_;
  std::map<std::string, std::size_t> tables_dropped_;
  std::map<std::string, std::size_t> indexes_dropped_;
  std::map<std::string, bool> db_up_;
};

}  // namespace

std::unique_ptr<agent::Collector> NewPostgresCollector(Options options) {
  return std::make_unique<PostgresCollector>(std::move(options));
}

agent::CollectorKind PostgresCollectorKind() {
  return agent::CollectorKind{
      .name = "postgres",
      .description =
          "PostgreSQL 12-17: query statistics (pg_stat_statements, top K with exact per-database "
          "totals), databases, connections, locks, checkpoints, WAL, replication, tables, "
          "indexes. Works with a user in pg_monitor; collectors/postgres/README.md has the SQL "
          "that creates one.",
      .schema = PostgresSchema(),
      .bound_keys = PostgresBinding().Keys(),
      .up_metric = "pg_up",
      .up_help = "Whether the last collection from the PostgreSQL server succeeded (1) or not (0).",
      .chain_pool = "connections",
      .create = agent::MakeFactory(&ParseOptions, &NewPostgresCollector),
  };
}

}  // namespace tacho::collectors::postgres
