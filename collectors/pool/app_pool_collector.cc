#include "collectors/pool/app_pool_collector.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <fstream>
#include <optional>
#include <utility>

#include "agent/pool_model.h"
#include "base/http_client.h"
#include "collectors/pool/exposition_parser.h"

namespace tacho::collectors::pool {
namespace {

using Clock = std::chrono::steady_clock;

const char* FormatName(SourceFormat format) {
  switch (format) {
    case SourceFormat::kHikariCp:
      return "hikaricp";
    case SourceFormat::kGoSql:
      return "go_sql";
    case SourceFormat::kAuto:
      break;
  }
  return "auto";
}

// Content types an exposition parser can read; anything else (protobuf, JSON, an HTML login
// page) is named in the error, since its "syntax error on line 1" alone would puzzle.
bool IsTextExposition(const std::string& content_type) {
  return content_type.empty() || content_type.rfind("text/plain", 0) == 0 ||
         content_type.rfind("application/openmetrics-text", 0) == 0;
}

class AppPoolCollector : public agent::Collector {
 public:
  explicit AppPoolCollector(AppPoolOptions options) : options_(std::move(options)) {
    mapping_.format = options_.format;
    mapping_.pools = options_.pools;
    mapping_.max_pools = options_.max_pools;
    request_.url = options_.url;
    request_.ca_file = options_.ca_file;
    request_.body_limit = options_.body_limit;
    request_.identity_encoding = true;
    request_.headers.emplace_back("Accept", "text/plain;version=0.0.4;q=1.0,*/*;q=0.1");
    if (!options_.bearer_token.empty()) {
      request_.headers.emplace_back("Authorization", "Bearer " + options_.bearer_token);
    }
  }

  Status Collect(const agent::CollectContext& ctx, agent::MetricSink& sink) override {
    try {
      return CollectOnce(ctx, sink);
    } catch (const std::exception& e) {
      return Status::Error(std::string("app_pool collector: ") + e.what());
    }
  }

 private:
  Status CollectOnce(const agent::CollectContext& ctx, agent::MetricSink& sink) {
    const auto started = Clock::now();
    request_.deadline = ctx.deadline;
    request_.cancelled = ctx.cancelled;
    const base::HttpResponse response = base::HttpFetch(request_);
    if (!response.ok()) {
      const bool denied = response.status == 401 || response.status == 403;
      return Status::Error(response.error + (denied ? " (check bearer_token)" : ""));
    }

    ExpositionLimits limits;
    limits.max_bytes = options_.body_limit;
    limits.keep = IsPoolSampleName;
    auto exposition = ParseExposition(response.body, limits);
    if (!exposition.ok()) {
      std::string message = "parsing the exposition from " + options_.url.ForMessages();
      if (!IsTextExposition(response.content_type)) {
        message += " (Content-Type: " + response.content_type.substr(0, 80) + ")";
      }
      return Status::Error(message + ": " + exposition.error().message());
    }
    const MappingResult mapped = MapPools(exposition->samples, mapping_);
    for (const agent::PoolSample& pool : mapped.pools) agent::WritePool(sink, pool);
    LogRecognition(mapped);

    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    sink.Gauge("tacho_app_pool_scrape_duration_seconds",
               "Time the latest collection took to fetch and parse the application's metrics "
               "endpoint, in seconds.",
               {}, seconds);
    sink.Gauge("tacho_app_pool_samples",
               "Samples in the application's exposition at the latest collection, pool metrics "
               "or not.",
               {}, static_cast<double>(exposition->total_samples));
    sink.Gauge("tacho_app_pool_pools",
               "Pools exported from the application's endpoint at the latest collection; 0 when "
               "it exposes no recognised pool metrics.",
               {}, static_cast<double>(mapped.pools.size()));
    sink.Gauge("tacho_app_pool_pools_dropped",
               "Pools matching `pools` left out at the latest collection because of max_pools.", {},
               static_cast<double>(mapped.dropped));
    return Status::Ok();
  }

  // One log line when the endpoint starts or stops exposing pool metrics; the runtime logs
  // up/down itself.
  void LogRecognition(const MappingResult& mapped) {
    const bool none = mapped.pools.empty() && mapped.dropped == 0;
    if (logged_none_.has_value() && *logged_none_ == none) return;
    logged_none_ = none;
    if (none) {
      spdlog::warn(
          "app_pool '{}': {} exposes no recognised pool metrics (format \"{}\"{}); exporting 0 "
          "pools",
          options_.instance_name, options_.url.ForMessages(), FormatName(options_.format),
          mapped.filtered > 0 ? ", " + std::to_string(mapped.filtered) + " pools not in `pools`"
                              : std::string());
    } else {
      const std::size_t n = mapped.pools.size() + mapped.dropped;
      spdlog::info("app_pool '{}': {} pool{} at {}", options_.instance_name, n, n == 1 ? "" : "s",
                   options_.url.ForMessages());
    }
  }

  const AppPoolOptions options_;
  MappingOptions mapping_;
  base::HttpRequest request_;
  std::optional<bool> logged_none_;
};

const config::Schema& AppPoolSchema() {
  using config::KeySpec;
  using config::Type;
  static const config::Schema kSchema = {
      {.name = "url",
       .type = Type::kString,
       .description = "The application's Prometheus endpoint, http:// or https:// (Spring "
                      "Boot: /actuator/prometheus). Checked at start-up (scheme, host, port "
                      "1-65535; user:pass@ is refused: use bearer_token). The query string is "
                      "never shown in logs or errors.",
       .required = true,
       .example = "\"http://127.0.0.1:8080/actuator/prometheus\""},
      {.name = "format",
       .type = Type::kString,
       .default_value = "\"auto\"",
       .description = "Which pool metrics to read: auto (all recognised), hikaricp (HikariCP via "
                      "Micrometer or its own Prometheus tracker) or go_sql (Go database/sql via "
                      "client_golang's DBStatsCollector or sqlstats).",
       .allowed = {"auto", "hikaricp", "go_sql"}},
      {.name = "bearer_token",
       .type = Type::kString,
       .description = "Sent as Authorization: Bearer <token>; unset: no Authorization header. "
                      "Never logged, never in a metric or an error.",
       .secret = true,
       .example = "\"s3cret\""},
      {.name = "pools",
       .type = Type::kStringList,
       .default_value = "[\"*\"]",
       .description = "Shell globs (*, ?, [...]) over the pool name (HikariCP's `pool` label, Go's "
                      "`db_name`); "
                      "only matching pools are exported."},
      {.name = "max_pools",
       .type = Type::kInt,
       .default_value = "50",
       .description = "At most this many pools get series, in name order (so the same ones "
                      "from one collection to the next); the rest are counted in "
                      "tacho_app_pool_pools_dropped.",
       .min = 1,
       .max = 10000},
      {.name = "upstream",
       .type = Type::kString,
       .description = "The name of the pgbouncer or postgres collector instance this "
                      "application connects through, to chain its pools with the server's.",
       .example = "\"pgbouncer-main\""},
      {.name = "ca_file",
       .type = Type::kString,
       .description = "PEM CA bundle to verify an https:// url with (only with https://; "
                      "checked to be readable at start-up). Unset: the system's CA certificates.",
       .example = "\"/etc/tacho/app-ca.pem\""},
  };
  return kSchema;
}

const config::Binding<AppPoolOptions>& AppPoolBinding() {
  static const config::Binding<AppPoolOptions> kBinding = {
      config::ReadByCode("url"),
      config::ReadByCode("format"),
      config::Bind("bearer_token", &AppPoolOptions::bearer_token),
      config::Bind("pools", &AppPoolOptions::pools),
      config::Bind("max_pools", &AppPoolOptions::max_pools),
      config::Bind("upstream", &AppPoolOptions::upstream),
      config::Bind("ca_file", &AppPoolOptions::ca_file),
  };
  return kBinding;
}

}  // namespace

Expected<AppPoolOptions, config::Error> ParseAppPoolOptions(const config::Section& section,
                                                            const agent::Environment& env) {
  AppPoolOptions options;
  AppPoolBinding().Fill(section, options);
  options.instance_name = env.instance_name;
  const std::string& url_text = section.GetString("url");
  auto url = base::ParseUrl(url_text, "bearer_token");
  if (!url.ok()) {
    // The query is left out of the message: it may carry a credential.
    return section.ErrorAt("url", "invalid url \"" + url_text.substr(0, url_text.find('?')) +
                                      "\": " + url.error().message());
  }
  options.url = std::move(*url);
  const std::string& format = section.GetString("format");
  options.format = format == "hikaricp" ? SourceFormat::kHikariCp
                   : format == "go_sql" ? SourceFormat::kGoSql
                                        : SourceFormat::kAuto;
  if (options.bearer_token.find_first_of("\r\n") != std::string::npos) {
    // Never quote the token itself.
    return section.ErrorAt("bearer_token", "bearer_token contains a line break");
  }
  if (options.pools.empty()) {
    return section.ErrorAt("pools",
                           "pools is empty, so no pool would be exported; use [\"*\"] "
                           "for every pool");
  }
  for (const std::string& pattern : options.pools) {
    if (pattern.empty()) return section.ErrorAt("pools", "pools contains an empty pattern");
  }
  if (!options.ca_file.empty()) {
    if (options.url.scheme != "https") {
      return section.ErrorAt("ca_file", "ca_file is set but url is not https://");
    }
    std::ifstream in(options.ca_file);
    if (!in.good()) {
      return section.ErrorAt("ca_file", "cannot read ca_file \"" + options.ca_file + "\"");
    }
  }
  return options;
}

std::unique_ptr<agent::Collector> NewAppPoolCollector(AppPoolOptions options) {
  return std::make_unique<AppPoolCollector>(std::move(options));
}

agent::CollectorKind AppPoolCollectorKind() {
  return agent::CollectorKind{
      .name = "app_pool",
      .description =
          "An application's own connection pools (HikariCP, Go database/sql), read from its "
          "Prometheus endpoint and exported as tacho_pool_*{kind=\"app\"}.",
      .schema = AppPoolSchema(),
      .bound_keys = AppPoolBinding().Keys(),
      .up_metric = "tacho_app_pool_up",
      .up_help =
          "1 if the latest collection fetched and parsed the application's metrics "
          "endpoint, 0 otherwise.",
      .upstream_kinds = {"pgbouncer", "postgres"},
      .create = agent::MakeFactory(&ParseAppPoolOptions, &NewAppPoolCollector),
  };
}

}  // namespace tacho::collectors::pool
