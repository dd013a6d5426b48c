#include "collectors/pool/console.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>

#include "base/text.h"

namespace tacho::collectors::pool {

namespace {

std::string ConnError(PGconn* conn) {
  return base::OneLine(conn != nullptr ? PQerrorMessage(conn) : "out of memory");
}

// Holds a PGresult until the next one replaces it.
struct ResultHolder {
  PGresult* result = nullptr;
  ~ResultHolder() { PQclear(result); }
  void Reset(PGresult* r) {
    PQclear(result);
    result = r;
  }
};

ShowTable ToTable(const PGresult* r) {
  ShowTable t;
  const int columns = PQnfields(r);
  const int rows = PQntuples(r);
  t.columns.reserve(static_cast<std::size_t>(columns));
  for (int c = 0; c < columns; ++c) t.columns.emplace_back(PQfname(r, c));
  t.rows.resize(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    auto& row = t.rows[static_cast<std::size_t>(i)];
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(r, i, c) != 0) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(
            std::string(PQgetvalue(r, i, c), static_cast<std::size_t>(PQgetlength(r, i, c))));
      }
    }
  }
  return t;
}

}  // namespace

bool ConsoleConnection::Wait(bool for_write, Deadline deadline) {
  const int fd = PQsocket(conn_);
  if (fd < 0) return false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

Expected<std::unique_ptr<ConsoleConnection>, std::string> ConsoleConnection::Open(
    const std::string& conninfo, Deadline deadline) {
  PGconn* conn = PQconnectStart(conninfo.c_str());
  if (conn == nullptr) return std::string("out of memory");
  std::unique_ptr<ConsoleConnection> c(new ConsoleConnection(conn));
  if (PQstatus(conn) == CONNECTION_BAD) return ConnError(conn);
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED) return ConnError(conn);
    if (!c->Wait(state == PGRES_POLLING_WRITING, deadline)) {
      return std::string("timed out connecting to the admin console");
    }
    state = PQconnectPoll(conn);
  }
  if (PQsetnonblocking(conn, 1) != 0) return ConnError(conn);
  return c;
}

ConsoleConnection::~ConsoleConnection() { PQfinish(conn_); }

Expected<ShowTable, std::string> ConsoleConnection::Show(const std::string& command,
                                                         Deadline deadline) {
  if (lost_) return std::string("connection lost");
  auto fail = [this](std::string message) {
    lost_ = true;
    return Expected<ShowTable, std::string>(std::move(message));
  };
  if (PQsendQuery(conn_, command.c_str()) == 0) return fail(ConnError(conn_));
  // Flush the query (non-blocking mode).
  for (;;) {
    const int f = PQflush(conn_);
    if (f == 0) break;
    if (f < 0 || !Wait(true, deadline)) return fail("timed out sending " + command);
  }
  ResultHolder last;
  std::string error;
  for (;;) {
    while (PQisBusy(conn_) != 0) {
      if (!Wait(false, deadline)) return fail("timed out waiting for " + command);
      if (PQconsumeInput(conn_) == 0) return fail(ConnError(conn_));
    }
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) break;
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      last.Reset(r);
    } else {
      if (error.empty()) error = base::OneLine(PQresultErrorMessage(r));
      PQclear(r);
    }
  }
  if (PQstatus(conn_) == CONNECTION_BAD) return fail(ConnError(conn_));
  if (!error.empty()) return error;
  if (last.result == nullptr) return std::string("no result for " + command);
  return ToTable(last.result);
}

}  // namespace tacho::collectors::pool
