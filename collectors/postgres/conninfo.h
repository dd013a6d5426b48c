// Connection strings: the user's `dsn` (a libpq keyword/value string or a postgresql:// URI)
// merged with the settings tacho puts on every session, so that a reconnect gets them again.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace tacho::collectors::postgres {

// libpq keyword -> value, in the order libpq lists its keywords.
using ConnParams = std::vector<std::pair<std::string, std::string>>;

// What tacho adds to every session.
struct SessionSettings {
  std::string application_name = "tacho";  // used unless the dsn sets one
  // Used unless the dsn sets one: the server then converts names from the database's encoding
  // (LATIN1 "tablé" arrives as UTF-8); label values must be UTF-8.
  std::string client_encoding = "UTF8";
  int connect_timeout_seconds = 5;     // unless the dsn sets one; libpq treats < 2 as 2
  long long statement_timeout_ms = 0;  // 0: not set
  long long lock_timeout_ms = 0;       // 0: not set
  std::string password;                // from the secret key; overrides the dsn's
  std::string dbname;                  // overrides the dsn's (per-database connections)
};

// Parses a dsn with libpq's own parser (PQconninfoParse), so every form libpq accepts works:
//   "host=db1 port=5432 user=tacho dbname=app"
//   "postgresql://tacho@db1:5432/app?sslmode=require"
// The error never contains the dsn's values (it may hold a password).
Expected<ConnParams, std::string> ParseDsn(std::string_view dsn);

// The keyword/value connection string for one session: the dsn's parameters with
// application_name, client_encoding, connect_timeout, password and dbname applied, and
// "-c statement_timeout=..ms -c lock_timeout=..ms" appended to `options` unless the dsn's
// options already set them.
std::string BuildConnInfo(const ConnParams& params, const SessionSettings& settings);

// A value quoted for a keyword/value string: 'it\'s'.
std::string QuoteConnValue(std::string_view value);

// The dsn's dbname (libpq's default is the user name; empty if neither is set).
std::string DsnDatabase(const ConnParams& params);

// "host:port/dbname" for messages; never includes a password.
std::string DescribeTarget(const ConnParams& params, std::string_view dbname = {});

}  // namespace tacho::collectors::postgres
