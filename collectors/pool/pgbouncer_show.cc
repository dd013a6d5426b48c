#include "collectors/pool/pgbouncer_show.h"

#include <array>
#include <charconv>
#include <cmath>
#include <span>
#include <type_traits>
#include <unordered_map>
#include <variant>

namespace tacho::collectors::pool {
namespace {

using ColumnNames = std::array<const char*, 2>;

// Column indexes of one table by name, with aliases for columns renamed between versions.
class Columns {
 public:
  explicit Columns(const ShowTable& table) {
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      index_.emplace(table.columns[i], i);  // a duplicate name keeps its first column
    }
  }

  // The index of the first of `names` present, or -1. A column renamed between versions lists
  // its current name first; unused entries are nullptr.
  long Find(const ColumnNames& names) const {
    for (const char* name : names) {
      if (name == nullptr) continue;
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

// One column of a SHOW result and the row field its cells fill: text (NULL reads as "" for a
// std::string field) or a number.
template <class RowT>
struct ColumnField {
  ColumnNames names;
  std::variant<std::string RowT::*, std::optional<std::string> RowT::*,
               std::optional<double> RowT::*>
      field;
};

// One RowT per table row, each field filled from its column; absent columns leave it empty.
template <class RowT>
std::vector<RowT> ParseRows(const ShowTable& table, std::span<const ColumnField<RowT>> columns) {
  const Columns c(table);
  std::vector<long> index;
  index.reserve(columns.size());
  for (const auto& column : columns) index.push_back(c.Find(column.names));
  std::vector<RowT> out;
  out.reserve(table.rows.size());
  for (const auto& row : table.rows) {
    RowT& parsed = out.emplace_back();
    for (std::size_t i = 0; i < columns.size(); ++i) {
      std::visit(
          [&](auto field) {
            auto& target = parsed.*field;
            using Target = std::remove_reference_t<decltype(target)>;
            if constexpr (std::is_same_v<Target, std::string>) {
              target = Name(row, index[i]);
            } else if constexpr (std::is_same_v<Target, std::optional<std::string>>) {
              target = Text(row, index[i]);
            } else {
              target = Number(row, index[i]);
            }
          },
          columns[i].field);
    }
  }
  return out;
}

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
  static const ColumnField<PoolRow> kColumns[] = {
      {{"database"}, &PoolRow::database},
      {{"user"}, &PoolRow::user},
      {{"cl_active"}, &PoolRow::cl_active},
      {{"cl_waiting"}, &PoolRow::cl_waiting},
      {{"cl_active_cancel_req"}, &PoolRow::cl_active_cancel_req},
      {{"cl_waiting_cancel_req", "cl_cancel_req"}, &PoolRow::cl_waiting_cancel_req},
      {{"sv_active"}, &PoolRow::sv_active},
      {{"sv_active_cancel"}, &PoolRow::sv_active_cancel},
      {{"sv_being_canceled"}, &PoolRow::sv_being_canceled},
      {{"sv_idle"}, &PoolRow::sv_idle},
      {{"sv_used"}, &PoolRow::sv_used},
      {{"sv_tested"}, &PoolRow::sv_tested},
      {{"sv_login"}, &PoolRow::sv_login},
      {{"pool_mode"}, &PoolRow::pool_mode},
      {{"load_balance_hosts"}, &PoolRow::load_balance_hosts},
  };
  std::vector<PoolRow> out = ParseRows<PoolRow>(table, kColumns);
  const Columns c(table);
  const long maxwait = c.Find({"maxwait"}), maxwait_us = c.Find({"maxwait_us"});
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto seconds = Number(table.rows[i], maxwait);
    const auto micros = Number(table.rows[i], maxwait_us);
    if (seconds || micros) out[i].maxwait_seconds = seconds.value_or(0) + micros.value_or(0) / 1e6;
  }
  return out;
}

std::vector<StatsRow> ParseStats(const ShowTable& table) {
  static const ColumnField<StatsRow> kColumns[] = {
      {{"database"}, &StatsRow::database},
      {{"total_server_assignment_count"}, &StatsRow::total_server_assignment_count},
      {{"total_xact_count"}, &StatsRow::total_xact_count},
      {{"total_query_count"}, &StatsRow::total_query_count},
      {{"total_requests"}, &StatsRow::total_requests},
      {{"total_received"}, &StatsRow::total_received},
      {{"total_sent"}, &StatsRow::total_sent},
      {{"total_xact_time"}, &StatsRow::total_xact_time_us},
      {{"total_query_time"}, &StatsRow::total_query_time_us},
      {{"total_wait_time"}, &StatsRow::total_wait_time_us},
      {{"total_client_parse_count"}, &StatsRow::total_client_parse_count},
      {{"total_server_parse_count"}, &StatsRow::total_server_parse_count},
      {{"total_bind_count"}, &StatsRow::total_bind_count},
      {{"avg_server_assignment_count"}, &StatsRow::avg_server_assignment_count},
      {{"avg_xact_count"}, &StatsRow::avg_xact_count},
      {{"avg_query_count", "avg_req"}, &StatsRow::avg_query_count},
      {{"avg_recv"}, &StatsRow::avg_recv},
      {{"avg_sent"}, &StatsRow::avg_sent},
      {{"avg_xact_time"}, &StatsRow::avg_xact_time_us},
      {{"avg_query_time", "avg_query"}, &StatsRow::avg_query_time_us},
      {{"avg_wait_time"}, &StatsRow::avg_wait_time_us},
  };
  return ParseRows<StatsRow>(table, kColumns);
}

std::vector<DatabaseRow> ParseDatabases(const ShowTable& table) {
  static const ColumnField<DatabaseRow> kColumns[] = {
      {{"name"}, &DatabaseRow::name},
      {{"host"}, &DatabaseRow::host},
      {{"port"}, &DatabaseRow::port},
      {{"database"}, &DatabaseRow::database},
      {{"force_user"}, &DatabaseRow::force_user},
      {{"pool_mode"}, &DatabaseRow::pool_mode},
      {{"load_balance_hosts"}, &DatabaseRow::load_balance_hosts},
      {{"pool_size"}, &DatabaseRow::pool_size},
      {{"min_pool_size"}, &DatabaseRow::min_pool_size},
      {{"reserve_pool_size", "reserve_pool"}, &DatabaseRow::reserve_pool},
      {{"server_lifetime"}, &DatabaseRow::server_lifetime_seconds},
      {{"max_connections"}, &DatabaseRow::max_connections},
      {{"current_connections"}, &DatabaseRow::current_connections},
      {{"max_client_connections"}, &DatabaseRow::max_client_connections},
      {{"current_client_connections"}, &DatabaseRow::current_client_connections},
      {{"paused"}, &DatabaseRow::paused},
      {{"disabled"}, &DatabaseRow::disabled},
  };
  return ParseRows<DatabaseRow>(table, kColumns);
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
