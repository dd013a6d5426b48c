#include "collectors/pool/exposition_parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "collectors/pool/test_util.h"

namespace tacho::collectors::pool {
namespace {

using testutil::AppFixture;

Exposition MustParse(std::string_view text, const ExpositionLimits& limits = {}) {
  auto parsed = ParseExposition(text, limits);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message());
  return parsed.ok() ? std::move(*parsed) : Exposition{};
}

std::string ErrorOf(std::string_view text, const ExpositionLimits& limits = {}) {
  auto parsed = ParseExposition(text, limits);
  return parsed.ok() ? "" : parsed.error().message();
}

TEST(ExpositionParserTest, reads_micrometer_output_with_trailing_commas) {
  const Exposition e = MustParse(AppFixture("hikaricp_micrometer_spring-boot-3.2_crafted.txt"));
  EXPECT_EQ(e.total_samples, 67u);
  ASSERT_EQ(e.samples.size(), e.total_samples);
  const ExpositionSample* active = nullptr;
  for (const auto& s : e.samples) {
    if (s.name == "hikaricp_connections_active" && *s.Label("pool") == "orders-hikari") active = &s;
  }
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->value, 20.0);
  ASSERT_EQ(active->labels.size(), 2u);
  EXPECT_EQ(active->labels[0].first, "application");
  EXPECT_EQ(active->labels[0].second, "orders-service");
  EXPECT_EQ(active->Label("missing"), nullptr);
}

TEST(ExpositionParserTest, reads_java_and_go_float_formats) {
  const Exposition e = MustParse(
      "a 2.147483648E9\n"
      "b 1.71739811211e+09\n"
      "c -1.0\n"
      "d 3.4521e-05\n"
      "e +7\n"
      "f 1e400\n");
  ASSERT_EQ(e.samples.size(), 6u);
  EXPECT_EQ(e.samples[0].value, 2147483648.0);
  EXPECT_DOUBLE_EQ(e.samples[1].value, 1717398112.11);
  EXPECT_EQ(e.samples[2].value, -1.0);
  EXPECT_DOUBLE_EQ(e.samples[3].value, 3.4521e-05);
  EXPECT_EQ(e.samples[4].value, 7.0);
  EXPECT_TRUE(std::isinf(e.samples[5].value));
}

TEST(ExpositionParserTest, reads_nan_and_infinities) {
  const Exposition e = MustParse("a NaN\nb +Inf\nc -Inf\nd Inf\ne nan\n");
  ASSERT_EQ(e.samples.size(), 5u);
  EXPECT_TRUE(std::isnan(e.samples[0].value));
  EXPECT_TRUE(std::isinf(e.samples[1].value) && e.samples[1].value > 0);
  EXPECT_TRUE(std::isinf(e.samples[2].value) && e.samples[2].value < 0);
  EXPECT_TRUE(std::isinf(e.samples[3].value) && e.samples[3].value > 0);
  EXPECT_TRUE(std::isnan(e.samples[4].value));
}

TEST(ExpositionParserTest, unescapes_label_values) {
  const Exposition e =
      MustParse(R"(m{path="C:\\dir",quote="say \"hi\"",nl="a\nb",other="x\ty",brace="}{,="} 1)"
                "\n");
  ASSERT_EQ(e.samples.size(), 1u);
  const ExpositionSample& s = e.samples[0];
  EXPECT_EQ(*s.Label("path"), "C:\\dir");
  EXPECT_EQ(*s.Label("quote"), "say \"hi\"");
  EXPECT_EQ(*s.Label("nl"), "a\nb");
  EXPECT_EQ(*s.Label("other"), "x\\ty");  // not an escape of the format: kept as written
  EXPECT_EQ(*s.Label("brace"), "}{,=");
}

TEST(ExpositionParserTest, keeps_timestamps_and_ignores_exemplars) {
  const Exposition e = MustParse(
      "a 1 1717398112113\n"
      "b_total 5 # {trace_id=\"abc\"} 0.5 1717398112.1\n"
      "c 2 1717398112.5 # {trace_id=\"d\"} 1\n"
      "d{x=\"y\"}3\n");
  ASSERT_EQ(e.samples.size(), 4u);
  EXPECT_EQ(e.samples[0].timestamp, 1717398112113.0);
  EXPECT_EQ(e.samples[1].value, 5.0);
  EXPECT_FALSE(e.samples[1].timestamp.has_value());
  EXPECT_EQ(e.samples[2].timestamp, 1717398112.5);
  EXPECT_EQ(e.samples[3].value, 3.0);
}

TEST(ExpositionParserTest, tolerates_openmetrics_and_stops_at_eof) {
  const Exposition e = MustParse(
      "# TYPE hikaricp_connections_timeout counter\n"
      "# UNIT hikaricp_connections_timeout connections\n"
      "# HELP hikaricp_connections_timeout Connection timeout total count\n"
      "hikaricp_connections_timeout_total{pool=\"a\"} 3.0\n"
      "hikaricp_connections_timeout_created{pool=\"a\"} 1.7173981e9\n"
      "# EOF\n"
      "this is not parsed\n");
  ASSERT_EQ(e.samples.size(), 2u);
  EXPECT_EQ(e.samples[1].name, "hikaricp_connections_timeout_created");
}

TEST(ExpositionParserTest, tolerates_crlf_blank_lines_indentation_and_spaces) {
  const Exposition e =
      MustParse("# HELP a help\r\n\r\n   \n\ta { x = \"1\" , y=\"2\" , } \t 4\r\nb 5");
  ASSERT_EQ(e.samples.size(), 2u);
  EXPECT_EQ(*e.samples[0].Label("y"), "2");
  EXPECT_EQ(e.samples[0].value, 4.0);
  EXPECT_EQ(e.samples[1].value, 5.0);
  EXPECT_EQ(MustParse("").total_samples, 0u);
}

TEST(ExpositionParserTest, reports_the_line_of_a_syntax_error) {
  EXPECT_EQ(ErrorOf("a 1\n# c\nb{pool=\"x\" 2\n"),
            "line 3: expected ',' or '}' after the value of label \"pool\"");
  EXPECT_EQ(ErrorOf("a{pool \"x\"} 1\n"), "line 1: expected '=' after label name \"pool\"");
  EXPECT_EQ(ErrorOf("\n\na{pool=\"x} 1\n"), "line 3: unterminated value of label \"pool\"");
  EXPECT_EQ(ErrorOf("a 1\nb\n"), "line 2: expected a value after \"b\"");
  EXPECT_EQ(ErrorOf("a one\n"), "line 1: invalid value \"one\"");
  EXPECT_EQ(ErrorOf("a 1 soon\n"), "line 1: invalid timestamp \"soon\"");
  EXPECT_EQ(ErrorOf("a 1 2 3\n"), "line 1: unexpected \"3\" after the timestamp");
  EXPECT_EQ(ErrorOf("{} 1\n"), "line 1: expected a metric name, got \"{} 1\"");
  EXPECT_EQ(ErrorOf("a{x=\"1\",x=\"2\"} 1\n"), "line 1: duplicate label \"x\"");
  EXPECT_EQ(ErrorOf("a{1x=\"1\"} 1\n"),
            "line 1: expected a label name or '}', got \"1x=\"1\"} 1\"");
  EXPECT_EQ(ErrorOf("a{x=1} 1\n"), "line 1: expected '\"' to open the value of label \"x\"");
  EXPECT_EQ(ErrorOf("<html><body>Login</body></html>\n"),
            "line 1: expected a metric name, got \"<html><body>Login</body></html>\"");
}

TEST(ExpositionParserTest, rejects_a_body_over_the_size_limit) {
  ExpositionLimits limits;
  limits.max_bytes = 8;
  EXPECT_EQ(ErrorOf("a 1\nb 2\nc 3\n", limits),
            "exposition of 12 bytes exceeds the limit of 8 bytes");
  EXPECT_EQ(ErrorOf(std::string((16u << 20) + 1, '\n')),
            "exposition of 16777217 bytes exceeds the limit of 16 MiB");
}

TEST(ExpositionParserTest, rejects_more_samples_than_the_limit) {
  ExpositionLimits limits;
  limits.max_samples = 2;
  EXPECT_EQ(MustParse("a 1\nb 2\n", limits).total_samples, 2u);
  EXPECT_EQ(ErrorOf("a 1\nb 2\nc 3\n", limits), "exposition has more than 2 samples (the limit)");
  // The default limit: one million.
  std::string big;
  big.reserve(6'000'010);
  for (int i = 0; i <= 1'000'000; ++i) big += "x 1\n";
  EXPECT_EQ(ErrorOf(big), "exposition has more than 1000000 samples (the limit)");
}

TEST(ExpositionParserTest, keep_filter_stores_only_wanted_samples_but_counts_all) {
  ExpositionLimits limits;
  limits.keep = [](std::string_view name) { return name.rfind("go_sql_", 0) == 0; };
  const Exposition e = MustParse(AppFixture("go_client_golang-1.19_dbstats_crafted.txt"), limits);
  EXPECT_EQ(e.total_samples, 42u);
  EXPECT_EQ(e.samples.size(), 18u);
  for (const auto& s : e.samples) EXPECT_EQ(s.name.rfind("go_sql_", 0), 0u) << s.name;
}

TEST(ExpositionParserTest, filtered_samples_are_still_checked) {
  ExpositionLimits limits;
  limits.keep = [](std::string_view) { return false; };
  EXPECT_EQ(ErrorOf("a 1\nb{x=\"1\" 2\n", limits),
            "line 2: expected ',' or '}' after the value of label \"x\"");
}

}  // namespace
}  // namespace tacho::collectors::pool
