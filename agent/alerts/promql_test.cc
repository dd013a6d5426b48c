#include "agent/alerts/promql.h"

#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <string_view>

#include "agent/alerts/series_store.h"

namespace tacho::alerts::promql {
namespace {

constexpr Timestamp kT0 = 1'700'000'000'000;  // ms

// A store with every metric name kept for an hour.
class Fixture {
 public:
  Fixture() {
    store_.SetRetention({{"up", 3600000},
                         {"conns", 3600000},
                         {"max_conns", 3600000},
                         {"reqs_total", 3600000},
                         {"temp", 3600000},
                         {"cpus", 3600000},
                         {"cpu_seconds_total", 3600000}});
  }
  void Add(LabelSet labels, Timestamp t, double v) { store_.Append(labels, Point{t, v}); }
  // Evaluates and returns "labels => value" lines sorted, or "error: ..." / "scalar: v".
  std::string Eval(std::string_view expr, Timestamp t = kT0) {
    auto parsed = Parse(expr);
    if (!parsed) return "parse error: " + parsed.error().message;
    auto v = Evaluate(**parsed, store_, t);
    if (!v) return "error: " + v.error();
    if (v->is_scalar) return "scalar: " + FormatGoFloat(v->scalar);
    std::vector<std::string> lines;
    for (const Sample& s : v->vector) {
      std::string l = "{";
      for (const auto& [k, val] : s.labels) l += (l.size() > 1 ? "," : "") + k + "=" + val;
      lines.push_back(l + "} " + FormatGoFloat(s.value));
    }
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
  SeriesStore store_;
};

// One expression evaluated at kT0 and the "labels => value" lines Fixture::Eval should give;
// `why` is printed when the case fails.
struct EvalCase {
  std::string_view expr;
  std::string_view want;
  std::string_view why = "";
};

void ExpectEvals(Fixture& f, std::initializer_list<EvalCase> cases) {
  for (const EvalCase& c : cases) EXPECT_EQ(f.Eval(c.expr), c.want) << c.expr << ": " << c.why;
}

TEST(PromqlParseTest, accepts_the_subset) {
  for (const char* ok : {"up",
                         "up == 0",
                         "up{target=\"a\",job!=\"b\"}",
                         "conns{state=~\"idle.*\"}",
                         "conns{state!~\"idle\"}",
                         "rate(reqs_total[5m])",
                         "increase(reqs_total[1h30m])",
                         "avg_over_time(temp[10m])",
                         "max_over_time(temp[1m]) > 3",
                         "sum by (target) (conns)",
                         "sum(conns) by (target)",
                         "count without (state) (conns)",
                         "avg(conns)",
                         "min(conns)",
                         "max(conns)",
                         "conns / max_conns",
                         "conns / on (target) max_conns",
                         "conns / ignoring (state) max_conns",
                         "conns / on (target) group_left max_conns",
                         "conns > bool 3",
                         "-conns",
                         "2 ^ 3 ^ 2",
                         "conns and max_conns",
                         "conns or max_conns",
                         "conns unless max_conns",
                         "(conns)",
                         "conns % 3",
                         "1e3 < bool 2",
                         "conns > Inf",
                         "0x10 * conns"}) {
    auto parsed = Parse(ok);
    EXPECT_TRUE(parsed) << ok << ": " << (parsed ? "" : parsed.error().message);
  }
}

TEST(PromqlParseTest, rejects_what_is_outside_the_subset_with_position) {
  struct Case {
    const char* expr;
    std::size_t pos;
    const char* message;
  };
  const Case cases[] = {
      {"histogram_quantile(0.9, x)", 0, "function 'histogram_quantile' is not supported"},
      {"topk(3, conns)", 0, "aggregation 'topk' is not supported"},
      {"conns offset 5m", 6, "offset is not supported"},
      {"rate(conns[5m:1m])", 13, "subqueries are not supported"},
      {"rate(conns)", 5, "rate expects a range selector"},
      {"conns[5m]", 0, "a range selector must be"},
      {"1 > 2", 2, "comparisons between scalars must use the bool modifier"},
      {"conns{a=\"b\"", 11, "unexpected end of input"},
      {"conns{a=~\"(\"}", 9, "invalid regular expression"},
      {"{a=\"\"}", 0, "at least one non-empty matcher"},
      {"conns @ 100", 6, "the @ modifier is not supported"},
      {"sum(conns) by (a) by (b)", 18, "unexpected \"by\""},
  };
  for (const Case& c : cases) {
    auto parsed = Parse(c.expr);
    ASSERT_FALSE(parsed) << c.expr;
    EXPECT_EQ(parsed.error().pos, c.pos) << c.expr << ": " << parsed.error().message;
    EXPECT_NE(parsed.error().message.find(c.message), std::string::npos)
        << c.expr << ": " << parsed.error().message;
  }
}

TEST(PromqlEvalTest, instant_selector_matchers) {
  Fixture f;
  f.Add({{"__name__", "conns"}, {"state", "idle"}, {"target", "a"}}, kT0, 3);
  f.Add({{"__name__", "conns"}, {"state", "idle in transaction"}, {"target", "a"}}, kT0, 2);
  f.Add({{"__name__", "conns"}, {"state", "active"}, {"target", "a"}}, kT0, 5);
  ExpectEvals(f, {{"conns{state=\"idle\"}", "{__name__=conns,state=idle,target=a} 3\n"},
                  {"conns{state!=\"idle\",state!=\"active\"}",
                   "{__name__=conns,state=idle in transaction,target=a} 2\n"},
                  {"conns{state=~\"idle\"}", "{__name__=conns,state=idle,target=a} 3\n",
                   "regexes are anchored"},
                  {"conns{state!~\"idle.*\"}", "{__name__=conns,state=active,target=a} 5\n"}});
  EXPECT_EQ(f.Eval("conns{missing=\"\"}"), f.Eval("conns"))
      << "an absent label matches the empty string";
}

TEST(PromqlEvalTest, instant_selector_lookback_and_staleness) {
  Fixture f;
  f.Add({{"__name__", "up"}, {"target", "a"}}, kT0 - 4 * 60000, 1);
  f.Add({{"__name__", "up"}, {"target", "b"}}, kT0 - 6 * 60000, 1);
  EXPECT_EQ(f.Eval("up"), "{__name__=up,target=a} 1\n") << "5m lookback";
  SeriesStore& s = f.store_;
  s.Ingest("src", {}, kT0);  // nothing from "src" → its series go stale
  prometheus::MetricFamily fam;
  fam.name = "up";
  fam.type = prometheus::MetricType::Gauge;
  fam.metric.resize(1);
  fam.metric[0].label = {{"target", "c"}};
  fam.metric[0].gauge.value = 1;
  s.Ingest("src", {fam}, kT0);
  EXPECT_EQ(f.Eval("up{target=\"c\"}"), "{__name__=up,target=c} 1\n");
  s.Ingest("src", {}, kT0 + 1000);
  EXPECT_EQ(f.Eval("up{target=\"c\"}", kT0 + 1000), "")
      << "a series its source no longer reports is stale at once";
  EXPECT_EQ(f.Eval("up{target=\"c\"}", kT0 + 500), "{__name__=up,target=c} 1\n");
}

TEST(PromqlEvalTest, rate_and_increase_extrapolate_like_prometheus) {
  Fixture f;
  // 0, 10, 20, ... every 15 s from kT0-300s..kT0 (21 samples): 40/min.
  for (int i = 0; i <= 20; ++i) {
    f.Add({{"__name__", "reqs_total"}, {"target", "a"}}, kT0 - 300000 + i * 15000, i * 10.0);
  }
  EXPECT_EQ(f.Eval("rate(reqs_total[5m])"), "{target=a} 0.6666666666666666\n");
  EXPECT_EQ(f.Eval("increase(reqs_total[5m])"), "{target=a} 200\n");
  // A window whose samples start 7.5 s (half an interval) after its start extrapolates half
  // an interval at the start, limited by where the counter would reach zero.
  EXPECT_EQ(f.Eval("increase(reqs_total[1m])", kT0 - 7500), "{target=a} 40\n");
}

TEST(PromqlEvalTest, rate_handles_counter_resets) {
  Fixture f;
  const double values[] = {100, 110, 120, 5, 15};
  for (int i = 0; i < 5; ++i) {
    f.Add({{"__name__", "reqs_total"}}, kT0 - 60000 + i * 15000, values[i]);
  }
  // Increase 10 + 10 + 5 + 10 = 35 over 60 s of samples in a 60 s window: no extrapolation.
  EXPECT_EQ(f.Eval("increase(reqs_total[1m])"), "{} 35\n");
}

TEST(PromqlEvalTest, rate_needs_two_samples) {
  Fixture f;
  f.Add({{"__name__", "reqs_total"}}, kT0, 5);
  EXPECT_EQ(f.Eval("rate(reqs_total[5m])"), "");
}

TEST(PromqlEvalTest, over_time_functions) {
  Fixture f;
  const double values[] = {3, 9, 6, 1};
  for (int i = 0; i < 4; ++i)
    f.Add({{"__name__", "temp"}, {"k", "v"}}, kT0 - 45000 + i * 15000, values[i]);
  ExpectEvals(f, {{"avg_over_time(temp[1m])", "{k=v} 4.75\n"},
                  {"max_over_time(temp[1m])", "{k=v} 9\n"},
                  {"min_over_time(temp[1m])", "{k=v} 1\n"},
                  {"max_over_time(temp[20s])", "{k=v} 6\n", "window [t-20s, t]"}});
}

TEST(PromqlEvalTest, aggregations_by_and_without) {
  Fixture f;
  f.Add({{"__name__", "conns"}, {"state", "idle"}, {"target", "a"}}, kT0, 3);
  f.Add({{"__name__", "conns"}, {"state", "active"}, {"target", "a"}}, kT0, 5);
  f.Add({{"__name__", "conns"}, {"state", "idle"}, {"target", "b"}}, kT0, 4);
  ExpectEvals(f, {{"sum by (target) (conns)", "{target=a} 8\n{target=b} 4\n"},
                  {"sum(conns) by (target)", "{target=a} 8\n{target=b} 4\n"},
                  {"sum without (state) (conns)", "{target=a} 8\n{target=b} 4\n"},
                  {"avg by (state) (conns)", "{state=active} 5\n{state=idle} 3.5\n"},
                  {"min(conns)", "{} 3\n"},
                  {"max(conns)", "{} 5\n"},
                  {"count by (target) (conns)", "{target=a} 2\n{target=b} 1\n"},
                  {"sum(nothing)", "", "no input, no output"}});
}

TEST(PromqlEvalTest, arithmetic_with_scalars_drops_the_name) {
  Fixture f;
  f.Add({{"__name__", "conns"}, {"target", "a"}}, kT0, 8);
  ExpectEvals(f, {{"conns * 2", "{target=a} 16\n"},
                  {"10 - conns", "{target=a} 2\n"},
                  {"conns / 0", "{target=a} +Inf\n"},
                  {"conns % 3", "{target=a} 2\n"},
                  {"conns ^ 2", "{target=a} 64\n"},
                  {"-conns", "{target=a} -8\n"},
                  {"2 ^ 3 ^ 2", "scalar: 512", "^ is right-associative"},
                  {"-2 ^ 2", "scalar: -4", "unary minus binds looser than ^"},
                  {"1 + 2 * 3", "scalar: 7"}});
}

TEST(PromqlEvalTest, comparisons_filter_or_return_bool) {
  Fixture f;
  f.Add({{"__name__", "conns"}, {"target", "a"}}, kT0, 8);
  f.Add({{"__name__", "conns"}, {"target", "b"}}, kT0, 2);
  ExpectEvals(f, {{"conns > 5", "{__name__=conns,target=a} 8\n", "filters, keeps the name"},
                  {"conns == 2", "{__name__=conns,target=b} 2\n"},
                  {"conns != 2", "{__name__=conns,target=a} 8\n"},
                  {"conns <= 2", "{__name__=conns,target=b} 2\n"},
                  {"conns >= 8", "{__name__=conns,target=a} 8\n"},
                  {"conns < 8", "{__name__=conns,target=b} 2\n"},
                  {"5 < conns", "{__name__=conns,target=a} 8\n", "keeps the vector's value"},
                  {"conns > bool 5", "{target=a} 1\n{target=b} 0\n"},
                  {"2 > bool 1", "scalar: 1"}});
}

TEST(PromqlEvalTest, vector_matching_one_to_one) {
  Fixture f;
  f.Add({{"__name__", "conns"}, {"target", "a"}}, kT0, 8);
  f.Add({{"__name__", "conns"}, {"target", "b"}}, kT0, 2);
  f.Add({{"__name__", "max_conns"}, {"target", "a"}}, kT0, 10);
  f.Add({{"__name__", "max_conns"}, {"target", "c"}}, kT0, 10);
  ExpectEvals(f, {{"conns / max_conns", "{target=a} 0.8\n", "identical label sets only"},
                  {"conns > max_conns", "", "comparison filters"},
                  {"conns < max_conns", "{__name__=conns,target=a} 8\n"},
                  {"conns / max_conns > 0.5", "{target=a} 0.8\n"},
                  {"conns / max_conns > 0.9", ""}});
}

TEST(PromqlEvalTest, vector_matching_on_and_ignoring) {
  Fixture f;
  f.Add({{"__name__", "conns"}, {"target", "a"}, {"state", "idle"}}, kT0, 8);
  f.Add({{"__name__", "max_conns"}, {"target", "a"}}, kT0, 10);
  ExpectEvals(f, {{"conns / max_conns", ""},
                  {"conns / on (target) max_conns", "{target=a} 0.8\n"},
                  {"conns / ignoring (state) max_conns", "{target=a} 0.8\n"}});
  f.Add({{"__name__", "conns"}, {"target", "a"}, {"state", "active"}}, kT0, 1);
  EXPECT_NE(f.Eval("conns / on (target) max_conns").find("error: multiple matches"),
            std::string::npos);
  EXPECT_NE(f.Eval("max_conns / on (target) conns").find("error: found duplicate series"),
            std::string::npos);
  EXPECT_EQ(f.Eval("conns / on (target) group_left max_conns"),
            "{state=active,target=a} 0.1\n{state=idle,target=a} 0.8\n");
}

TEST(PromqlEvalTest, set_operators) {
  Fixture f;
  f.Add({{"__name__", "conns"}, {"target", "a"}}, kT0, 8);
  f.Add({{"__name__", "conns"}, {"target", "b"}}, kT0, 2);
  f.Add({{"__name__", "max_conns"}, {"target", "a"}}, kT0, 10);
  ExpectEvals(
      f, {{"conns and max_conns", "{__name__=conns,target=a} 8\n"},
          {"conns unless max_conns", "{__name__=conns,target=b} 2\n"},
          {"max_conns or conns", "{__name__=conns,target=b} 2\n{__name__=max_conns,target=a} 10\n"},
          {"conns and on (target) (max_conns > 5)", "{__name__=conns,target=a} 8\n"}});
}

TEST(PromqlFormatTest, go_float_formatting) {
  EXPECT_EQ(FormatGoFloat(0.8), "0.8");
  EXPECT_EQ(FormatGoFloat(1), "1");
  EXPECT_EQ(FormatGoFloat(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatGoFloat(1e6), "1000000");
  EXPECT_EQ(FormatGoFloat(1e21), "1e+21");
  EXPECT_EQ(FormatGoFloat(0.00001), "1e-05");
  EXPECT_EQ(FormatGoFloat(-INFINITY), "-Inf");
  EXPECT_EQ(FormatDurationMs(300000), "5m");
  EXPECT_EQ(FormatDurationMs(5400000), "1h30m");
  EXPECT_EQ(FormatDurationMs(0), "0s");
}

}  // namespace
}  // namespace tacho::alerts::promql
