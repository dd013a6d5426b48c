#include "collectors/pool/pgbouncer_collector.h"

#include <algorithm>
#include <map>

#include "base/backoff.h"
#include "collectors/pool/console.h"
#include "collectors/pool/pgbouncer_metrics.h"

namespace tacho::collectors::pool {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

const config::Schema& PgbouncerSchema() {
  using config::Type;
  static const config::Schema kSchema = {
      {.name = "dsn",
       .type = Type::kString,
       .description = "libpq connection string or URI of PgBouncer's admin console (dbname "
                      "pgbouncer), as a user in stats_users (read-only) or admin_users. Keep the "
                      "password out of it: use password, password_file or password_env. Checked "
                      "at start-up with libpq's own parser.",
       .required = true,
       .example = "\"host=127.0.0.1 port=6432 user=tacho_stats dbname=pgbouncer\""},
      {.name = "password",
       .type = Type::kString,
       .description = "Password for the dsn's user; overrides one in the dsn. Unset: none "
                      "(auth_type trust, or a .pgpass file). Never logged, never in a metric or "
                      "error.",
       .secret = true},
      {.name = "connect_timeout",
       .type = Type::kDuration,
       .default_value = "\"5s\"",
       .description = "Longest wait for a connection (also bounded by what is left of the "
                      "collection's timeout)."},
      {.name = "config_interval",
       .type = Type::kDuration,
       .default_value = "\"1m\"",
       .description = "How often SHOW CONFIG is re-read (it changes only on RELOAD, and after "
                      "a reconnect); its "
                      "values are re-exported every collection in between."},
      {.name = "max_pools",
       .type = Type::kInt,
       .default_value = "500",
       .description = "Database/user pools that get pgbouncer_pools_* and tacho_pool_* "
                      "series, the busiest first; the rest are counted in "
                      "tacho_pgbouncer_pools_dropped.",
       .min = 1,
       .max = 100000},
      {.name = "upstream",
       .type = Type::kString,
       .description =
           "Name of the [[collectors.postgres]] instance PgBouncer connects to, so "
           "/api/v1/pools can show the chain PgBouncer -> PostgreSQL. Must name a postgres "
           "instance.",
       .example = "\"main-db\""},
  };
  return kSchema;
}

// Console commands in the order they run; the index is the query's slot below.
enum Query { kVersion, kConfig, kDatabases, kPools, kStats, kLists, kQueryCount };
constexpr const char* kQueryNames[kQueryCount] = {"version", "config", "databases",
                                                  "pools",   "stats",  "lists"};
constexpr const char* kCommands[kQueryCount] = {"SHOW VERSION", "SHOW CONFIG", "SHOW DATABASES",
                                                "SHOW POOLS",   "SHOW STATS",  "SHOW LISTS"};

class PgbouncerCollector : public agent::Collector {
 public:
  explicit PgbouncerCollector(PgbouncerOptions options)
      : opts_(std::move(options)),
        target_(postgres::DescribeTarget(opts_.dsn)),
        backoff_(opts_.backoff_initial, opts_.backoff_max) {}

  Status Collect(const agent::CollectContext& ctx, agent::MetricSink& sink) override {
    const auto now = steady_clock::now();
    if (!conn_) {
      if (!backoff_.Ready(now)) {
        const auto wait = std::chrono::duration_cast<milliseconds>(backoff_.next_attempt() - now);
        return Down("reconnecting in " + std::to_string(wait.count()) + " ms (backoff after " +
                    std::to_string(backoff_.failures()) + " failures): " + last_error_);
      }
      ++connection_attempts_;
      const auto deadline = std::min(ctx.deadline, now + opts_.connect_timeout);
      auto conn = ConsoleConnection::Open(ConnInfo(), deadline);
      if (!conn) {
        ++connection_failures_;
        last_error_ = conn.error();
        backoff_.Failure(steady_clock::now());
        return Down(last_error_);
      }
      conn_ = std::move(conn).value();
      version_.reset();
      config_.reset();
    }

    PgbouncerReadings readings;
    std::optional<ShowTable>* slots[kQueryCount] = {&readings.version,   &readings.config,
                                                    &readings.databases, &readings.pools,
                                                    &readings.stats,     &readings.lists};
    for (int q = 0; q < kQueryCount; ++q) {
      // The version cannot change without a restart, which drops the connection; the
      // configuration changes only on RELOAD, so it is re-read every config_interval.
      if (q == kVersion && version_) {
        readings.version = version_;
        continue;
      }
      if (q == kConfig && config_ && steady_clock::now() - config_at_ < opts_.config_interval) {
        readings.config = config_;
        continue;
      }
      if (ctx.Cancelled()) return Down("collection cancelled (deadline reached)");
      const auto started = steady_clock::now();
      auto table = conn_->Show(kCommands[q], ctx.deadline);
      durations_[kQueryNames[q]] =
          std::chrono::duration<double>(steady_clock::now() - started).count();
      if (!table) {
        ++errors_[kQueryNames[q]];
        if (conn_->lost()) {
          last_error_ = std::string(kCommands[q]) + ": " + table.error();
          conn_.reset();
          backoff_.Failure(steady_clock::now());
          return Down("connection lost: " + last_error_);
        }
        continue;  // that command's families are left out; the rest go on
      }
      *slots[q] = std::move(table).value();
      if (q == kVersion) version_ = readings.version;
      if (q == kConfig) {
        config_ = readings.config;
        config_at_ = steady_clock::now();
      }
    }
    backoff_.Success();

    const PgbouncerWriteResult written =
        WritePgbouncerMetrics(readings, PgbouncerWriteOptions{.max_pools = opts_.max_pools}, sink);
    WriteSelf(written, sink);
    return Status::Ok();
  }

  void Stop() override { conn_.reset(); }

 private:
  std::string ConnInfo() const {
    // No statement_timeout or lock_timeout: the console rejects the startup "options" they
    // would need. The deadline bounds every wait instead.
    postgres::SessionSettings s;
    s.connect_timeout_seconds =
        static_cast<int>(std::max<long long>(2, (opts_.connect_timeout.count() + 999) / 1000));
    s.password = opts_.password;
    return postgres::BuildConnInfo(opts_.dsn, s);
  }

  Status Down(const std::string& what) const {
    return Status::Error("PgBouncer " + target_ + ": " + what);
  }

  void WriteSelf(const PgbouncerWriteResult& written, agent::MetricSink& sink) const {
    sink.Gauge("tacho_pgbouncer_pools_dropped",
               "Database/user pools left out of the per-pool families by max_pools.", {},
               static_cast<double>(written.pools_dropped));
    for (const auto& [query, seconds] : durations_) {
      sink.Gauge("tacho_pgbouncer_query_duration_seconds",
                 "Duration of the latest run of each console command, in seconds.",
                 {{"query", query}}, seconds);
    }
    for (int q = 0; q < kQueryCount; ++q) {
      auto it = errors_.find(kQueryNames[q]);
      sink.Counter("tacho_pgbouncer_query_errors_total",
                   "Console commands that failed (their families are left out of that "
                   "collection; the rest goes on).",
                   {{"query", kQueryNames[q]}},
                   it == errors_.end() ? 0 : static_cast<double>(it->second));
    }
    sink.Counter("tacho_pgbouncer_connection_attempts_total",
                 "Connections tacho tried to open to the admin console.", {},
                 static_cast<double>(connection_attempts_));
    sink.Counter("tacho_pgbouncer_connection_failures_total",
                 "Connection attempts to the admin console that failed.", {},
                 static_cast<double>(connection_failures_));
  }

  PgbouncerOptions opts_;
  const std::string target_;
  base::Backoff backoff_;
  std::unique_ptr<ConsoleConnection> conn_;
  std::optional<ShowTable> version_;
  std::optional<ShowTable> config_;
  steady_clock::time_point config_at_{};
  std::string last_error_;
  std::map<std::string, double> durations_;
  std::map<std::string, std::uint64_t> errors_;
  std::uint64_t connection_attempts_ = 0;
  std::uint64_t connection_failures_ = 0;
};

const config::Binding<PgbouncerOptions>& PgbouncerBinding() {
  static const config::Binding<PgbouncerOptions> kBinding = {
      config::ReadByCode("dsn"),
      config::Bind("password", &PgbouncerOptions::password),
      config::Bind("connect_timeout", &PgbouncerOptions::connect_timeout),
      config::Bind("config_interval", &PgbouncerOptions::config_interval),
      config::Bind("max_pools", &PgbouncerOptions::max_pools),
      config::Bind("upstream", &PgbouncerOptions::upstream),
  };
  return kBinding;
}

Expected<PgbouncerOptions, config::Error> ParseOptions(const config::Section& section,
                                                       const agent::Environment&) {
  PgbouncerOptions o;
  PgbouncerBinding().Fill(section, o);
  auto dsn = postgres::ParseDsn(section.GetString("dsn"));
  if (!dsn) return section.ErrorAt("dsn", "invalid dsn: " + dsn.error());
  o.dsn = std::move(dsn).value();
  if (o.connect_timeout.count() <= 0) return section.ErrorAt("connect_timeout", "must be positive");
  return o;
}

}  // namespace

std::unique_ptr<agent::Collector> NewPgbouncerCollector(PgbouncerOptions options) {
  return std::make_unique<PgbouncerCollector>(std::move(options));
}

agent::CollectorKind PgbouncerCollectorKind() {
  return agent::CollectorKind{
      .name = "pgbouncer",
      .description =
          "PgBouncer 1.16-1.24 admin console: pools, stats, databases, config, lists "
          "(pgbouncer_exporter names) and pool utilisation. One collection is five or six "
          "SHOW commands on one kept-open connection. collectors/pool/README.md lists "
          "every metric and the privileges.",
      .schema = PgbouncerSchema(),
      .bound_keys = PgbouncerBinding().Keys(),
      .up_metric = "pgbouncer_up",
      .up_help =
          "Whether the last collection from PgBouncer's admin console succeeded (1) or not (0).",
      .upstream_kinds = {"postgres"},
      .create = agent::MakeFactory(&ParseOptions, &NewPgbouncerCollector),
  };
}

}  // namespace tacho::collectors::pool
