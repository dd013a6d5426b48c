// A documented subset of PromQL, with PromQL's meaning, evaluated on tacho's own samples.
//
// Supported (everything else is a parse error naming what is unsupported):
//   selectors     metric{label="v", label!="v", label=~"re", label!~"re"}   (instant)
//                 metric{...}[5m]                       (range, only as a function argument)
//   functions     rate, increase, avg_over_time, min_over_time, max_over_time   (over a range)
//   aggregations  sum, avg, min, max, count   with `by (...)` or `without (...)`
//   arithmetic    + - * / % ^   between scalars, vector and scalar, and vector and vector
//                 (one-to-one, `on (...)` / `ignoring (...)`, `group_left`/`group_right`)
//   comparisons   == != > < >= <=   filtering, or 0/1 with `bool`
//   set operators and, or, unless
//   literals      numbers (1, 0.5, 1e3, Inf, NaN), unary minus, parentheses
// Not supported: offset, @, subqueries, other functions (histogram_quantile, absent, time(), ...),
// topk/bottomk/quantile/stddev/count_values aggregations. Regexes are ECMAScript (std::regex),
// fully anchored as in PromQL; RE2-only syntax is rejected at parse time.
//
// Pure code: no clocks, no I/O. Thread-compatible (an Expr is immutable after parsing).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

// GCC 12 reports false -Wmaybe-uninitialized warnings inside libstdc++'s regex compiler under
// -fsanitize=address (see collectors/process/regex.h); silenced for <regex> only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#pragma GCC diagnostic pop

namespace tacho::alerts::promql {

// A series' labels including the metric name under "__name__".
using LabelSet = std::map<std::string, std::string>;
inline constexpr const char* kMetricName = "__name__";

// Milliseconds since the Unix epoch, as Prometheus timestamps are.
using Timestamp = std::int64_t;

struct Point {
  Timestamp t = 0;
  double v = 0;
};

struct Sample {
  LabelSet labels;
  double value = 0;
};
using Vector = std::vector<Sample>;

struct Value {
  bool is_scalar = false;
  double scalar = 0;
  Vector vector;
};

struct Matcher {
  enum class Op { kEqual, kNotEqual, kRegex, kNotRegex };
  std::string name;
  Op op = Op::kEqual;
  std::string value;
  std::shared_ptr<const std::regex> regex;  // kRegex / kNotRegex, anchored
  bool Matches(const std::string& v) const;
};

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEq,
  kNe,
  kGt,
  kLt,
  kGe,
  kLe,
  kAnd,
  kOr,
  kUnless
};

struct Expr {
  enum class Kind { kNumber, kSelector, kCall, kAggregate, kBinary, kUnaryMinus, kParen };
  Kind kind = Kind::kNumber;
  std::size_t pos = 0;  // byte offset in the source text

  double number = 0;  // kNumber

  // kSelector: metric name (may be empty when a __name__ matcher is given) and matchers.
  std::string metric;
  std::vector<Matcher> matchers;
  std::int64_t range_ms = 0;  // > 0: a range selector

  // kCall: function name; kAggregate: operator name.
  std::string func;
  // kAggregate grouping.
  bool without = false;
  std::vector<std::string> grouping;

  // kBinary
  BinaryOp op = BinaryOp::kAdd;
  bool return_bool = false;
  bool has_matching = false;  // on/ignoring given
  bool on = false;            // on (...) rather than ignoring (...)
  std::vector<std::string> matching;
  enum class Card { kOneToOne, kManyToOne, kOneToMany } card = Card::kOneToOne;
  std::vector<std::string> include;  // group_left(...) / group_right(...) labels

  std::vector<std::unique_ptr<Expr>> args;  // operands / arguments

  bool ReturnsScalar() const;
};

struct ParseError {
  std::size_t pos = 0;  // byte offset in the expression
  std::string message;
};

// "rate(pg_stat_database_xact_commit{datname!~"template.*"}[5m]) > 10"
Expected<std::unique_ptr<Expr>, ParseError> Parse(std::string_view text);

// Every selector of the expression with the longest range it is read over (0: instant only).
struct SelectorUse {
  const Expr* selector = nullptr;
  std::int64_t range_ms = 0;
};
std::vector<SelectorUse> Selectors(const Expr& expr);

// The samples an evaluation reads. Implementations: SeriesStore (the agent's history) and test
// fixtures.
class Storage {
 public:
  virtual ~Storage() = default;
  // Calls `fn` for every series matching all matchers (metric name as a __name__ matcher).
  // `points` are sorted by time; the callee picks the window it needs.
  virtual void Select(const std::vector<Matcher>& matchers,
                      const std::function<void(const LabelSet&, const std::vector<Point>&,
                                               std::optional<Timestamp> stale_at)>& fn) const = 0;
};

inline constexpr std::int64_t kLookbackMs = 5 * 60 * 1000;  // PromQL's default lookback delta

// Evaluates at time `t` (ms). Errors are PromQL's runtime errors (many-to-many matching, ...).
Expected<Value, std::string> Evaluate(const Expr& expr, const Storage& storage, Timestamp t);

// Go's %v formatting of a float64 (what {{ $value }} prints in Prometheus templates).
std::string FormatGoFloat(double v);
// PromQL duration text, e.g. 300000 -> "5m", 5400000 -> "1h30m".
std::string FormatDurationMs(std::int64_t ms);

}  // namespace tacho::alerts::promql
