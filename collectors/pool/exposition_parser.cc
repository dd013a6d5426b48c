#include "collectors/pool/exposition_parser.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace tacho::collectors::pool {

const std::string* ExpositionSample::Label(std::string_view name) const {
  for (const auto& [k, v] : labels) {
    if (k == name) return &v;
  }
  return nullptr;
}

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }
bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsLabelStart(char c) { return IsNameStart(c) && c != ':'; }
bool IsLabelChar(char c) { return IsNameChar(c) && c != ':'; }

std::string Shorten(std::string_view text) {
  constexpr std::size_t kMax = 40;
  if (text.size() <= kMax) return std::string(text);
  return std::string(text.substr(0, kMax)) + "...";
}

// A float as the formats write it: "3", "3.0", "1.5E7", "NaN", "+Inf", "-Inf".
std::optional<double> ParseFloat(std::string_view token) {
  if (!token.empty() && token.front() == '+') token.remove_prefix(1);
  if (token.empty() || token.front() == '+') return std::nullopt;
  double value = 0;
  const char* end = token.data() + token.size();
  auto [ptr, ec] = std::from_chars(token.data(), end, value, std::chars_format::general);
  if (ptr != end) return std::nullopt;
  // Out of range: from_chars leaves `value` untouched; the text meant a huge or tiny number.
  if (ec == std::errc::result_out_of_range) {
    const bool negative = token.front() == '-';
    // A huge exponent overflows, a huge negative one underflows.
    const bool huge = token.find_first_of("eE") == std::string_view::npos ||
                      token[token.find_first_of("eE") + 1] != '-';
    if (huge)
      return negative ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
    return negative ? -0.0 : 0.0;
  }
  if (ec != std::errc()) return std::nullopt;
  return value;
}

class LineParser {
 public:
  LineParser(std::string_view line, std::vector<std::pair<std::string, std::string>>& labels)
      : line_(line), labels_(labels) {}

  // Parses one sample line; on success name()/value()/timestamp() and the labels are set.
  Status Parse() {
    SkipSpace();
    const std::size_t name_start = pos_;
    if (pos_ >= line_.size() || !IsNameStart(line_[pos_])) {
      return Status::Error("expected a metric name, got \"" + Shorten(line_.substr(pos_)) + "\"");
    }
    while (pos_ < line_.size() && IsNameChar(line_[pos_])) ++pos_;
    name_ = line_.substr(name_start, pos_ - name_start);
    SkipSpace();
    label_count_ = 0;
    if (pos_ < line_.size() && line_[pos_] == '{') {
      ++pos_;
      if (Status s = ParseLabels(); !s.ok()) return s;
    }
    labels_.resize(label_count_);
    SkipSpace();
    std::string_view token = Token();
    if (token.empty())
      return Status::Error("expected a value after \"" + std::string(name_) + "\"");
    auto value = ParseFloat(token);
    if (!value) return Status::Error("invalid value \"" + Shorten(token) + "\"");
    value_ = *value;
    SkipSpace();
    timestamp_.reset();
    if (AtEndOrExemplar()) return Status::Ok();
    token = Token();
    auto timestamp = ParseFloat(token);
    if (!timestamp || !std::isfinite(*timestamp)) {
      return Status::Error("invalid timestamp \"" + Shorten(token) + "\"");
    }
    timestamp_ = *timestamp;
    SkipSpace();
    if (AtEndOrExemplar()) return Status::Ok();
    return Status::Error("unexpected \"" + Shorten(line_.substr(pos_)) + "\" after the timestamp");
  }

  std::string_view name() const { return name_; }
  double value() const { return value_; }
  std::optional<double> timestamp() const { return timestamp_; }

 private:
  void SkipSpace() {
    while (pos_ < line_.size() && IsSpace(line_[pos_])) ++pos_;
  }

  std::string_view Token() {
    const std::size_t start = pos_;
    while (pos_ < line_.size() && !IsSpace(line_[pos_])) ++pos_;
    return line_.substr(start, pos_ - start);
  }

  // The end of the line, or an OpenMetrics exemplar (" # {trace_id=...} 1.0"), which is ignored.
  bool AtEndOrExemplar() const { return pos_ >= line_.size() || line_[pos_] == '#'; }

  // After '{': name="value" pairs separated by ',', a trailing ',' allowed (Micrometer writes
  // one), up to '}'.
  Status ParseLabels() {
    while (true) {
      SkipSpace();
      if (pos_ >= line_.size()) return Status::Error("unterminated label set (missing '}')");
      if (line_[pos_] == '}') {
        ++pos_;
        return Status::Ok();
      }
      const std::size_t start = pos_;
      if (!IsLabelStart(line_[pos_])) {
        return Status::Error("expected a label name or '}', got \"" + Shorten(line_.substr(pos_)) +
                             "\"");
      }
      while (pos_ < line_.size() && IsLabelChar(line_[pos_])) ++pos_;
      const std::string_view label = line_.substr(start, pos_ - start);
      for (std::size_t i = 0; i < label_count_; ++i) {
        if (labels_[i].first == label) {
          return Status::Error("duplicate label \"" + std::string(label) + "\"");
        }
      }
      SkipSpace();
      if (pos_ >= line_.size() || line_[pos_] != '=') {
        return Status::Error("expected '=' after label name \"" + std::string(label) + "\"");
      }
      ++pos_;
      SkipSpace();
      if (pos_ >= line_.size() || line_[pos_] != '"') {
        return Status::Error("expected '\"' to open the value of label \"" + std::string(label) +
                             "\"");
      }
      ++pos_;
      if (label_count_ == labels_.size()) labels_.emplace_back();
      auto& [key, value] = labels_[label_count_++];
      key.assign(label);
      value.clear();
      bool closed = false;
      while (pos_ < line_.size()) {
        const char c = line_[pos_++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c != '\\' || pos_ >= line_.size()) {
          value.push_back(c);
          continue;
        }
        const char next = line_[pos_++];
        switch (next) {
          case 'n':
            value.push_back('\n');
            break;
          case '\\':
          case '"':
            value.push_back(next);
            break;
          default:  // not an escape the format defines: kept as written
            value.push_back('\\');
            value.push_back(next);
        }
      }
      if (!closed) {
        return Status::Error("unterminated value of label \"" + std::string(label) + "\"");
      }
      SkipSpace();
      if (pos_ < line_.size() && line_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < line_.size() && line_[pos_] == '}') continue;
      return Status::Error("expected ',' or '}' after the value of label \"" + std::string(label) +
                           "\"");
    }
  }

  std::string_view line_;
  std::vector<std::pair<std::string, std::string>>& labels_;
  std::size_t label_count_ = 0;
  std::size_t pos_ = 0;
  std::string_view name_;
  double value_ = 0;
  std::optional<double> timestamp_;
};

std::string FormatBytes(std::size_t bytes) {
  if (bytes % (std::size_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

Expected<Exposition> ParseExposition(std::string_view text, const ExpositionLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return Status::Error("exposition of " + std::to_string(text.size()) +
                         " bytes exceeds the limit of " + FormatBytes(limits.max_bytes));
  }
  Exposition out;
  std::vector<std::pair<std::string, std::string>> scratch;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t first = 0;
    while (first < line.size() && IsSpace(line[first])) ++first;
    line.remove_prefix(first);
    if (line.empty()) continue;
    if (line.front() == '#') {
      // # HELP, # TYPE, # UNIT and free comments carry nothing the mapping needs.
      std::string_view rest = line.substr(1);
      while (!rest.empty() && IsSpace(rest.front())) rest.remove_prefix(1);
      while (!rest.empty() && IsSpace(rest.back())) rest.remove_suffix(1);
      if (rest == "EOF") break;  // OpenMetrics: the end of the exposition
      continue;
    }
    LineParser parser(line, scratch);
    if (Status s = parser.Parse(); !s.ok()) {
      return Status::Error("line " + std::to_string(line_no) + ": " + s.message());
    }
    if (++out.total_samples > limits.max_samples) {
      return Status::Error("exposition has more than " + std::to_string(limits.max_samples) +
                           " samples (the limit)");
    }
    if (limits.keep && !limits.keep(parser.name())) continue;
    ExpositionSample sample;
    sample.name.assign(parser.name());
    sample.labels = scratch;
    sample.value = parser.value();
    sample.timestamp = parser.timestamp();
    out.samples.push_back(std::move(sample));
  }
  return out;
}

}  // namespace tacho::collectors::pool
