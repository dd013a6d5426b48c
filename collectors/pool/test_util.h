// Helpers shared by the pool collectors' tests: psql --csv fixtures and sample lookups.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "agent/metric_sink.h"
#include "agent/metric_sink_test_util.h"
#include "base/test_files.h"
#include "collectors/pool/pgbouncer_show.h"

namespace tacho::collectors::pool::testutil {

// A captured application endpoint under collectors/pool/testdata/app/ (tests run from the
// source root).
inline std::string AppFixture(const std::string& name) {
  return base::testing::ReadTestFile("collectors/pool/testdata/app/" + name);
}

// Parses `psql --csv` output: RFC 4180 (quoted fields may hold commas, quotes as "" and line
// breaks), the first record is the header. An unquoted empty field is SQL NULL; a quoted one
// ("") is the empty string.
inline ShowTable ParseCsv(const std::string& text) {
  std::vector<std::vector<std::optional<std::string>>> records;
  std::vector<std::optional<std::string>> record;
  std::string field;
  bool quoted = false;     // the current field was quoted
  bool in_quotes = false;  // inside its quotes now
  bool any = false;        // the current record has started
  auto end_field = [&] {
    if (quoted || !field.empty()) {
      record.emplace_back(field);
    } else {
      record.emplace_back(std::nullopt);
    }
    field.clear();
    quoted = false;
  };
  auto end_record = [&] {
    end_field();
    records.push_back(std::move(record));
    record.clear();
    any = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (in_quotes) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        in_quotes = false;
      } else {
        field += ch;
      }
      continue;
    }
    if (ch == '"') {
      in_quotes = quoted = any = true;
    } else if (ch == ',') {
      end_field();
      any = true;
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any) end_record();
    } else {
      field += ch;
      any = true;
    }
  }
  if (any) end_record();

  ShowTable table;
  if (records.empty()) return table;
  for (auto& name : records.front()) table.columns.push_back(name.value_or(""));
  table.rows.assign(records.begin() + 1, records.end());
  return table;
}

// Tests run with the source tree as working directory (tacho_add_test).
inline std::optional<ShowTable> LoadShow(const std::string& version, const std::string& name) {
  auto text = base::testing::ReadFileIfExists("collectors/pool/testdata/pgbouncer-" + version +
                                              "/" + name + ".csv");
  if (!text) return std::nullopt;
  return ParseCsv(*text);
}

// All six SHOW results of one fixture directory; each must exist.
inline PgbouncerReadings LoadReadings(const std::string& version) {
  PgbouncerReadings r;
  std::pair<const char*, std::optional<ShowTable>*> files[] = {
      {"version", &r.version},     {"pools", &r.pools},   {"stats", &r.stats},
      {"databases", &r.databases}, {"config", &r.config}, {"lists", &r.lists}};
  for (auto& [name, slot] : files) {
    *slot = LoadShow(version, name);
    EXPECT_TRUE(slot->has_value()) << "missing fixture pgbouncer-" << version << "/" << name;
  }
  return r;
}

using agent::testutil::Samples;

}  // namespace tacho::collectors::pool::testutil
