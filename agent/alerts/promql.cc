#include "agent/alerts/promql.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <unordered_map>

#include "config/config.h"

namespace tacho::alerts::promql {

namespace {

// ---------------------------------------------------------------------------------------------
// Lexer

enum class Tok {
  kEnd,
  kIdent,
  kNumber,
  kString,
  kDuration,
  kLBrace,
  kRBrace,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kAssign,
  kNe,
  kRegex,
  kNotRegex,
  kEqEq,
  kGt,
  kLt,
  kGe,
  kLe,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kColon,
  kAt,
  kOther
};

struct Token {
  Tok kind = Tok::kEnd;
  std::size_t pos = 0;
  std::string text;  // identifier, string value (unescaped), number or duration text
};

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsIdentChar(char c) { return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

// The longest range a rule may use: 100 years, as config durations (config::kMaxDuration).
constexpr std::int64_t kMaxRangeMs = config::kMaxDuration.count();
constexpr std::int64_t kRangeTooLarge = -2;

// "5m", "1h30m", "250ms": PromQL durations (y, w, d, h, m, s, ms). Returns ms, -1 for text that
// is not a duration, or kRangeTooLarge above kMaxRangeMs.
std::int64_t ParsePromDuration(std::string_view s) {
  static const std::pair<std::string_view, std::int64_t> kUnits[] = {
      {"ms", 1},         {"s", 1000},        {"m", 60'000},        {"h", 3'600'000},
      {"d", 86'400'000}, {"w", 604'800'000}, {"y", 31'536'000'000}};
  std::int64_t total = 0;
  std::size_t i = 0;
  if (s.empty()) return -1;
  while (i < s.size()) {
    std::size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return -1;
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(s.data() + start, s.data() + i, n);
    if (ec != std::errc() || n > kMaxRangeMs) return kRangeTooLarge;
    bool found = false;
    for (const auto& [unit, mult] : kUnits) {
      if (s.substr(i, unit.size()) == unit && !(unit == "m" && s.substr(i, 2) == "ms")) {
        // Checked before multiplying: the product of two in-range values may not fit 64 bits.
        if (n > kMaxRangeMs / mult) return kRangeTooLarge;
        total += n * mult;
        if (total > kMaxRangeMs) return kRangeTooLarge;
        i += unit.size();
        found = true;
        break;
      }
    }
    if (!found) return -1;
  }
  return total;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Expected<std::vector<Token>, ParseError> Run() {
    std::vector<Token> out;
    while (true) {
      while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '#') {  // comment to end of line
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
        continue;
      }
      Token t;
      t.pos = pos_;
      if (pos_ >= text_.size()) {
        t.kind = Tok::kEnd;
        out.push_back(t);
        return out;
      }
      char c = text_[pos_];
      if (std::isdigit(static_cast<unsigned char>(c)) ||
          (c == '.' && pos_ + 1 < text_.size() &&
           std::isdigit(static_cast<unsigned char>(text_[pos_ + 1])))) {
        std::size_t start = pos_;
        while (pos_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' ||
                ((text_[pos_] == '+' || text_[pos_] == '-') &&
                 (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E') &&
                 !(text_.substr(start, 2) == "0x" || text_.substr(start, 2) == "0X")))) {
          ++pos_;
        }
        t.text = std::string(text_.substr(start, pos_ - start));
        // A number, or a duration such as 5m / 1h30m.
        bool has_unit_letter = std::any_of(t.text.begin(), t.text.end(), [](char ch) {
          return std::strchr("smhdwy", ch) != nullptr;
        });
        const std::int64_t ms = has_unit_letter ? ParsePromDuration(t.text) : -1;
        t.kind = (ms >= 0 || ms == kRangeTooLarge) ? Tok::kDuration : Tok::kNumber;
        out.push_back(t);
        continue;
      }
      if (IsIdentStart(c)) {
        std::size_t start = pos_;
        while (pos_ < text_.size() && IsIdentChar(text_[pos_])) ++pos_;
        t.kind = Tok::kIdent;
        t.text = std::string(text_.substr(start, pos_ - start));
        out.push_back(t);
        continue;
      }
      if (c == '"' || c == '\'' || c == '`') {
        auto s = LexString(c);
        if (!s) return s.error();
        t.kind = Tok::kString;
        t.text = std::move(s.value());
        out.push_back(t);
        continue;
      }
      auto two = text_.substr(pos_, 2);
      struct Op {
        std::string_view s;
        Tok k;
      };
      static const Op kOps[] = {
          {"!=", Tok::kNe},    {"=~", Tok::kRegex}, {"!~", Tok::kNotRegex}, {"==", Tok::kEqEq},
          {">=", Tok::kGe},    {"<=", Tok::kLe},    {"{", Tok::kLBrace},    {"}", Tok::kRBrace},
          {"(", Tok::kLParen}, {")", Tok::kRParen}, {"[", Tok::kLBracket},  {"]", Tok::kRBracket},
          {",", Tok::kComma},  {"=", Tok::kAssign}, {">", Tok::kGt},        {"<", Tok::kLt},
          {"+", Tok::kAdd},    {"-", Tok::kSub},    {"*", Tok::kMul},       {"/", Tok::kDiv},
          {"%", Tok::kMod},    {"^", Tok::kPow},    {":", Tok::kColon},     {"@", Tok::kAt}};
      bool matched = false;
      for (const Op& op : kOps) {
        if ((op.s.size() == 2 && two == op.s) || (op.s.size() == 1 && c == op.s[0])) {
          t.kind = op.k;
          t.text = std::string(op.s);
          pos_ += op.s.size();
          matched = true;
          break;
        }
      }
      if (!matched) return ParseError{pos_, std::string("unexpected character '") + c + "'"};
      out.push_back(t);
    }
  }

 private:
  Expected<std::string, ParseError> LexString(char quote) {
    std::size_t start = pos_++;
    std::string out;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == quote) return out;
      if (c == '\\' && quote != '`') {
        if (pos_ >= text_.size()) break;
        char e = text_[pos_++];
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case '\\':
            out += '\\';
            break;
          case '"':
            out += '"';
            break;
          case '\'':
            out += '\'';
            break;
          default:
            out += '\\';
            out += e;  // kept for the regex engine (\d, \.)
        }
        continue;
      }
      out += c;
    }
    return ParseError{start, "unterminated string"};
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Parser

const std::set<std::string, std::less<>> kRangeFunctions = {"rate", "increase", "avg_over_time",
                                                            "min_over_time", "max_over_time"};
const std::set<std::string, std::less<>> kAggregations = {"sum", "avg", "min", "max", "count"};
const std::set<std::string, std::less<>> kUnsupportedAggregations = {
    "topk", "bottomk", "quantile", "stddev", "stdvar", "count_values", "group"};

bool IsComparison(BinaryOp op) {
  return op == BinaryOp::kEq || op == BinaryOp::kNe || op == BinaryOp::kGt || op == BinaryOp::kLt ||
         op == BinaryOp::kGe || op == BinaryOp::kLe;
}
bool IsSetOp(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

int Precedence(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr:
      return 1;
    case BinaryOp::kAnd:
    case BinaryOp::kUnless:
      return 2;
    case BinaryOp::kEq:
    case BinaryOp::kNe:
    case BinaryOp::kGt:
    case BinaryOp::kLt:
    case BinaryOp::kGe:
    case BinaryOp::kLe:
      return 3;
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
      return 4;
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kMod:
      return 5;
    case BinaryOp::kPow:
      return 6;
  }
  return 0;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Expected<std::unique_ptr<Expr>, ParseError> ParseAll() {
    auto e = ParseBinary(0);
    if (!e) return e;
    if (Peek().kind != Tok::kEnd) return Unexpected("end of expression");
    if (auto err = CheckTopLevel(**e)) return *err;
    return e;
  }

 private:
  const Token& Peek(std::size_t ahead = 0) const {
    return tokens_[std::min(i_ + ahead, tokens_.size() - 1)];
  }
  const Token& Next() { return tokens_[std::min(i_++, tokens_.size() - 1)]; }

  ParseError Unexpected(std::string_view wanted) const {
    const Token& t = Peek();
    std::string got = t.kind == Tok::kEnd ? "end of input" : "\"" + t.text + "\"";
    return ParseError{t.pos, "unexpected " + got + ", expected " + std::string(wanted)};
  }

  std::optional<ParseError> Expect(Tok kind, std::string_view what) {
    if (Peek().kind != kind) return Unexpected(what);
    Next();
    return std::nullopt;
  }

  std::optional<ParseError> CheckTopLevel(const Expr& e) {
    if (e.kind == Expr::Kind::kSelector && e.range_ms > 0) {
      return ParseError{e.pos,
                        "a range selector must be the argument of rate, increase or "
                        "*_over_time"};
    }
    return std::nullopt;
  }

  std::optional<BinaryOp> PeekBinaryOp() const {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kAdd:
        return BinaryOp::kAdd;
      case Tok::kSub:
        return BinaryOp::kSub;
      case Tok::kMul:
        return BinaryOp::kMul;
      case Tok::kDiv:
        return BinaryOp::kDiv;
      case Tok::kMod:
        return BinaryOp::kMod;
      case Tok::kPow:
        return BinaryOp::kPow;
      case Tok::kEqEq:
        return BinaryOp::kEq;
      case Tok::kNe:
        return BinaryOp::kNe;
      case Tok::kGt:
        return BinaryOp::kGt;
      case Tok::kLt:
        return BinaryOp::kLt;
      case Tok::kGe:
        return BinaryOp::kGe;
      case Tok::kLe:
        return BinaryOp::kLe;
      case Tok::kIdent:
        if (t.text == "and") return BinaryOp::kAnd;
        if (t.text == "or") return BinaryOp::kOr;
        if (t.text == "unless") return BinaryOp::kUnless;
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }

  // Precedence climbing; ^ is right-associative.
  Expected<std::unique_ptr<Expr>, ParseError> ParseBinary(int min_prec) {
    auto lhs = ParseUnary();
    if (!lhs) return lhs;
    while (true) {
      auto op = PeekBinaryOp();
      if (!op || Precedence(*op) < min_prec) break;
      const Token& op_tok = Next();
      auto node = std::make_unique<Expr>();
      node->kind = Expr::Kind::kBinary;
      node->op = *op;
      node->pos = op_tok.pos;
      if (Peek().kind == Tok::kIdent && Peek().text == "bool") {
        if (!IsComparison(*op))
          return ParseError{Peek().pos, "bool is only allowed on comparisons"};
        node->return_bool = true;
        Next();
      }
      if (Peek().kind == Tok::kIdent && (Peek().text == "on" || Peek().text == "ignoring")) {
        node->has_matching = true;
        node->on = Next().text == "on";
        auto labels = ParseLabelList();
        if (!labels) return labels.error();
        node->matching = std::move(labels.value());
        if (Peek().kind == Tok::kIdent &&
            (Peek().text == "group_left" || Peek().text == "group_right")) {
          if (IsSetOp(*op)) return ParseError{Peek().pos, "no grouping allowed for set operations"};
          node->card =
              Next().text == "group_left" ? Expr::Card::kManyToOne : Expr::Card::kOneToMany;
          if (Peek().kind == Tok::kLParen) {
            auto include = ParseLabelList();
            if (!include) return include.error();
            node->include = std::move(include.value());
          }
        }
      }
      const int next_min = *op == BinaryOp::kPow ? Precedence(*op) : Precedence(*op) + 1;
      auto rhs = ParseBinary(next_min);
      if (!rhs) return rhs;
      node->args.push_back(std::move(lhs.value()));
      node->args.push_back(std::move(rhs.value()));
      if (auto err = CheckBinary(*node)) return *err;
      lhs = std::move(node);
    }
    return lhs;
  }

  std::optional<ParseError> CheckBinary(const Expr& node) {
    for (const auto& a : node.args) {
      if (auto err = CheckTopLevel(*a)) return err;
    }
    const bool l_scalar = node.args[0]->ReturnsScalar();
    const bool r_scalar = node.args[1]->ReturnsScalar();
    if (IsComparison(node.op) && l_scalar && r_scalar && !node.return_bool) {
      return ParseError{node.pos, "comparisons between scalars must use the bool modifier"};
    }
    if (IsSetOp(node.op) && (l_scalar || r_scalar)) {
      return ParseError{node.pos, "set operator not allowed in binary scalar expression"};
    }
    if (node.has_matching && (l_scalar || r_scalar)) {
      return ParseError{node.pos, "vector matching only allowed between instant vectors"};
    }
    return std::nullopt;
  }

  Expected<std::unique_ptr<Expr>, ParseError> ParseUnary() {
    if (Peek().kind == Tok::kSub || Peek().kind == Tok::kAdd) {
      const Token& t = Next();
      // Unary minus binds tighter than * / % but looser than ^, as in PromQL.
      auto operand = ParseBinary(Precedence(BinaryOp::kPow));
      if (!operand) return operand;
      if (auto err = CheckTopLevel(**operand)) return *err;
      if (t.kind == Tok::kAdd) return operand;
      if ((*operand)->kind == Expr::Kind::kNumber) {
        (*operand)->number = -(*operand)->number;
        (*operand)->pos = t.pos;
        return operand;
      }
      auto node = std::make_unique<Expr>();
      node->kind = Expr::Kind::kUnaryMinus;
      node->pos = t.pos;
      node->args.push_back(std::move(operand.value()));
      return node;
    }
    auto e = ParsePrimary();
    if (!e) return e;
    if (Peek().kind == Tok::kLBracket) {
      if ((*e)->kind != Expr::Kind::kSelector || (*e)->range_ms > 0) {
        return ParseError{Peek().pos,
                          "ranges are only allowed on metric selectors (subqueries "
                          "are not supported)"};
      }
      Next();
      if (Peek().kind != Tok::kDuration && !(Peek().kind == Tok::kNumber)) {
        return Unexpected("a duration such as 5m");
      }
      const Token& d = Next();
      std::int64_t ms = ParsePromDuration(d.text);
      if (ms == kRangeTooLarge) {
        return ParseError{d.pos, "range \"" + d.text + "\" is too large (at most " +
                                     config::FormatDuration(config::Duration(kMaxRangeMs)) + ")"};
      }
      if (ms <= 0) return ParseError{d.pos, "invalid range \"" + d.text + "\""};
      if (Peek().kind == Tok::kColon || (Peek().kind == Tok::kIdent && Peek().text[0] == ':')) {
        return ParseError{Peek().pos, "subqueries are not supported"};
      }
      if (auto err = Expect(Tok::kRBracket, "\"]\"")) return *err;
      (*e)->range_ms = ms;
    }
    if (Peek().kind == Tok::kIdent && Peek().text == "offset") {
      return ParseError{Peek().pos, "offset is not supported"};
    }
    if (Peek().kind == Tok::kAt) return ParseError{Peek().pos, "the @ modifier is not supported"};
    return e;
  }

  Expected<std::unique_ptr<Expr>, ParseError> ParsePrimary() {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kNumber: {
        Next();
        auto e = std::make_unique<Expr>();
        e->kind = Expr::Kind::kNumber;
        e->pos = t.pos;
        auto v = ParseNumber(t.text);
        if (!v) return ParseError{t.pos, "invalid number \"" + t.text + "\""};
        e->number = *v;
        return e;
      }
      case Tok::kLParen: {
        Next();
        auto inner = ParseBinary(0);
        if (!inner) return inner;
        if (auto err = Expect(Tok::kRParen, "\")\"")) return *err;
        if (auto err = CheckTopLevel(**inner)) return *err;
        auto e = std::make_unique<Expr>();
        e->kind = Expr::Kind::kParen;
        e->pos = t.pos;
        e->args.push_back(std::move(inner.value()));
        return e;
      }
      case Tok::kLBrace:
        return ParseSelector("", t.pos);
      case Tok::kIdent: {
        std::string lower = t.text;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        if (lower == "inf" || lower == "nan") {
          Next();
          auto e = std::make_unique<Expr>();
          e->kind = Expr::Kind::kNumber;
          e->pos = t.pos;
          e->number = lower == "inf" ? std::numeric_limits<double>::infinity()
                                     : std::numeric_limits<double>::quiet_NaN();
          return e;
        }
        if (kAggregations.count(t.text)) return ParseAggregate();
        if (kUnsupportedAggregations.count(t.text)) {
          return ParseError{t.pos, "aggregation '" + t.text +
                                       "' is not supported (supported: sum, avg, min, max, count)"};
        }
        if (Peek(1).kind == Tok::kLParen) {
          if (kRangeFunctions.count(t.text)) return ParseCall();
          return ParseError{t.pos, "function '" + t.text +
                                       "' is not supported (supported: rate, increase, "
                                       "avg_over_time, min_over_time, max_over_time)"};
        }
        if (t.text == "and" || t.text == "or" || t.text == "unless" || t.text == "by" ||
            t.text == "without" || t.text == "on" || t.text == "ignoring" || t.text == "bool" ||
            t.text == "offset") {
          return Unexpected("an expression");
        }
        Next();
        if (Peek().kind == Tok::kLBrace) return ParseSelector(t.text, t.pos);
        auto e = std::make_unique<Expr>();
        e->kind = Expr::Kind::kSelector;
        e->pos = t.pos;
        e->metric = t.text;
        e->matchers.push_back(Matcher{kMetricName, Matcher::Op::kEqual, t.text, nullptr});
        return e;
      }
      case Tok::kString:
        return ParseError{t.pos, "string literals are not supported"};
      default:
        return Unexpected("an expression");
    }
  }

  static std::optional<double> ParseNumber(const std::string& text) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
      try {
        std::size_t used = 0;
        double v = static_cast<double>(std::stoull(text, &used, 16));
        if (used != text.size()) return std::nullopt;
        return v;
      } catch (...) {
        return std::nullopt;
      }
    }
    double v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return v;
  }

  Expected<std::unique_ptr<Expr>, ParseError> ParseSelector(std::string metric, std::size_t pos) {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kSelector;
    e->pos = pos;
    e->metric = metric;
    if (!metric.empty()) {
      e->matchers.push_back(Matcher{kMetricName, Matcher::Op::kEqual, metric, nullptr});
    }
    if (auto err = Expect(Tok::kLBrace, "\"{\"")) return *err;
    while (Peek().kind != Tok::kRBrace) {
      if (Peek().kind != Tok::kIdent) return Unexpected("a label name");
      Matcher m;
      m.name = Next().text;
      switch (Peek().kind) {
        case Tok::kAssign:
          m.op = Matcher::Op::kEqual;
          break;
        case Tok::kNe:
          m.op = Matcher::Op::kNotEqual;
          break;
        case Tok::kRegex:
          m.op = Matcher::Op::kRegex;
          break;
        case Tok::kNotRegex:
          m.op = Matcher::Op::kNotRegex;
          break;
        default:
          return Unexpected("=, !=, =~ or !~");
      }
      Next();
      if (Peek().kind != Tok::kString) return Unexpected("a quoted label value");
      const Token& v = Next();
      m.value = v.text;
      if (m.op == Matcher::Op::kRegex || m.op == Matcher::Op::kNotRegex) {
        try {
          m.regex = std::make_shared<std::regex>("^(?:" + m.value + ")$", std::regex::ECMAScript);
        } catch (const std::regex_error& ex) {
          return ParseError{v.pos, "invalid regular expression \"" + m.value + "\": " + ex.what()};
        }
      }
      if (m.name == kMetricName) {
        if (!metric.empty()) return ParseError{v.pos, "metric name given twice"};
        if (m.op == Matcher::Op::kEqual) e->metric = m.value;
      }
      e->matchers.push_back(std::move(m));
      if (Peek().kind == Tok::kComma) {
        Next();
        continue;
      }
      if (Peek().kind != Tok::kRBrace) return Unexpected("\",\" or \"}\"");
    }
    Next();
    // PromQL rejects selectors that match everything: at least one non-empty matcher.
    bool any = std::any_of(e->matchers.begin(), e->matchers.end(),
                           [](const Matcher& m) { return !m.Matches(""); });
    if (!any) return ParseError{pos, "vector selector must contain at least one non-empty matcher"};
    return e;
  }

  Expected<std::vector<std::string>, ParseError> ParseLabelList() {
    std::vector<std::string> out;
    if (auto err = Expect(Tok::kLParen, "\"(\"")) return *err;
    while (Peek().kind != Tok::kRParen) {
      if (Peek().kind != Tok::kIdent) return Unexpected("a label name");
      out.push_back(Next().text);
      if (Peek().kind == Tok::kComma) {
        Next();
        continue;
      }
      if (Peek().kind != Tok::kRParen) return Unexpected("\",\" or \")\"");
    }
    Next();
    return out;
  }

  std::optional<ParseError> ParseGrouping(Expr& e) {
    if (Peek().kind == Tok::kIdent && (Peek().text == "by" || Peek().text == "without")) {
      e.without = Next().text == "without";
      auto labels = ParseLabelList();
      if (!labels) return labels.error();
      e.grouping = std::move(labels.value());
      e.has_matching = true;  // marks "grouping given"
    }
    return std::nullopt;
  }

  Expected<std::unique_ptr<Expr>, ParseError> ParseAggregate() {
    const Token& name = Next();
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kAggregate;
    e->pos = name.pos;
    e->func = name.text;
    if (auto err = ParseGrouping(*e)) return *err;
    const bool grouped_before = e->has_matching;
    if (auto err = Expect(Tok::kLParen, "\"(\"")) return *err;
    auto arg = ParseBinary(0);
    if (!arg) return arg;
    if (Peek().kind == Tok::kComma) {
      return ParseError{Peek().pos, e->func + " takes one argument"};
    }
    if (auto err = Expect(Tok::kRParen, "\")\"")) return *err;
    if (auto err = CheckTopLevel(**arg)) return *err;
    if ((*arg)->ReturnsScalar()) {
      return ParseError{(*arg)->pos, e->func + " expects an instant vector, got a scalar"};
    }
    if (!grouped_before) {
      if (auto err = ParseGrouping(*e)) return *err;
    }
    e->has_matching = false;
    e->args.push_back(std::move(arg.value()));
    return e;
  }

  Expected<std::unique_ptr<Expr>, ParseError> ParseCall() {
    const Token& name = Next();
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kCall;
    e->pos = name.pos;
    e->func = name.text;
    Next();  // (
    auto arg = ParseUnary();
    if (!arg) return arg;
    if ((*arg)->kind != Expr::Kind::kSelector || (*arg)->range_ms == 0) {
      return ParseError{(*arg)->pos, e->func + " expects a range selector such as metric[5m]"};
    }
    if (Peek().kind == Tok::kComma) return ParseError{Peek().pos, e->func + " takes one argument"};
    if (auto err = Expect(Tok::kRParen, "\")\"")) return *err;
    e->args.push_back(std::move(arg.value()));
    return e;
  }

  std::vector<Token> tokens_;
  std::size_t i_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Evaluation

LabelSet DropName(LabelSet labels) {
  labels.erase(kMetricName);
  return labels;
}

// The matching key of a sample: the `on` labels, or all labels but the `ignoring` ones and the
// metric name. Rendered as a string with 0xff separators (label values are UTF-8).
std::string Signature(const LabelSet& labels, bool on, const std::vector<std::string>& names) {
  std::string sig;
  if (on) {
    std::vector<std::string> sorted = names;
    std::sort(sorted.begin(), sorted.end());
    for (const auto& n : sorted) {
      auto it = labels.find(n);
      sig += n;
      sig += '\xff';
      if (it != labels.end()) sig += it->second;
      sig += '\xff';
    }
    return sig;
  }
  for (const auto& [k, v] : labels) {
    if (k == kMetricName || std::find(names.begin(), names.end(), k) != names.end()) continue;
    sig += k;
    sig += '\xff';
    sig += v;
    sig += '\xff';
  }
  return sig;
}

std::string LabelsText(const LabelSet& labels) {
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ", ";
    out += k + "=\"" + v + "\"";
  }
  return out + "}";
}

// PromQL's scalar arithmetic and comparison. Returns (value, keep).
std::pair<double, bool> ElemBinop(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kAdd:
      return {l + r, true};
    case BinaryOp::kSub:
      return {l - r, true};
    case BinaryOp::kMul:
      return {l * r, true};
    case BinaryOp::kDiv:
      return {l / r, true};
    case BinaryOp::kMod:
      return {std::fmod(l, r), true};
    case BinaryOp::kPow:
      return {std::pow(l, r), true};
    case BinaryOp::kEq:
      return {l, l == r};
    case BinaryOp::kNe:
      return {l, l != r};
    case BinaryOp::kGt:
      return {l, l > r};
    case BinaryOp::kLt:
      return {l, l < r};
    case BinaryOp::kGe:
      return {l, l >= r};
    case BinaryOp::kLe:
      return {l, l <= r};
    default:
      return {0, false};
  }
}

class Evaluator {
 public:
  Evaluator(const Storage& storage, Timestamp t) : storage_(storage), t_(t) {}

  Expected<Value, std::string> Eval(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kNumber:
        return Value{true, e.number, {}};
      case Expr::Kind::kParen:
        return Eval(*e.args[0]);
      case Expr::Kind::kSelector:
        return Value{false, 0, Instant(e)};
      case Expr::Kind::kUnaryMinus: {
        auto v = Eval(*e.args[0]);
        if (!v) return v;
        if (v->is_scalar) return Value{true, -v->scalar, {}};
        for (Sample& s : v->vector) {
          s.value = -s.value;
          s.labels.erase(kMetricName);
        }
        return v;
      }
      case Expr::Kind::kCall:
        return Value{false, 0, Call(e)};
      case Expr::Kind::kAggregate: {
        auto v = Eval(*e.args[0]);
        if (!v) return v;
        return Value{false, 0, Aggregate(e, v->vector)};
      }
      case Expr::Kind::kBinary:
        return Binary(e);
    }
    return std::string("unknown expression");
  }

 private:
  Vector Instant(const Expr& sel) {
    Vector out;
    storage_.Select(sel.matchers, [&](const LabelSet& labels, const std::vector<Point>& points,
                                      std::optional<Timestamp> stale_at) {
      // The latest sample at or before t within the lookback window, unless the series went
      // stale after it (PromQL's staleness markers).
      auto it = std::upper_bound(points.begin(), points.end(), t_,
                                 [](Timestamp t, const Point& p) { return t < p.t; });
      if (it == points.begin()) return;
      const Point& p = *(it - 1);
      if (p.t <= t_ - kLookbackMs) return;
      if (stale_at && *stale_at > p.t && *stale_at <= t_) return;
      out.push_back(Sample{labels, p.v});
    });
    return out;
  }

  Vector Call(const Expr& call) {
    const Expr& sel = *call.args[0];
    const Timestamp start = t_ - sel.range_ms;
    Vector out;
    storage_.Select(sel.matchers, [&](const LabelSet& labels, const std::vector<Point>& points,
                                      std::optional<Timestamp>) {
      // Prometheus 2.x range selectors include both ends: [t - range, t].
      auto lo = std::lower_bound(points.begin(), points.end(), start,
                                 [](const Point& p, Timestamp t) { return p.t < t; });
      auto hi = std::upper_bound(points.begin(), points.end(), t_,
                                 [](Timestamp t, const Point& p) { return t < p.t; });
      if (lo >= hi) return;
      std::vector<Point> window(lo, hi);
      std::optional<double> v;
      if (call.func == "rate" || call.func == "increase") {
        v = ExtrapolatedRate(window, start, t_, sel.range_ms, call.func == "rate");
      } else if (call.func == "avg_over_time") {
        double sum = 0;
        for (const Point& p : window) sum += p.v;
        v = sum / static_cast<double>(window.size());
      } else if (call.func == "max_over_time") {
        double m = window[0].v;
        for (const Point& p : window) {
          if (p.v > m || std::isnan(m)) m = p.v;
        }
        v = m;
      } else if (call.func == "min_over_time") {
        double m = window[0].v;
        for (const Point& p : window) {
          if (p.v < m || std::isnan(m)) m = p.v;
        }
        v = m;
      }
      if (v) out.push_back(Sample{DropName(labels), *v});
    });
    return out;
  }

  // Prometheus' extrapolatedRate (promql/functions.go), counter semantics.
  static std::optional<double> ExtrapolatedRate(const std::vector<Point>& points, Timestamp start,
                                                Timestamp end, std::int64_t range_ms,
                                                bool is_rate) {
    if (points.size() < 2) return std::nullopt;
    double result = points.back().v - points.front().v;
    double last = 0;
    for (const Point& p : points) {
      if (p.v < last) result += last;  // a counter reset
      last = p.v;
    }
    double to_start = static_cast<double>(points.front().t - start) / 1000;
    const double to_end = static_cast<double>(end - points.back().t) / 1000;
    const double sampled = static_cast<double>(points.back().t - points.front().t) / 1000;
    const double average = sampled / static_cast<double>(points.size() - 1);
    if (result > 0 && points.front().v >= 0) {
      const double to_zero = sampled * (points.front().v / result);
      if (to_zero < to_start) to_start = to_zero;
    }
    const double threshold = average * 1.1;
    double interval = sampled;
    interval += to_start < threshold ? to_start : average / 2;
    interval += to_end < threshold ? to_end : average / 2;
    result = result * (interval / sampled);
    if (is_rate) result /= static_cast<double>(range_ms) / 1000;
    return result;
  }

  Vector Aggregate(const Expr& agg, const Vector& in) {
    struct Group {
      LabelSet labels;
      double value = 0;
      double count = 0;
    };
    std::map<std::string, Group> groups;
    std::vector<std::string> order;
    for (const Sample& s : in) {
      LabelSet key_labels;
      if (agg.without) {
        key_labels = DropName(s.labels);
        for (const auto& n : agg.grouping) key_labels.erase(n);
      } else {
        for (const auto& n : agg.grouping) {
          auto it = s.labels.find(n);
          if (it != s.labels.end()) key_labels.emplace(n, it->second);
        }
      }
      std::string key = Signature(key_labels, false, {});
      auto [it, inserted] = groups.try_emplace(key);
      Group& g = it->second;
      if (inserted) {
        g.labels = std::move(key_labels);
        g.value = s.value;
        g.count = 1;
        order.push_back(key);
        continue;
      }
      g.count += 1;
      if (agg.func == "sum" || agg.func == "avg") {
        g.value += s.value;
      } else if (agg.func == "max") {
        if (g.value < s.value || std::isnan(g.value)) g.value = s.value;
      } else if (agg.func == "min") {
        if (g.value > s.value || std::isnan(g.value)) g.value = s.value;
      }
    }
    Vector out;
    for (const auto& key : order) {
      Group& g = groups[key];
      double v = g.value;
      if (agg.func == "avg") v = g.value / g.count;
      if (agg.func == "count") v = g.count;
      out.push_back(Sample{std::move(g.labels), v});
    }
    return out;
  }

  Expected<Value, std::string> Binary(const Expr& e) {
    auto l = Eval(*e.args[0]);
    if (!l) return l;
    auto r = Eval(*e.args[1]);
    if (!r) return r;
    const bool arithmetic = !IsComparison(e.op) && !IsSetOp(e.op);
    if (l->is_scalar && r->is_scalar) {
      auto [v, keep] = ElemBinop(e.op, l->scalar, r->scalar);
      if (IsComparison(e.op)) v = keep ? 1 : 0;
      return Value{true, v, {}};
    }
    if (l->is_scalar || r->is_scalar) {
      const bool swap = l->is_scalar;
      Vector& vec = swap ? r->vector : l->vector;
      const double scalar = swap ? l->scalar : r->scalar;
      Vector out;
      for (Sample& s : vec) {
        double lv = s.value, rv = scalar;
        if (swap) std::swap(lv, rv);
        auto [v, keep] = ElemBinop(e.op, lv, rv);
        if (IsComparison(e.op) && swap) v = rv;  // keep the vector's value
        if (e.return_bool) {
          v = keep ? 1 : 0;
          keep = true;
        }
        if (!keep) continue;
        s.value = v;
        if (arithmetic || e.return_bool) s.labels.erase(kMetricName);
        out.push_back(std::move(s));
      }
      return Value{false, 0, std::move(out)};
    }
    if (IsSetOp(e.op)) return Value{false, 0, SetOp(e, l->vector, r->vector)};
    return VectorBinop(e, l->vector, r->vector);
  }

  Vector SetOp(const Expr& e, Vector& lhs, Vector& rhs) {
    const bool on = e.has_matching && e.on;
    std::set<std::string> rsigs, lsigs;
    for (const Sample& s : rhs) rsigs.insert(Signature(s.labels, on, e.matching));
    Vector out;
    if (e.op == BinaryOp::kOr) {
      for (Sample& s : lhs) {
        lsigs.insert(Signature(s.labels, on, e.matching));
        out.push_back(std::move(s));
      }
      for (Sample& s : rhs) {
        if (!lsigs.count(Signature(s.labels, on, e.matching))) out.push_back(std::move(s));
      }
      return out;
    }
    for (Sample& s : lhs) {
      const bool found = rsigs.count(Signature(s.labels, on, e.matching)) > 0;
      if ((e.op == BinaryOp::kAnd) == found) out.push_back(std::move(s));
    }
    return out;
  }

  Expected<Value, std::string> VectorBinop(const Expr& e, Vector& lhs_in, Vector& rhs_in) {
    const bool on = e.has_matching && e.on;
    const bool swapped = e.card == Expr::Card::kOneToMany;
    // "one" side is rhs (after swapping for group_right).
    Vector& many = swapped ? rhs_in : lhs_in;
    Vector& one = swapped ? lhs_in : rhs_in;
    std::unordered_map<std::string, const Sample*> one_by_sig;
    for (const Sample& s : one) {
      auto [it, inserted] = one_by_sig.emplace(Signature(s.labels, on, e.matching), &s);
      if (!inserted) {
        return std::string("found duplicate series for the match group ") +
               LabelsText(DropName(s.labels)) + " on the " + (swapped ? "left" : "right") +
               " hand-side of the operation; many-to-many matching not allowed: matching labels "
               "must be unique on one side";
      }
    }
    const bool arithmetic = !IsComparison(e.op);
    std::set<std::string> seen_one_to_one;
    std::set<std::string> seen_result;
    Vector out;
    for (const Sample& m : many) {
      const std::string sig = Signature(m.labels, on, e.matching);
      auto it = one_by_sig.find(sig);
      if (it == one_by_sig.end()) continue;
      const Sample& o = *it->second;
      if (e.card == Expr::Card::kOneToOne && !seen_one_to_one.insert(sig).second) {
        return std::string(
            "multiple matches for labels: many-to-one matching must be explicit "
            "(group_left/group_right)");
      }
      double lv = swapped ? o.value : m.value;
      double rv = swapped ? m.value : o.value;
      auto [v, keep] = ElemBinop(e.op, lv, rv);
      if (e.return_bool) {
        v = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
      LabelSet labels = m.labels;
      if (arithmetic || e.return_bool) labels.erase(kMetricName);
      if (e.card == Expr::Card::kOneToOne) {
        if (on) {
          LabelSet kept;
          for (const auto& n : e.matching) {
            if (auto f = labels.find(n); f != labels.end()) kept.insert(*f);
          }
          labels = std::move(kept);
        } else {
          for (const auto& n : e.matching) labels.erase(n);
        }
      }
      for (const auto& n : e.include) {
        auto f = o.labels.find(n);
        if (f != o.labels.end() && !f->second.empty()) {
          labels[n] = f->second;
        } else {
          labels.erase(n);
        }
      }
      if (e.card != Expr::Card::kOneToOne &&
          !seen_result
               .insert(Signature(labels, false, {}) + '\x01' +
                       (labels.count(kMetricName) ? labels.at(kMetricName) : ""))
               .second) {
        return std::string(
            "multiple matches for labels: grouping labels must ensure unique "
            "matches");
      }
      out.push_back(Sample{std::move(labels), v});
    }
    return Value{false, 0, std::move(out)};
  }

  const Storage& storage_;
  Timestamp t_;
};

void CollectSelectors(const Expr& e, std::int64_t range, std::vector<SelectorUse>& out) {
  if (e.kind == Expr::Kind::kSelector) {
    out.push_back(SelectorUse{&e, std::max(range, e.range_ms)});
    return;
  }
  for (const auto& a : e.args) CollectSelectors(*a, range, out);
}

}  // namespace

bool Matcher::Matches(const std::string& v) const {
  switch (op) {
    case Op::kEqual:
      return v == value;
    case Op::kNotEqual:
      return v != value;
    case Op::kRegex:
      return std::regex_match(v, *regex);
    case Op::kNotRegex:
      return !std::regex_match(v, *regex);
  }
  return false;
}

bool Expr::ReturnsScalar() const {
  switch (kind) {
    case Kind::kNumber:
      return true;
    case Kind::kParen:
    case Kind::kUnaryMinus:
      return args[0]->ReturnsScalar();
    case Kind::kBinary:
      return args[0]->ReturnsScalar() && args[1]->ReturnsScalar();
    default:
      return false;
  }
}

Expected<std::unique_ptr<Expr>, ParseError> Parse(std::string_view text) {
  auto tokens = Lexer(text).Run();
  if (!tokens) return tokens.error();
  return Parser(std::move(tokens.value())).ParseAll();
}

std::vector<SelectorUse> Selectors(const Expr& expr) {
  std::vector<SelectorUse> out;
  CollectSelectors(expr, 0, out);
  return out;
}

Expected<Value, std::string> Evaluate(const Expr& expr, const Storage& storage, Timestamp t) {
  return Evaluator(storage, t).Eval(expr);
}

std::string FormatGoFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest round-trip digits; Go's %v switches to an exponent below 1e-4 and from 1e21.
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, end);
  const auto e = sci.find('e');
  const int exp = std::stoi(sci.substr(e + 1));
  if (exp < -4 || exp >= 21) {
    // Go writes at least two exponent digits: 1e+21, 1e-05 (as does to_chars).
    return sci;
  }
  auto [end2, ec2] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, end2);
}

std::string FormatDurationMs(std::int64_t ms) {
  if (ms == 0) return "0s";
  static const std::pair<const char*, std::int64_t> kUnits[] = {
      {"y", 31'536'000'000}, {"w", 604'800'000}, {"d", 86'400'000}, {"h", 3'600'000},
      {"m", 60'000},         {"s", 1000},        {"ms", 1}};
  std::string out;
  for (const auto& [unit, size] : kUnits) {
    if (ms >= size) {
      out += std::to_string(ms / size) + unit;
      ms %= size;
    }
  }
  return out;
}

}  // namespace tacho::alerts::promql
