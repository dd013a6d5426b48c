#include "collectors/pool/pgbouncer_show.h"

#include <charconv>
#include <cmath>
#include <initializer_list>
#include <unordered_map>

namespace tacho::collectors::pool {
namespace {

// Column indexes of one table by name, with aliases for columns renamed between versions.
class Columns {
 public:
  explicit Columns(const ShowTable& table) {
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      index_.emplace(table.columns[i], i);  // a duplicate name keeps its first column
    }
  }

  // The index of the first of `names` present, or -1.
  long Find(std::initializer_list<const char*> names) const {
    for (const char* name : names) {
      auto it = index_.find(name);
      if (it != index_.end()) return static_cast<long>(it->second);
    }
    return -1;
  }

 private:
  std::unordered_map<std::string, std::size_t> index_;
};

using Row = std::vector<std::optional<std::string>>;

// A cell; a short row (fewer cells than columns) reads as NULL.
const std::optional<std::string>* Cell(const Row& row, long index) {
  if (index < 0 || static_cast<std::size_t>(index) >= row.size()) return nullptr;
  return &row[static_cast<std::size_t>(index)];
}

std::optional<double> Number(const Row& row, long index) {
  const auto* cell = Cell(row, index);
  return cell ? ParseCell(*cell) : std::nullopt;
}

std::optional<std::string> Text(const Row& row, long index) {
  const auto* cell = Cell(row, index);
  return cell ? *cell : std::nullopt;
}

std::string Name(const Row& row, long index) { return Text(row, index).value_or(""); }

}  // namespace

std::optional<double> ParseNumber(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<double> ParseCell(const std::optional<std::string>& cell) {
  if (!cell) return std::nullopt;
  return ParseNumber(std::string_view(*cell));
}

std::optional<std::string> ParseVersionString(const ShowTable& table) {
  const long col = Columns(table).Find({"version"});
  for (const auto& row : table.rows) {
    if (auto text = Text(row, col)) return text;
  }
  return std::nullopt;
}

std::optional<PgbouncerVersion> ParseVersionNumber(std::string_view text) {
  auto digits = [&](std::size_t& i, int& out) {
    const char* begin = text.data() + i;
    auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), out);
    if (ec != std::errc() || ptr == begin) return false;
    i += static_cast<std::size_t>(ptr - begin);
    return true;
  };
  for (std::size_t start = 0; start < text.size(); ++start) {
    if (text[start] < '0' || text[start] > '9') continue;
    if (start > 0 && text[start - 1] >= '0' && text[start - 1] <= '9') continue;
    PgbouncerVersion v;
    std::size_t i = start;
    if (!digits(i, v.major) || i >= text.size() || text[i] != '.') continue;
    ++i;
    if (!digits(i, v.minor)) continue;
    if (i < text.size() && text[i] == '.') {
      std::size_t j = i + 1;
      if (digits(j, v.patch)) i = j;
    }
    return v;
  }
  return std::nullopt;
}

std::vector<PoolRow> ParsePools(const ShowTable& table) {
  const Columns c(table);
  const long database = c.Find({"database"}), user = c.Find({"user"});
  const long cl_active = c.Find({"cl_active"}), cl_waiting = c.Find({"cl_waiting"});
  const long cl_active_cancel = c.Find({"cl_active_cancel_req"});
  const long cl_waiting_cancel = c.Find({"cl_waiting_cancel_req", "cl_cancel_req"});
  const long sv_active = c.Find({"sv_active"}), sv_active_cancel = c.Find({"sv_active_cancel"});
  const long sv_being_canceled = c.Find({"sv_being_canceled"});
  const long sv_idle = c.Find({"sv_idle"}), sv_used = c.Find({"sv_used"});
  const long sv_tested = c.Find({"sv_tested"}), sv_login = c.Find({"sv_login"});
  const long maxwait = c.Find({"maxwait"}), maxwait_us = c.Find({"maxwait_us"});
  const long pool_mode = c.Find({"pool_mode"});
  const long load_balance = c.Find({"load_balance_hosts"});

  std::vector<PoolRow> out;
  out.reserve(table.rows.size());
  for (const auto& row : table.rows) {
    PoolRow p;
    p.database = Name(row, database);
    p.user = Name(row, user);
    p.cl_active = Number(row, cl_active);
    p.cl_waiting = Number(row, cl_waiting);
    p.cl_active_cancel_req = Number(row, cl_active_cancel);
    p.cl_waiting_cancel_req = Number(row, cl_waiting_cancel);
    p.sv_active = Number(row, sv_active);
    p.sv_active_cancel = Number(row, sv_active_cancel);
    p.sv_being_canceled = Number(row, sv_being_canceled);
    p.sv_idle = Number(row, sv_idle);
    p.sv_used = Number(row, sv_used);
    p.sv_tested = Number(row, sv_tested);
    p.sv_login = Number(row, sv_login);
    const auto seconds = Number(row, maxwait);
    const auto micros = Number(row, maxwait_us);
    if (seconds || micros) p.maxwait_seconds = seconds.value_or(0) + micros.value_or(0) / 1e6;
    p.pool_mode = Text(row, pool_mode);
    p.load_balance_hosts = Text(row, load_balance);
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<StatsRow> ParseStats(const ShowTable& table) {
  const Columns c(table);
  const long database = c.Find({"database"});
  const long total_assign = c.Find({"total_server_assignment_count"});
  const long total_xact = c.Find({"total_xact_count"});
  const long total_query = c.Find({"total_query_count"});
  const long total_requests = c.Find({"total_requests"});
  const long total_received = c.Find({"total_received"});
  const long total_sent = c.Find({"total_sent"});
  const long total_xact_time = c.Find({"total_xact_time"});
  const long total_query_time = c.Find({"total_query_time"});
  const long total_wait_time = c.Find({"total_wait_time"});
  const long total_client_parse = c.Find({"total_client_parse_count"});
  const long total_server_parse = c.Find({"total_server_parse_count"});
  const long total_bind = c.Find({"total_bind_count"});
  const long avg_assign = c.Find({"avg_server_assignment_count"});
  const long avg_xact = c.Find({"avg_xact_count"});
  const long avg_query = c.Find({"avg_query_count", "avg_req"});
  const long avg_recv = c.Find({"avg_recv"});
  const long avg_sent = c.Find({"avg_sent"});
  const long avg_xact_time = c.Find({"avg_xact_time"});
  const long avg_query_time = c.Find({"avg_query_time", "avg_query"});
  const long avg_wait_time = c.Find({"avg_wait_time"});

  std::vector<StatsRow> out;
  out.reserve(table.rows.size());
  for (const auto& row : table.rows) {
    StatsRow s;
    s.database = Name(row, database);
    s.total_server_assignment_count = Number(row, total_assign);
    s.total_xact_count = Number(row, total_xact);
    s.total_query_count = Number(row, total_query);
    s.total_requests = Number(row, total_requests);
    s.total_received = Number(row, total_received);
    s.total_sent = Number(row, total_sent);
    s.total_xact_time_us = Number(row, total_xact_time);
    s.total_query_time_us = Number(row, total_query_time);
    s.total_wait_time_us = Number(row, total_wait_time);
    s.total_client_parse_count = Number(row, total_client_parse);
    s.total_server_parse_count = Number(row, total_server_parse);
    s.total_bind_count = Number(row, total_bind);
    s.avg_server_assignment_count = Number(row, avg_assign);
    s.avg_xact_count = Number(row, avg_xact);
    s.avg_query_count = Number(row, avg_query);
    s.avg_recv = Number(row, avg_recv);
    s.avg_sent = Number(row, avg_sent);
    s.avg_xact_time_us = Number(row, avg_xact_time);
    s.avg_query_time_us = Number(row, avg_query_time);
    s.avg_wait_time_us = Number(row, avg_wait_time);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<DatabaseRow> ParseDatabases(const ShowTable& table) {
  const Columns c(table);
  const long name = c.Find({"name"}), host = c.Find({"host"}), port = c.Find({"port"});
  const long database = c.Find({"database"}), force_user = c.Find({"force_user"});
  const long pool_mode = c.Find({"pool_mode"});
  const long load_balance = c.Find({"load_balance_hosts"});
  const long pool_size = c.Find({"pool_size"}), min_pool_size = c.Find({"min_pool_size"});
  const long reserve = c.Find({"reserve_pool_size", "reserve_pool"});
  const long server_lifetime = c.Find({"server_lifetime"});
  const long max_connections = c.Find({"max_connections"});
  const long current_connections = c.Find({"current_connections"});
  const long max_client = c.Find({"max_client_connections"});
  const long current_client = c.Find({"current_client_connections"});
  const long paused = c.Find({"paused"}), disabled = c.Find({"disabled"});

  std::vector<DatabaseRow> out;
  out.reserve(table.rows.size());
  for (const auto& row : table.rows) {
    DatabaseRow d;
    d.name = Name(row, name);
    d.host = Text(row, host);
    d.port = Text(row, port);
    d.database = Text(row, database);
    d.force_user = Text(row, force_user);
    d.pool_mode = Text(row, pool_mode);
    d.load_balance_hosts = Text(row, load_balance);
    d.pool_size = Number(row, pool_size);
    d.min_pool_size = Number(row, min_pool_size);
    d.reserve_pool = Number(row, reserve);
    d.server_lifetime_seconds = Number(row, server_lifetime);
    d.max_connections = Number(row, max_connections);
    d.current_connections = Number(row, current_connections);
    d.max_client_connections = Number(row, max_client);
    d.current_client_connections = Number(row, current_client);
    d.paused = Number(row, paused);
    d.disabled = Number(row, disabled);
    out.push_back(std::move(d));
  }
  return out;
}

std::optional<double> PgbouncerConfig::Number(const std::string& key) const {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  return ParseCell(it->second);
}

PgbouncerConfig ParseConfig(const ShowTable& table) {
  const Columns c(table);
  const long key = c.Find({"key"}), value = c.Find({"value"});
  PgbouncerConfig config;
  if (key < 0) return config;
  for (const auto& row : table.rows) {
    auto k = Text(row, key);
    if (!k) continue;
    config.values.emplace(std::move(*k), Text(row, value));
  }
  return config;
}

std::map<std::string, double> ParseLists(const ShowTable& table) {
  const Columns c(table);
  const long list = c.Find({"list"}), items = c.Find({"items"});
  std::map<std::string, double> out;
  if (list < 0) return out;
  for (const auto& row : table.rows) {
    auto name = Text(row, list);
    auto value = Number(row, items);
    if (name && value) out.emplace(std::move(*name), *value);
  }
  return out;
}

}  // namespace tacho::collectors::pool
