// Configuration declared as data. Each collector kind (and the [agent] table) declares its keys
// once; the loader derives defaults, validation, error messages and the sample config from it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tacho::config {

// An element of a table list as a loadable sample shows it.
struct TableExample {
  std::string description;
  std::vector<std::string> lines;  // TOML key lines, such as "comm = [\"postgres\"]"
  bool commented = false;          // shown as an example to uncomment
};

enum class Type {
  kString,
  kInt,
  kFloat,
  kBool,
  kDuration,    // a string such as "15s", "1m30s", "250ms", "2h"
  kStringList,  // ["a", "b"]
  kStringMap,   // { key = "value" } (an inline or sub-table of strings)
  kTableList,   // [[parent.key]] array of tables, each validated against `fields`
};

const char* TypeName(Type type);

struct KeySpec {
  // Dotted names ("statements.top_k") are accepted both as dotted keys and as sub-tables.
  std::string name = {};
  Type type = Type::kString;
  // The default as a TOML literal, exactly as the sample config shows it: "\"15s\"", "100",
  // "[\"*\"]", "true". Empty: no default (the key is optional and absent, or required).
  std::string default_value = {};
  std::string description = {};
  bool required = false;
  // Secret keys also accept <name>_file (read, trailing newline stripped) and <name>_env. Their
  // values are registered with the log redactor and never printed.
  bool secret = false;
  // kString: when non-empty, the only accepted values.
  std::vector<std::string> allowed = {};
  // kInt / kFloat: inclusive bounds.
  std::optional<double> min = std::nullopt;
  std::optional<double> max = std::nullopt;
  // kTableList: the schema of each element.
  std::vector<KeySpec> fields = {};
  // Shown in the sample config as a commented example when there is no default.
  std::string example = {};
  // kTableList: the elements the loadable sample of the kind (collectors/<kind>/sample.toml)
  // sets, after the commented reference element.
  std::vector<TableExample> examples = {};
};

using Schema = std::vector<KeySpec>;

}  // namespace tacho::config
