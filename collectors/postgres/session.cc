#include "collectors/postgres/session.h"

#include <algorithm>
#include <charconv>

#include "base/text.h"

namespace tacho::collectors::postgres {

PgSession::PgSession(std::unique_ptr<pqxx::connection> conn, long long statement_timeout_ms,
                     SocketWatchdog* watchdog)
    : conn_(std::move(conn)),
      watchdog_(watchdog),
      configured_timeout_ms_(statement_timeout_ms),
      current_timeout_ms_(statement_timeout_ms) {
  fd_ = conn_->sock();
  server_version_ = conn_->server_version();
  backend_pid_ = conn_->backendpid();
  if (watchdog_ != nullptr) watchdog_->Watch(fd_);
}

PgSession::~PgSession() {
  // The watchdog must forget the descriptor before it is closed and possibly reused.
  if (watchdog_ != nullptr) watchdog_->Unwatch(fd_);
  try {
    conn_.reset();
  } catch (...) {
  }
}

Expected<std::unique_ptr<PgSession>, std::string> PgSession::Open(const std::string& conninfo,
                                                                  long long statement_timeout_ms,
                                                                  SocketWatchdog* watchdog) {
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo);
    if (!conn->is_open()) return std::string("connection closed during start-up");
    return std::unique_ptr<PgSession>(
        new PgSession(std::move(conn), statement_timeout_ms, watchdog));
  } catch (const std::exception& e) {
    return base::OneLine(e.what());
  }
}

long long PgSession::TimeoutToSet(const agent::CollectContext& ctx, QueryError* error) const {
  const long long remaining = ctx.Remaining().count();
  if (remaining <= 0 || ctx.Cancelled()) {
    *error = QueryError{false, "", "collection deadline reached"};
    return -1;
  }
  // The server must cancel a statement before the collection's deadline. Changing the
  // setting costs a statement, so it only moves when it is off by more than the slack: at most
  // a few times in a collection that runs late, never in a normal one.
  const long long configured = configured_timeout_ms_ > 0 ? configured_timeout_ms_ : remaining;
  const long long want = std::min(configured, remaining);
  const long long slack = std::max<long long>(100, configured / 10);
  if (current_timeout_ms_ < 0 || current_timeout_ms_ > remaining + slack ||
      current_timeout_ms_ < want - slack) {
    return want;
  }
  return -1;
}

Expected<pqxx::result, QueryError> PgSession::Run(const std::string* name, const std::string& sql,
                                                  const agent::CollectContext& ctx) {
  if (!lost_ && !conn_->is_open()) lost_ = true;  // broken during the previous statement
  if (lost_) return QueryError{true, "", "connection to the server lost"};
  QueryError deadline;
  const long long timeout = TimeoutToSet(ctx, &deadline);
  if (!deadline.message.empty()) return deadline;
  const std::string set =
      timeout >= 0 ? "SET statement_timeout = " + std::to_string(timeout) : std::string();
  try {
    pqxx::result r;
    if (name == nullptr) {
      // The SET rides in the same round trip.
      pqxx::nontransaction tx(*conn_);
      r = tx.exec(set.empty() ? sql : set + "; " + sql);
    } else {
      if (!set.empty()) {
        pqxx::nontransaction tx(*conn_);
        tx.exec(set);
      }
      auto it = prepared_.find(*name);
      if (it == prepared_.end() || it->second != sql) {
        // New, or its SQL changed (columns rediscovered after ALTER EXTENSION ... UPDATE).
        if (it != prepared_.end()) {
          conn_->unprepare(*name);
          prepared_.erase(it);
        }
        conn_->prepare(*name, sql);
        prepared_[*name] = sql;
      }
      pqxx::nontransaction tx(*conn_);
      r = tx.exec_prepared(*name);
    }
    if (timeout >= 0) current_timeout_ms_ = timeout;
    return r;
  } catch (const pqxx::broken_connection& e) {
    lost_ = true;
    return QueryError{true, "", base::OneLine(e.what())};
  } catch (const pqxx::sql_error& e) {
    current_timeout_ms_ = -1;
    if (!conn_->is_open() || (watchdog_ != nullptr && watchdog_->fired())) lost_ = true;
    return QueryError{lost_, e.sqlstate(), base::OneLine(e.what())};
  } catch (const std::exception& e) {
    current_timeout_ms_ = -1;
    if (!conn_->is_open() || (watchdog_ != nullptr && watchdog_->fired())) lost_ = true;
    return QueryError{lost_, "", base::OneLine(e.what())};
  }
}

Expected<pqxx::result, QueryError> PgSession::Query(const std::string& sql,
                                                    const agent::CollectContext& ctx) {
  return Run(nullptr, sql, ctx);
}

Expected<pqxx::result, QueryError> PgSession::QueryPrepared(const std::string& name,
                                                            const std::string& sql,
                                                            const agent::CollectContext& ctx) {
  return Run(&name, sql, ctx);
}

std::string PgSession::Quote(std::string_view value) { return conn_->quote(std::string(value)); }

std::string PgSession::QuoteName(std::string_view identifier) {
  return conn_->quote_name(std::string(identifier));
}

std::optional<pqxx::result> RunQuery(PgSession& session, std::string_view name,
                                     const std::string& sql, const agent::CollectContext& ctx,
                                     QueryStats& stats, std::string* last_error, bool prepared) {
  const auto start = std::chrono::steady_clock::now();
  auto result = prepared ? session.QueryPrepared("tacho_" + std::string(name), sql, ctx)
                         : session.Query(sql, ctx);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.last_duration_seconds[std::string(name)] = seconds;
  if (!result.ok()) {
    ++stats.errors_total[std::string(name)];
    if (last_error != nullptr) *last_error = std::string(name) + ": " + result.error().message;
    return std::nullopt;
  }
  return std::move(result).value();
}

std::optional<double> FieldDouble(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  const char* s = f.c_str();
  const char* end = s + f.size();
  double v = 0;
  auto [p, ec] = std::from_chars(s, end, v);
  if (ec == std::errc()) return v;
  // "t"/"f" booleans, "NaN", "Infinity"
  if (f.size() == 1 && (*s == 't' || *s == 'f')) return *s == 't' ? 1.0 : 0.0;
  return std::nullopt;
}

double FieldDouble(const pqxx::field& f, double fallback) {
  return FieldDouble(f).value_or(fallback);
}

std::optional<long long> FieldInt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  const char* s = f.c_str();
  long long v = 0;
  auto [p, ec] = std::from_chars(s, s + f.size(), v);
  if (ec != std::errc()) return std::nullopt;
  return v;
}

bool FieldBool(const pqxx::field& f) {
  if (f.is_null() || f.size() == 0) return false;
  const char c = f.c_str()[0];
  return c == 't' || c == 'T' || c == '1' || c == 'y';
}

std::string FieldString(const pqxx::field& f) {
  if (f.is_null()) return "";
  return std::string(f.c_str(), f.size());
}

int ColumnIndex(const pqxx::result& r, const char* name) {
  for (pqxx::row::size_type i = 0; i < r.columns(); ++i) {
    if (std::string_view(r.column_name(i)) == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace tacho::collectors::postgres
