// Per-database table and index statistics, each capped at its top K.
//
// Catalog queries never queue behind DDL: relations on which an AccessExclusiveLock is granted
// are skipped, sizes are relpages times block_size (the estimate VACUUM and ANALYZE maintain)
// rather than pg_relation_size(), which takes a lock, and the session's lock_timeout bounds any
// wait that might remain.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "collectors/postgres/cycle.h"

namespace tacho::collectors::postgres {

// The top `top_k` tables of the session's database by rows read and written (sequential and
// index reads, inserts, updates, deletes), with a `total` column counting all of them.
// Prepared; nullopt when the query failed.
std::optional<pqxx::result> QueryTables(PgSession& s, Cycle& c, const ServerFacts& facts,
                                        std::size_t top_k);
// pg_stat_user_tables_* from a (possibly cached) QueryTables() result. Returns the number of
// tables the cap left out.
std::size_t EmitTables(Cycle& c, const std::string& datname, const pqxx::result& r,
                       std::size_t top_k);

// The top `top_k` indexes by size.
std::optional<pqxx::result> QueryIndexes(PgSession& s, Cycle& c, const ServerFacts& facts,
                                         std::size_t top_k);
// pg_stat_user_indexes_*, pg_index_size_bytes and pg_index_properties.
std::size_t EmitIndexes(Cycle& c, const std::string& datname, const pqxx::result& r,
                        std::size_t top_k);

// The SQL, exposed for tests.
std::string TablesQuery(const ServerFacts& facts, std::size_t top_k);
std::string IndexesQuery(const ServerFacts& facts, std::size_t top_k);

}  // namespace tacho::collectors::postgres
