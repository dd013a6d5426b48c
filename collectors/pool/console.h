// One connection to PgBouncer's admin console (the virtual database "pgbouncer").
//
// The console speaks only the simple query protocol and accepts only its own commands (SHOW,
// no BEGIN, no SET), so this is plain libpq: PQsendQuery and non-blocking reads bounded by the
// collection's deadline, never libpqxx's transactions or prepared statements.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "base/status.h"
#include "collectors/pool/pgbouncer_show.h"

struct pg_conn;

namespace tacho::collectors::pool {

// Not thread-safe: used by the collection thread only.
class ConsoleConnection {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // Connects without blocking past `deadline` (libpq's non-blocking connect, polled). The error
  // never contains the password.
  static Expected<std::unique_ptr<ConsoleConnection>, std::string> Open(const std::string& conninfo,
                                                                        Deadline deadline);
  ~ConsoleConnection();
  ConsoleConnection(const ConsoleConnection&) = delete;
  ConsoleConnection& operator=(const ConsoleConnection&) = delete;

  // Runs one console command and returns its (last) result set. An error the console reports
  // keeps the connection; a timeout or a broken socket marks it lost().
  Expected<ShowTable, std::string> Show(const std::string& command, Deadline deadline);

  bool lost() const { return lost_; }

 private:
  explicit ConsoleConnection(pg_conn* conn) : conn_(conn) {}
  // Waits until the socket is readable (or writable), or the deadline passes.
  bool Wait(bool for_write, Deadline deadline);

  pg_conn* conn_;
  bool lost_ = false;
};

}  // namespace tacho::collectors::pool
