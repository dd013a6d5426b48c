// The TOML loader: validates a document against the declared schemas.
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "config/config.h"

namespace tacho::config {

namespace {

constexpr std::string_view kFileSuffix = "_file";
constexpr std::string_view kEnvSuffix = "_env";

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

const char* NodeTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

std::string FormatNumber(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

class Loader {
 public:
  Loader(std::string file, std::vector<std::string>* secrets)
      : file_(std::move(file)), secrets_(secrets) {}

  Position Pos(const toml::source_region& r) const {
    return Position{file_, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
  }

  // Validates `table` against `schema` into `out`. `context` names the table in messages, such
  // as "[[collectors.process]] 'db'"; `path` is its TOML path for nested table lists.
  std::optional<Error> LoadTable(const toml::table& table, const Schema& schema,
                                 const std::string& context, const std::string& path,
                                 Section& out) {
    out.SetPosition(Pos(table.source()));
    std::set<std::string> seen;
    std::map<std::string, std::string> secret_forms;  // secret key -> the form that set it
    if (auto err = LoadEntries(table, schema, context, path, "", out, seen, secret_forms)) {
      return err;
    }
    for (const KeySpec& spec : schema) {
      if (seen.count(spec.name)) continue;
      if (spec.required) {
        return Error{out.position(), context + " is missing required key " + Quote(spec.name) +
                                         (spec.secret ? " (or " + Quote(spec.name + "_file") +
                                                            " or " + Quote(spec.name + "_env") + ")"
                                                      : "")};
      }
      Section::Value value;
      if (!spec.default_value.empty()) {
        auto parsed = ParseDefault(spec, context, path);
        if (!parsed) return parsed.error();
        value = std::move(parsed.value());
      }
      out.Set(spec.name, std::move(value), out.position(), false);
    }
    return std::nullopt;
  }

 private:
  std::optional<Error> LoadEntries(const toml::table& table, const Schema& schema,
                                   const std::string& context, const std::string& path,
                                   const std::string& prefix, Section& out,
                                   std::set<std::string>& seen,
                                   std::map<std::string, std::string>& secret_forms) {
    for (auto&& [k, node] : table) {
      const std::string full = prefix + std::string(k.str());
      const Position key_pos = Pos(k.source());
      if (const KeySpec* spec = FindSpec(schema, full)) {
        auto value = Convert(node, *spec, full, context, path);
        if (!value) return value.error();
        if (spec->secret) {
          if (auto used = secret_forms.find(full); used != secret_forms.end()) {
            return Error{key_pos, "set only one of " + Quote(full) + " and " + Quote(used->second) +
                                      " in " + context};
          }
          secret_forms[full] = full;
          if (const auto* s = std::get_if<std::string>(&value.value())) RecordSecret(*s);
        }
        out.Set(full, std::move(value.value()), key_pos, true);
        seen.insert(full);
        continue;
      }
      if (auto secret = SecretIndirection(schema, full)) {
        auto [spec, suffix] = *secret;
        if (auto used = secret_forms.find(spec->name); used != secret_forms.end()) {
          return Error{key_pos, "set only one of " + Quote(used->second) + " and " + Quote(full) +
                                    " in " + context};
        }
        if (!node.is_string()) {
          return Error{Pos(node.source()), Quote(full) + " in " + context +
                                               " must be a string, got " + NodeTypeName(node)};
        }
        const std::string ref = *node.value<std::string>();
        std::string value;
        if (suffix == kFileSuffix) {
          std::ifstream in(ref, std::ios::binary);
          if (!in) {
            return Error{Pos(node.source()), "cannot read " + Quote(full) + " " + Quote(ref) +
                                                 ": " + std::strerror(errno)};
          }
          std::stringstream buffer;
          buffer << in.rdbuf();
          value = buffer.str();
          while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
        } else {
          const char* env = std::getenv(ref.c_str());
          if (env == nullptr) {
            return Error{Pos(node.source()), "environment variable " + Quote(ref) + " named by " +
                                                 Quote(full) + " is not set"};
          }
          value = env;
        }
        RecordSecret(value);
        out.Set(spec->name, value, key_pos, true);
        seen.insert(spec->name);
        secret_forms[spec->name] = full;
        continue;
      }
      if (const toml::table* sub = node.as_table();
          sub != nullptr && HasPrefix(schema, full + ".")) {
        if (auto err =
                LoadEntries(*sub, schema, context, path, full + ".", out, seen, secret_forms)) {
          return err;
        }
        continue;
      }
      std::string message = "unknown key " + Quote(full) + " in " + context;
      std::string suggestion = Suggest(full, CandidateNames(schema));
      if (!suggestion.empty()) message += "; did you mean " + Quote(suggestion) + "?";
      return Error{key_pos, message};
    }
    return std::nullopt;
  }

  static const KeySpec* FindSpec(const Schema& schema, std::string_view name) {
    for (const KeySpec& spec : schema) {
      if (spec.name == name) return &spec;
    }
    return nullptr;
  }

  static bool HasPrefix(const Schema& schema, const std::string& prefix) {
    return std::any_of(schema.begin(), schema.end(),
                       [&](const KeySpec& s) { return s.name.rfind(prefix, 0) == 0; });
  }

  static std::optional<std::pair<const KeySpec*, std::string_view>> SecretIndirection(
      const Schema& schema, std::string_view full) {
    for (std::string_view suffix : {kFileSuffix, kEnvSuffix}) {
      if (full.size() > suffix.size() && full.substr(full.size() - suffix.size()) == suffix) {
        const KeySpec* spec = FindSpec(schema, full.substr(0, full.size() - suffix.size()));
        if (spec != nullptr && spec->secret) return std::make_pair(spec, suffix);
      }
    }
    return std::nullopt;
  }

  static std::vector<std::string> CandidateNames(const Schema& schema) {
    std::vector<std::string> names;
    for (const KeySpec& spec : schema) {
      names.push_back(spec.name);
      if (spec.secret) {
        names.push_back(spec.name + std::string(kFileSuffix));
        names.push_back(spec.name + std::string(kEnvSuffix));
      }
    }
    return names;
  }

  void RecordSecret(const std::string& value) {
    if (secrets_ != nullptr && !value.empty()) secrets_->push_back(value);
  }

  Expected<Section::Value, Error> ParseDefault(const KeySpec& spec, const std::string& context,
                                               const std::string& path) {
    toml::table parsed;
    try {
      parsed =
          toml::parse(std::string_view("v = " + spec.default_value), std::string_view("<default>"));
    } catch (const toml::parse_error& e) {
      throw std::logic_error("bad default for '" + spec.name +
                             "': " + std::string(e.description()));
    }
    return Convert(*parsed.get("v"), spec, spec.name, context, path);
  }

  Expected<Section::Value, Error> Convert(const toml::node& node, const KeySpec& spec,
                                          const std::string& key, const std::string& context,
                                          const std::string& path) {
    const Position pos = Pos(node.source());
    auto type_error = [&]() {
      return Error{pos, Quote(key) + " in " + context + " must be " + TypeName(spec.type) +
                            ", got " + NodeTypeName(node)};
    };
    switch (spec.type) {
      case Type::kString: {
        if (!node.is_string()) return type_error();
        std::string v = *node.value<std::string>();
        if (!spec.allowed.empty() &&
            std::find(spec.allowed.begin(), spec.allowed.end(), v) == spec.allowed.end()) {
          std::string list;
          for (const auto& a : spec.allowed) list += (list.empty() ? "" : ", ") + a;
          std::string message =
              Quote(key) + " in " + context + " must be one of " + list + "; got \"" + v + "\"";
          std::string suggestion = Suggest(v, spec.allowed);
          if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
          return Error{pos, message};
        }
        return Section::Value(std::move(v));
      }
      case Type::kInt: {
        if (!node.is_integer()) return type_error();
        std::int64_t v = *node.value<std::int64_t>();
        if (auto err = CheckRange(static_cast<double>(v), spec, key, context, pos)) return *err;
        return Section::Value(v);
      }
      case Type::kFloat: {
        if (!node.is_number()) return type_error();
        double v = *node.value<double>();
        if (auto err = CheckRange(v, spec, key, context, pos)) return *err;
        return Section::Value(v);
      }
      case Type::kBool:
        if (!node.is_boolean()) return type_error();
        return Section::Value(*node.value<bool>());
      case Type::kDuration: {
        if (!node.is_string()) return type_error();
        std::string text = *node.value<std::string>();
        auto d = ParseDuration(text);
        if (!d) {
          return Error{pos, "invalid duration \"" + text + "\" for " + Quote(key) + " in " +
                                context + ": " + d.error()};
        }
        return Section::Value(*d);
      }
      case Type::kStringList: {
        const toml::array* arr = node.as_array();
        if (arr == nullptr) return type_error();
        std::vector<std::string> out;
        for (const toml::node& el : *arr) {
          if (!el.is_string()) {
            return Error{Pos(el.source()), "elements of " + Quote(key) + " in " + context +
                                               " must be strings, got " + NodeTypeName(el)};
          }
          out.push_back(*el.value<std::string>());
        }
        return Section::Value(std::move(out));
      }
      case Type::kStringMap: {
        const toml::table* tbl = node.as_table();
        if (tbl == nullptr) return type_error();
        StringMap out;
        for (auto&& [k, v] : *tbl) {
          if (!v.is_string()) {
            return Error{Pos(v.source()), "values of " + Quote(key) + " in " + context +
                                              " must be strings, got " + NodeTypeName(v) + " for " +
                                              Quote(k.str())};
          }
          out.emplace(std::string(k.str()), *v.value<std::string>());
        }
        return Section::Value(std::move(out));
      }
      case Type::kTableList: {
        const toml::array* arr = node.as_array();
        if (arr == nullptr) {
          if (node.is_table()) {
            return Error{pos, Quote(key) + " in " + context +
                                  " must be an array of tables: write [[" + path + "." + key +
                                  "]]"};
          }
          return type_error();
        }
        std::vector<Section> out;
        const std::string child_path = path + "." + key;
        int index = 0;
        for (const toml::node& el : *arr) {
          ++index;
          const toml::table* tbl = el.as_table();
          if (tbl == nullptr) {
            return Error{Pos(el.source()), "elements of " + Quote(key) + " in " + context +
                                               " must be tables, got " + NodeTypeName(el)};
          }
          std::string label = "#" + std::to_string(index);
          if (auto name = (*tbl)["name"].value<std::string>()) label = Quote(*name);
          Section child;
          if (auto err =
                  LoadTable(*tbl, spec.fields, "[[" + child_path + "]] " + label + " of " + context,
                            child_path, child)) {
            return *err;
          }
          out.push_back(std::move(child));
        }
        return Section::Value(std::move(out));
      }
    }
    return type_error();
  }

  static std::optional<Error> CheckRange(double v, const KeySpec& spec, const std::string& key,
                                         const std::string& context, const Position& pos) {
    if ((spec.min && v < *spec.min) || (spec.max && v > *spec.max)) {
      std::string range;
      if (spec.min && spec.max) {
        range = "between " + FormatNumber(*spec.min) + " and " + FormatNumber(*spec.max);
      } else if (spec.min) {
        range = "at least " + FormatNumber(*spec.min);
      } else {
        range = "at most " + FormatNumber(*spec.max);
      }
      return Error{
          pos, Quote(key) + " in " + context + " must be " + range + ", got " + FormatNumber(v)};
    }
    return std::nullopt;
  }

  std::string file_;
  std::vector<std::string>* secrets_;
};

Schema Concat(const Schema& a, const Schema& b) {
  Schema out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

void FillAgent(const Section& s, AgentConfig& agent) {
  agent.listen = s.GetString("listen");
  agent.log_level = s.GetString("log_level");
  agent.log_format = s.GetString("log_format");
  agent.state_dir = s.GetString("state_dir");
  agent.tls.cert_file = s.GetString("tls.cert_file");
  agent.tls.key_file = s.GetString("tls.key_file");
  agent.basic_auth_users = s.GetStringMap("basic_auth_users");
  agent.http_max_connections = s.GetInt("http.max_connections");
  agent.http_header_timeout = s.GetDuration("http.header_timeout");
}

}  // namespace

const Schema& AgentSchema() {
  static const Schema kSchema = {
      {.name = "listen",
       .type = Type::kString,
       .default_value = "\"127.0.0.1:9478\"",
       .description = "Address of the HTTP server (/metrics, /healthz, /readyz, /api/v1/status). "
                      "Port 0 picks a free port."},
      {.name = "log_level",
       .type = Type::kString,
       .default_value = "\"info\"",
       .description = "Log verbosity.",
       .allowed = {"trace", "debug", "info", "warn", "error"}},
      {.name = "log_format",
       .type = Type::kString,
       .default_value = "\"text\"",
       .description = "Log line format: human-readable text or one JSON object per line.",
       .allowed = {"text", "json"}},
      {.name = "state_dir",
       .type = Type::kString,
       .default_value = "\"/var/lib/tacho\"",
       .description = "Directory for state that must survive restarts (alert state, webhook "
                      "outbox)."},
      {.name = "tls.cert_file",
       .type = Type::kString,
       .description = "PEM certificate chain; with tls.key_file, serves HTTPS instead of HTTP.",
       .example = "\"/etc/tacho/tls.crt\""},
      {.name = "tls.key_file",
       .type = Type::kString,
       .description = "PEM private key for tls.cert_file.",
       .example = "\"/etc/tacho/tls.key\""},
      {.name = "basic_auth_users",
       .type = Type::kStringMap,
       .description = "Basic auth for every endpoint: user = bcrypt hash "
                      "(htpasswd -nbBC 10 USER PASS).",
       .example = "{ prometheus = \"$2y$10$...\" }"},
      {.name = "http.max_connections",
       .type = Type::kInt,
       .default_value = "64",
       .description = "Concurrent HTTP connections; more are answered 503 and closed.",
       .min = 1,
       .max = 10000},
      {.name = "http.header_timeout",
       .type = Type::kDuration,
       .default_value = "\"10s\"",
       .description = "A request head (and TLS handshake) must arrive within this time."},
  };
  return kSchema;
}

const Schema& CommonCollectorSchema() {
  static const Schema kSchema = {
      {.name = "name",
       .type = Type::kString,
       .description = "Instance name, unique across all collectors; the `target` label.",
       .required = true,
       .example = "\"main\""},
      {.name = "interval",
       .type = Type::kDuration,
       .default_value = "\"15s\"",
       .description = "How often to collect, in the background, whether or not anyone scrapes."},
      {.name = "timeout",
       .type = Type::kDuration,
       .description = "Deadline of one collection; must be less than interval. Default: 80% of "
                      "interval.",
       .example = "\"10s\""},
  };
  return kSchema;
}

Expected<Config, Error> LoadString(std::string_view text, const std::string& source_name,
                                   const KindSchemas& kinds) {
  Config config;
  config.source = source_name;
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return Error{Position{source_name, static_cast<int>(b.line), static_cast<int>(b.column)},
                 std::string(e.description())};
  }
  Loader loader(source_name, &config.secrets);

  const toml::table empty;
  const toml::table* agent_table = &empty;
  std::vector<std::string> known_sections = {"agent", "collectors"};
  for (const auto& [name, schema] : kinds.sections) known_sections.push_back(name);
  for (auto&& [k, node] : root) {
    const std::string key(k.str());
    if (std::find(known_sections.begin(), known_sections.end(), key) != known_sections.end()) {
      if (!node.is_table()) {
        return Error{loader.Pos(k.source()), Quote(key) + " must be a table: write [" + key + "]"};
      }
      if (key == "agent") agent_table = node.as_table();
      continue;
    }
    std::string message = "unknown section " + Quote(key);
    std::string suggestion = Suggest(key, known_sections);
    if (!suggestion.empty()) message += "; did you mean " + Quote(suggestion) + "?";
    std::string list;
    for (const auto& n : known_sections) list += (list.empty() ? "" : ", ") + n;
    return Error{loader.Pos(k.source()), message + " (known: " + list + ")"};
  }
  for (const auto& [name, schema] : kinds.sections) {
    const toml::table* table = root[name].as_table();
    Section section;
    if (auto err = loader.LoadTable(table != nullptr ? *table : empty, *schema, "[" + name + "]",
                                    name, section)) {
      return *err;
    }
    config.sections.emplace(name, std::move(section));
  }

  Section agent_section;
  if (auto err = loader.LoadTable(*agent_table, AgentSchema(), "[agent]", "agent", agent_section)) {
    return *err;
  }
  FillAgent(agent_section, config.agent);
  if (config.agent.tls.cert_file.empty() != config.agent.tls.key_file.empty()) {
    const char* missing = config.agent.tls.cert_file.empty() ? "tls.cert_file" : "tls.key_file";
    return Error{
        agent_section.position(),
        std::string("[agent] sets only one of tls.cert_file and tls.key_file; add ") + missing};
  }

  std::map<std::string, Position> names;
  if (const toml::table* collectors = root["collectors"].as_table()) {
    for (auto&& [k, node] : *collectors) {
      const std::string kind(k.str());
      const Schema* schema = kinds.find(kind);
      if (schema == nullptr) {
        std::vector<std::string> known = kinds.kinds();
        std::string message = "unknown collector kind " + Quote(kind);
        std::string suggestion = Suggest(kind, known);
        if (!suggestion.empty()) message += "; did you mean " + Quote(suggestion) + "?";
        std::string list;
        for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
        return Error{loader.Pos(k.source()), message + " (known: " + list + ")"};
      }
      const toml::array* instances = node.as_array();
      if (instances == nullptr) {
        return Error{loader.Pos(k.source()),
                     "collectors." + kind + " must be an array of tables: write [[collectors." +
                         kind + "]]"};
      }
      const Schema full_schema = Concat(CommonCollectorSchema(), *schema);
      int index = 0;
      for (const toml::node& el : *instances) {
        ++index;
        const toml::table* tbl = el.as_table();
        if (tbl == nullptr) {
          return Error{loader.Pos(el.source()),
                       "collectors." + kind + " must be an array of tables: write [[collectors." +
                           kind + "]]"};
        }
        std::string label = "#" + std::to_string(index);
        if (auto name = (*tbl)["name"].value<std::string>()) label = Quote(*name);
        const std::string context = "[[collectors." + kind + "]] " + label;
        CollectorInstance instance;
        instance.kind = kind;
        if (auto err = loader.LoadTable(*tbl, full_schema, context, "collectors." + kind,
                                        instance.section)) {
          return *err;
        }
        const Section& s = instance.section;
        instance.name = s.GetString("name");
        if (instance.name.empty() || instance.name.size() > 128) {
          return s.ErrorAt("name", "'name' in " + context + " must be 1 to 128 characters");
        }
        if (auto [it, inserted] = names.emplace(instance.name, s.PositionOf("name")); !inserted) {
          return s.ErrorAt("name", "duplicate collector name " + Quote(instance.name) +
                                       " (first defined at " + it->second.file + ":" +
                                       std::to_string(it->second.line) + ":" +
                                       std::to_string(it->second.column) + ")");
        }
        instance.interval = s.GetDuration("interval");
        if (instance.interval < Duration(100)) {
          return s.ErrorAt("interval", "'interval' in " + context + " must be at least 100ms");
        }
        if (s.Has("timeout")) {
          instance.timeout = s.GetDuration("timeout");
          if (instance.timeout <= Duration(0) || instance.timeout >= instance.interval) {
            return s.ErrorAt("timeout", "'timeout' \"" + FormatDuration(instance.timeout) +
                                            "\" in " + context +
                                            " must be greater than 0 and less than 'interval' \"" +
                                            FormatDuration(instance.interval) + "\"");
          }
        } else {
          instance.timeout = instance.interval * 4 / 5;
        }
        config.collectors.push_back(std::move(instance));
      }
    }
  }
  return config;
}

Expected<Config, Error> LoadFile(const std::string& path, const KindSchemas& kinds) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{Position{path, 0, 0},
                 std::string("cannot read configuration: ") + std::strerror(errno)};
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return LoadString(buffer.str(), path, kinds);
}

std::string Suggest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const std::string& c : candidates) {
    // Levenshtein distance, two rows.
    std::vector<std::size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (std::size_t j = 0; j <= c.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= word.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= c.size(); ++j) {
        std::size_t cost = word[i - 1] == c[j - 1] ? 0 : 1;
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      }
      std::swap(prev, cur);
    }
    if (prev[c.size()] < best_distance) {
      best_distance = prev[c.size()];
      best = c;
    }
  }
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  return best_distance <= limit ? best : std::string();
}

}  // namespace tacho::config
