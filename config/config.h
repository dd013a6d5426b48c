// The loaded, validated configuration.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "config/schema.h"

namespace tacho::config {

// A place in a configuration file. line/column are 1-based; 0 means unknown.
struct Position {
  std::string file;
  int line = 0;
  int column = 0;
};

// A configuration error: rendered as "file:line:col: message" (the position part is omitted when
// unknown). Start-up treats it as fatal (exit 2); a reload keeps the previous configuration.
struct Error {
  Position position;
  std::string message;
  std::string ToString() const;
};

using Duration = std::chrono::milliseconds;
using StringMap = std::map<std::string, std::string>;

class Section;

// One validated table: every declared key has a value (its default when absent), with the
// position it came from for errors raised after loading (an invalid regex, say).
//
// Getters take a declared key name; asking for an undeclared key or the wrong type is a
// programming error and throws std::logic_error. Keys without a default that were not set are
// reported by Has() == false and return an empty value of their type.
class Section {
 public:
  using Value = std::variant<std::monostate, std::string, std::int64_t, double, bool, Duration,
                             std::vector<std::string>, StringMap, std::vector<Section>>;

  Section() = default;

  bool Has(std::string_view key) const;
  const std::string& GetString(std::string_view key) const;
  std::int64_t GetInt(std::string_view key) const;
  double GetFloat(std::string_view key) const;
  bool GetBool(std::string_view key) const;
  Duration GetDuration(std::string_view key) const;
  const std::vector<std::string>& GetStringList(std::string_view key) const;
  const StringMap& GetStringMap(std::string_view key) const;
  const std::vector<Section>& GetTableList(std::string_view key) const;

  // Where the key was set, or where the table starts when it was not.
  Position PositionOf(std::string_view key) const;
  const Position& position() const { return position_; }
  // An Error at the key's position: for validation a collector does at configure time.
  Error ErrorAt(std::string_view key, std::string message) const;

  // Used by the loader.
  void Set(std::string key, Value value, Position position, bool explicitly_set);
  void SetPosition(Position position) { position_ = std::move(position); }

 private:
  struct Entry {
    Value value;
    Position position;
    bool explicitly_set = false;
  };
  const Entry& Find(std::string_view key) const;

  std::map<std::string, Entry, std::less<>> entries_;
  Position position_;
};

// Keys every [[collectors.<kind>]] instance has, whatever its kind.
//   name      required, unique across all instances; becomes the `target` label
//   interval  default "15s"
//   timeout   default: 80% of the interval; must be less than the interval
struct CollectorInstance {
  std::string kind;
  std::string name;
  Duration interval{};
  Duration timeout{};
  Section section;
};

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  bool enabled() const { return !cert_file.empty(); }
};

struct AgentConfig {
  std::string listen;
  std::string log_level;
  std::string log_format;
  std::string state_dir;
  TlsConfig tls;
  StringMap basic_auth_users;  // user -> bcrypt hash ($2b$/$2y$)
  std::int64_t http_max_connections = 0;
  Duration http_header_timeout{};
};

struct Config {
  std::string source;  // file path, or "<embedded default>"
  AgentConfig agent;
  std::vector<CollectorInstance> collectors;
  // Further top-level tables declared in KindSchemas::sections, by name.
  std::map<std::string, Section> sections;
  // Every secret value found, so the log redactor can mask it.
  std::vector<std::string> secrets;
};

// Answers the schema of a collector kind, or nullptr for an unknown kind, and declares any
// further top-level tables (such as [alerts]) beside [agent] and [collectors].
struct KindSchemas {
  std::function<const Schema*(std::string_view kind)> find;
  std::function<std::vector<std::string>()> kinds;  // for "did you mean" and error texts
  // name -> schema of an optional top-level table; loaded into Config::sections (with defaults
  // applied when the table is absent).
  std::map<std::string, const Schema*> sections = {};
};

// The [agent] table's declaration.
const Schema& AgentSchema();
// The keys every collector instance has (name, interval, timeout).
const Schema& CommonCollectorSchema();

Expected<Config, Error> LoadFile(const std::string& path, const KindSchemas& kinds);
Expected<Config, Error> LoadString(std::string_view text, const std::string& source_name,
                                   const KindSchemas& kinds);

// "15s", "1m30s", "250ms", "2h", "1d". Returns an error message for anything else.
// The longest duration a config accepts: 100 years (36500d).
inline constexpr Duration kMaxDuration{36500LL * 86'400'000};
Expected<Duration, std::string> ParseDuration(std::string_view text);
std::string FormatDuration(Duration d);

// The closest candidate by edit distance, if close enough to be a plausible typo.
std::string Suggest(std::string_view word, const std::vector<std::string>& candidates);

// An annotated TOML sample derived from the declarations: the [agent] table, then one commented
// [[collectors.<kind>]] block per kind, in the order given.
struct SampleKind {
  std::string name;
  std::string description;
  const Schema* schema;
};
// A declared top-level table (such as [alerts]): its scalar keys uncommented with their
// defaults, its table lists as commented examples.
struct SampleSection {
  std::string name;
  std::string description;
  const Schema* schema;
};
std::string GenerateSample(const std::vector<SampleKind>& kinds,
                           const std::vector<SampleSection>& sections = {});
// The commented block for one kind, as GenerateSample shows it.
std::string GenerateKindSample(const SampleKind& kind);
// What collectors/<folder>/sample.toml holds: a header, then each kind's block in the same words
// but loadable as is: the instance named after its kind, required keys and keys with defaults
// set, optional keys without one commented, table lists followed by their declared examples.
std::string GenerateFolderSample(const std::vector<SampleKind>& kinds);
// The Markdown table of a kind's keys (common keys first; key, type, default, description,
// secret forms) between "<!-- BEGIN GENERATED CONFIG: <kind> -->" and
// "<!-- END GENERATED CONFIG -->" lines, as the collector's README.md holds it.
std::string GenerateConfigReference(const SampleKind& kind);

}  // namespace tacho::config
