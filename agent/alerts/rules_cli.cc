#include "agent/alerts/rules_cli.h"

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "agent/alerts/rules.h"
#include "agent/alerts/series_store.h"

namespace tacho::alerts {

namespace json = boost::json;

namespace {

constexpr const char* kRulesUsage = R"(usage: tacho rules export [--config FILE]
       tacho rules eval --samples FILE --time UNIX_SECONDS EXPR...
)";

int Usage(const std::string& error) {
  std::fprintf(stderr, "tacho rules: %s\n\n%s", error.c_str(), kRulesUsage);
  return 2;
}

int Export(int argc, char** argv, const ConfigLoader& load_config) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.starts_with("--config=")) {
      config_path = std::string(arg.substr(9));
    } else {
      return Usage("unknown argument '" + std::string(arg) + "'");
    }
  }
  auto config = load_config(config_path);
  if (!config) {
    std::fprintf(stderr, "tacho: %s\n", config.error().ToString().c_str());
    return 2;
  }
  const config::Section& alerts = config->sections.at("alerts");
  auto rules = LoadRules(alerts);
  if (!rules) {
    std::fprintf(stderr, "tacho: %s\n", rules.error().ToString().c_str());
    return 2;
  }
  std::fputs(ExportPrometheusRules(*rules, alerts.GetDuration("interval")).c_str(), stdout);
  return 0;
}

// Loads a Prometheus matrix result: {"data":{"resultType":"matrix","result":[{"metric":{..},
// "values":[[1700000000.123,"1.5"],...]}]}} (also accepted without the "data" wrapper).
Status LoadSamples(const std::string& path, SeriesStore& store) {
  std::ifstream in(path);
  if (!in) return Status::Error("cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  boost::system::error_code ec;
  json::value root = json::parse(buffer.str(), ec);
  if (ec || !root.is_object()) return Status::Error(path + ": not a JSON object");
  const json::value* data = root.as_object().if_contains("data");
  const json::object& d =
      data != nullptr && data->is_object() ? data->as_object() : root.as_object();
  const json::value* result = d.if_contains("result");
  if (result == nullptr || !result->is_array()) return Status::Error(path + ": no result array");
  std::map<std::string, std::int64_t> retention;
  std::vector<std::pair<promql::LabelSet, std::vector<promql::Point>>> series;
  for (const json::value& s : result->as_array()) {
    promql::LabelSet labels;
    for (const auto& [k, v] : s.at("metric").as_object())
      labels[std::string(k)] = std::string(v.as_string());
    std::vector<promql::Point> points;
    for (const json::value& p : s.at("values").as_array()) {
      const json::array& pair = p.as_array();
      const double t = pair[0].to_number<double>();
      const double v = std::stod(std::string(pair[1].as_string()));
      points.push_back(
          promql::Point{static_cast<std::int64_t>(t * 1000 + (t >= 0 ? 0.5 : -0.5)), v});
    }
    retention[labels[promql::kMetricName]] = std::int64_t{1} << 50;
    series.emplace_back(std::move(labels), std::move(points));
  }
  store.SetRetention(retention);
  for (const auto& [labels, points] : series) {
    for (const promql::Point& p : points) store.Append(labels, p);
  }
  return Status::Ok();
}

int Eval(int argc, char** argv) {
  std::string samples;
  double time = -1;
  std::vector<std::string> exprs;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--samples" && i + 1 < argc) {
      samples = argv[++i];
    } else if (arg == "--time" && i + 1 < argc) {
      time = std::stod(argv[++i]);
    } else {
      exprs.emplace_back(arg);
    }
  }
  if (samples.empty() || time < 0 || exprs.empty())
    return Usage("eval needs --samples, --time and an expression");
  SeriesStore store;
  if (Status s = LoadSamples(samples, store); !s.ok()) return Usage(s.message());
  const auto t = static_cast<promql::Timestamp>(time * 1000 + 0.5);
  int rc = 0;
  for (const std::string& expr : exprs) {
    auto parsed = promql::Parse(expr);
    if (!parsed) {
      std::printf("%s\n", json::serialize(
                              json::object{{"status", "error"}, {"error", parsed.error().message}})
                              .c_str());
      rc = 1;
      continue;
    }
    auto v = promql::Evaluate(**parsed, store, t);
    if (!v) {
      std::printf("%s\n",
                  json::serialize(json::object{{"status", "error"}, {"error", v.error()}}).c_str());
      rc = 1;
      continue;
    }
    json::object data;
    if (v->is_scalar) {
      data["resultType"] = "scalar";
      data["result"] = json::array{time, promql::FormatGoFloat(v->scalar)};
    } else {
      json::array result;
      for (const promql::Sample& s : v->vector) {
        json::object metric;
        for (const auto& [k, val] : s.labels) metric[k] = val;
        result.push_back(json::object{
            {"metric", metric}, {"value", json::array{time, promql::FormatGoFloat(s.value)}}});
      }
      data["resultType"] = "vector";
      data["result"] = std::move(result);
    }
    std::printf("%s\n",
                json::serialize(json::object{{"status", "success"}, {"data", data}}).c_str());
  }
  return rc;
}

}  // namespace

int RunRulesCommand(int argc, char** argv, const ConfigLoader& load_config) {
  if (argc < 2) return Usage("missing subcommand");
  const std::string_view sub = argv[1];
  if (sub == "export") return Export(argc - 1, argv + 1, load_config);
  if (sub == "eval") return Eval(argc - 1, argv + 1);
  return Usage("unknown subcommand '" + std::string(sub) + "'");
}

}  // namespace tacho::alerts
