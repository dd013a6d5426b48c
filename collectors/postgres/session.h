// One PostgreSQL session (libpqxx) and the helpers every query of a collection goes through.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

#include "agent/collector.h"
#include "base/status.h"
#include "collectors/postgres/watchdog.h"

namespace tacho::collectors::postgres {

struct QueryError {
  bool connection_lost = false;  // the session is unusable; drop it
  std::string sqlstate;          // e.g. "57014" (statement timeout), empty when none
  std::string message;           // one line, never a secret
};

// Not thread-safe: used by the collection thread only (the watchdog only shuts its socket down).
class PgSession {
 public:
  // Connects (blocking; libpq's connect_timeout from `conninfo` bounds it). `statement_timeout_ms`
  // is the value the conninfo's options set, so Query() knows when it must lower it.
  static Expected<std::unique_ptr<PgSession>, std::string> Open(const std::string& conninfo,
                                                                long long statement_timeout_ms,
                                                                SocketWatchdog* watchdog);
  ~PgSession();
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  // Runs one statement in autocommit mode. When less time is left before the collection's
  // deadline than statement_timeout, the statement is preceded by a SET statement_timeout in
  // the same round trip, so the server cancels it in time.
  Expected<pqxx::result, QueryError> Query(const std::string& sql,
                                           const agent::CollectContext& ctx);
  // Like Query(), as a prepared statement named `name` (prepared on first use on this
  // session): a query that runs every cycle is parsed and planned once per connection, not
  // once per cycle, which is most of the server's cost for the view-heavy ones.
  Expected<pqxx::result, QueryError> QueryPrepared(const std::string& name, const std::string& sql,
                                                   const agent::CollectContext& ctx);

  bool lost() const { return lost_; }
  int server_version() const { return server_version_; }
  int backend_pid() const { return backend_pid_; }
  std::string Quote(std::string_view value);
  std::string QuoteName(std::string_view identifier);

 private:
  PgSession(std::unique_ptr<pqxx::connection> conn, long long statement_timeout_ms,
            SocketWatchdog* watchdog);
  // The statement_timeout the next statement should run with, or -1 to leave it alone.
  long long TimeoutToSet(const agent::CollectContext& ctx, QueryError* error) const;
  Expected<pqxx::result, QueryError> Run(const std::string* name, const std::string& sql,
                                         const agent::CollectContext& ctx);

  std::unique_ptr<pqxx::connection> conn_;
  SocketWatchdog* watchdog_;
  int fd_ = -1;
  int server_version_ = 0;
  int backend_pid_ = 0;
  long long configured_timeout_ms_ = 0;
  long long current_timeout_ms_ = 0;  // -1: unknown
  bool lost_ = false;
  std::map<std::string, std::string> prepared_;  // name -> SQL
};

// Per-query-name bookkeeping for the self-metrics.
struct QueryStats {
  std::map<std::string, double> last_duration_seconds;
  std::map<std::string, std::uint64_t> errors_total;
};

// Runs `sql` as query `name`: records its duration and errors. Returns nullopt on error (the
// session's lost() tells whether it died). `prepared`: run it as a prepared statement named
// after the query (for the fixed queries of every cycle).
std::optional<pqxx::result> RunQuery(PgSession& session, std::string_view name,
                                     const std::string& sql, const agent::CollectContext& ctx,
                                     QueryStats& stats, std::string* last_error = nullptr,
                                     bool prepared = false);

// Field access by column, tolerant of NULLs. Numbers are parsed with from_chars.
std::optional<double> FieldDouble(const pqxx::field& f);
double FieldDouble(const pqxx::field& f, double fallback);
std::optional<long long> FieldInt(const pqxx::field& f);
bool FieldBool(const pqxx::field& f);
std::string FieldString(const pqxx::field& f);

// Column index by name, or -1 (tolerates a missing column).
int ColumnIndex(const pqxx::result& r, const char* name);

}  // namespace tacho::collectors::postgres
