#include "agent/main/agent.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "base/build_info.h"
#include "base/file.h"
#include "base/logging.h"
#include "exporters/http/exposition.h"
#include "exporters/http/http_server.h"
#include "exporters/webhook/notifier.h"
#include "exporters/webhook/schema.h"

namespace tacho::agent {

namespace asio = boost::asio;
using std::chrono::system_clock;

// Watches tacho itself and the local data tier's processes. Later collectors add auto-detected
// local servers here.
const char* const kEmbeddedConfig = R"toml(
[agent]
listen = "127.0.0.1:9478"

[[collectors.process]]
name = "local"
interval = "15s"

[[collectors.process.groups]]
name = "tacho"
self = true

[[collectors.process.groups]]
name = "postgres"
comm = ["postgres", "postmaster"]

[[collectors.process.groups]]
name = "redis"
comm = ["redis-server"]

[[collectors.process.groups]]
name = "pgbouncer"
comm = ["pgbouncer"]
)toml";

namespace {

constexpr auto kShutdownGrace = std::chrono::seconds(5);

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Rfc3339(system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) return "";
  std::time_t secs = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

exporters::HttpServerOptions HttpOptions(const config::Config& config) {
  exporters::HttpServerOptions o;
  o.listen = config.agent.listen;
  o.tls_cert_file = config.agent.tls.cert_file;
  o.tls_key_file = config.agent.tls.key_file;
  o.basic_auth_users = config.agent.basic_auth_users;
  o.max_connections = static_cast<std::size_t>(config.agent.http_max_connections);
  o.header_timeout = config.agent.http_header_timeout;
  return o;
}

}  // namespace

const config::Schema& AlertsSectionSchema() {
  static const config::Schema kSchema = [] {
    config::Schema s = alerts::RulesSchema();
    const config::Schema& delivery = webhook::DeliverySchema();
    s.insert(s.end(), delivery.begin(), delivery.end());
    return s;
  }();
  return kSchema;
}

Expected<config::Config, config::Error> LoadConfig(const AgentOptions& options,
                                                   const CollectorRegistry& registry) {
  config::KindSchemas schemas = registry.Schemas();
  schemas.sections["alerts"] = &AlertsSectionSchema();
  auto loaded = options.config_path.empty()
                    ? config::LoadString(kEmbeddedConfig, "<embedded default>", schemas)
                    : config::LoadFile(options.config_path, schemas);
  if (!loaded) return loaded.error();
  // Several webhook secrets (one per line) are redacted one by one too.
  for (const config::Section& hook : loaded->sections["alerts"].GetTableList("webhook")) {
    std::istringstream lines(hook.GetString("secret"));
    for (std::string line; std::getline(lines, line);) {
      if (line.find_first_not_of(" \t\r") != std::string::npos) loaded->secrets.push_back(line);
    }
  }
  if (!options.listen_override.empty()) loaded->agent.listen = options.listen_override;
  if (!options.log_level_override.empty()) loaded->agent.log_level = options.log_level_override;
  return loaded;
}

Agent::Agent(const CollectorRegistry& registry, AgentOptions options, ScrapeTimeMetrics scrape_time)
    : registry_(registry), options_(std::move(options)), scrape_time_(std::move(scrape_time)) {
  health_.started_at = system_clock::now();
}

Agent::~Agent() = default;

Expected<std::vector<std::shared_ptr<CollectorRuntime>>, config::Error> Agent::Build(
    const config::Config& config) {
  if (auto links = PoolLinks(config, registry_); !links) return links.error();
  std::vector<std::shared_ptr<CollectorRuntime>> runtimes;
  for (const config::CollectorInstance& instance : config.collectors) {
    const CollectorKind* kind = registry_.Find(instance.kind);
    Environment env{instance.name, instance.interval, instance.timeout, config.agent.state_dir};
    auto collector = kind->create(instance.section, env);
    if (!collector) return collector.error();
    runtimes.push_back(std::make_shared<CollectorRuntime>(io_, store_, instance, *kind,
                                                          std::move(collector.value())));
  }
  if (auto it = config.sections.find("alerts"); it != config.sections.end()) {
    if (auto rules = alerts::LoadRules(it->second); !rules) return rules.error();
    if (auto notify = webhook::LoadNotifierConfig(it->second); !notify) return notify.error();
  }
  return runtimes;
}

void Agent::ApplyConfig(config::Config config,
                        std::vector<std::shared_ptr<CollectorRuntime>> runtimes) {
  base::SetRedactedSecrets(config.secrets);
  base::SetupLogging(config.agent.log_level, config.agent.log_format);
  pool_links_ = PoolLinks(config, registry_).value();
  config_ = std::move(config);
  scheduler_.Replace(std::move(runtimes));
  health_.config_last_reload_successful = true;
  health_.config_last_reload_success = system_clock::now();
}

int Agent::CheckConfig(const config::Config& config) {
  auto runtimes = Build(config);
  if (!runtimes) {
    std::fprintf(stderr, "tacho: %s\n", runtimes.error().ToString().c_str());
    return 2;
  }
  return 0;
}

int Agent::RunOnce(config::Config config) {
  auto runtimes = Build(config);
  if (!runtimes) {
    std::fprintf(stderr, "tacho: %s\n", runtimes.error().ToString().c_str());
    return 2;
  }
  ApplyConfig(std::move(config), std::move(runtimes.value()));
  scheduler_.RunOnce([this] { io_.stop(); });
  io_.run();
  std::string body = RenderMetrics();
  std::fwrite(body.data(), 1, body.size(), stdout);
  std::fflush(stdout);
  int failed = 0;
  for (const auto& r : scheduler_.runtimes()) {
    if (r->stats().state != InstanceState::kUp) {
      ++failed;
      spdlog::error("collector {} '{}' failed: {}", r->kind(), r->name(),
                    base::Redact(r->stats().last_error));
    }
  }
  if (scheduler_.Busy()) {
    // A hung collection holds its worker thread; do not wait for it.
    spdlog::default_logger()->flush();
    std::quick_exit(failed == 0 ? 0 : 1);
  }
  scheduler_.Stop();
  return failed == 0 ? 0 : 1;
}

int Agent::Run(config::Config config) {
  auto runtimes = Build(config);
  if (!runtimes) {
    std::fprintf(stderr, "tacho: %s\n", runtimes.error().ToString().c_str());
    return 2;
  }
  http_ = std::make_unique<exporters::HttpServer>(io_, HttpOptions(config));
  InstallRoutes();
  if (Status s = http_->Start(); !s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  const std::string bound = http_->BoundAddress();
  if (!options_.listen_address_file.empty()) {
    // A reader never sees a partial address.
    if (Status s = base::WriteFileAtomically(options_.listen_address_file, bound + "\n", 0644);
        !s.ok()) {
      spdlog::error("--listen-address-file: {}", s.message());
      return 1;
    }
  }
  const bool tls = !config.agent.tls.cert_file.empty();
  ApplyConfig(std::move(config), std::move(runtimes.value()));
  spdlog::info("tacho {} ({}) listening on {}://{} with {} collector instance(s) from {}", kVersion,
               kRevision, tls ? "https" : "http", bound, scheduler_.runtimes().size(),
               config_.source);
  scheduler_.Start();
  external_url_ = std::string(tls ? "https" : "http") + "://" + bound;
  ApplyAlerts();

  asio::signal_set signals(io_, SIGINT, SIGTERM, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (signo == SIGHUP) {
          Reload();
          signals.async_wait(on_signal);
          return;
        }
        spdlog::info("received {}, stopping", signo == SIGTERM ? "SIGTERM" : "SIGINT");
        signals.cancel();
        Shutdown();
      };
  signals.async_wait(on_signal);
  io_.run();

  if (scheduler_.Busy()) {
    spdlog::warn("exiting while a collection is still running after {}s grace",
                 kShutdownGrace.count());
    spdlog::default_logger()->flush();
    std::quick_exit(0);
  }
  spdlog::info("stopped");
  return 0;
}

void Agent::Reload() {
  spdlog::info("SIGHUP: reloading configuration from {}", config_.source);
  auto loaded = LoadConfig(options_, registry_);
  if (loaded) {
    auto runtimes = Build(loaded.value());
    if (runtimes) {
      if (loaded->agent.listen != config_.agent.listen ||
          loaded->agent.tls.cert_file != config_.agent.tls.cert_file ||
          loaded->agent.tls.key_file != config_.agent.tls.key_file ||
          loaded->agent.basic_auth_users != config_.agent.basic_auth_users) {
        spdlog::warn("changes to listen, tls and basic_auth_users take effect after a restart");
        loaded->agent.listen = config_.agent.listen;
        loaded->agent.tls = config_.agent.tls;
        loaded->agent.basic_auth_users = config_.agent.basic_auth_users;
      }
      ApplyConfig(std::move(loaded.value()), std::move(runtimes.value()));
      scheduler_.Start();
      ApplyAlerts();
      spdlog::info("configuration reloaded: {} collector instance(s)",
                   scheduler_.runtimes().size());
      return;
    }
    loaded = runtimes.error();
  }
  health_.config_last_reload_successful = false;
  spdlog::error("reload failed, keeping the running configuration: {}", loaded.error().ToString());
}

void Agent::Shutdown() {
  if (stopping_) return;
  stopping_ = true;
  if (http_) http_->Stop();
  alerts_timer_.cancel();
  if (notifier_) notifier_->Stop();
  if (rules_.Changed()) SaveAlertState();
  scheduler_.Stop();
  WaitForCollectionsThenStop(std::chrono::steady_clock::now() + kShutdownGrace);
}

void Agent::WaitForCollectionsThenStop(std::chrono::steady_clock::time_point give_up) {
  if (!scheduler_.Busy() || std::chrono::steady_clock::now() >= give_up) {
    io_.stop();
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(50));
  timer->async_wait([this, timer, give_up](const boost::system::error_code&) {
    WaitForCollectionsThenStop(give_up);
  });
}

std::string Agent::RenderMetrics() {
  MetricSink self;
  WriteSelfMetrics(self, scheduler_.runtimes(), health_);
  if (http_) {
    const exporters::HttpServerStats s = http_->Stats();
    self.Counter("tacho_http_requests_total", "HTTP requests served.", {},
                 static_cast<double>(s.requests));
    self.Counter("tacho_http_auth_failures_total", "HTTP requests refused by basic auth.", {},
                 static_cast<double>(s.auth_failures));
    self.Counter("tacho_http_rejected_connections_total",
                 "HTTP connections refused because http.max_connections were open.", {},
                 static_cast<double>(s.rejected_connections));
    self.Counter("tacho_http_bad_requests_total",
                 "HTTP requests rejected as malformed, too large or too slow.", {},
                 static_cast<double>(s.bad_requests));
    self.Gauge("tacho_http_open_connections", "Open HTTP connections.", {},
               static_cast<double>(s.open_connections));
  }
  if (scrape_time_) scrape_time_(self);
  if (rules_.rule_count() > 0) rules_.WriteMetrics(self);
  if (notifier_) {
    notifier_->WriteMetrics(self, std::chrono::duration_cast<std::chrono::milliseconds>(
                                      system_clock::now().time_since_epoch())
                                      .count());
  }
  const auto self_rendered = RenderFamilies(self.Take());
  const auto snapshots = store_.All();
  std::vector<const std::vector<RenderedFamily>*> parts{&self_rendered};
  for (const auto& [name, snapshot] : snapshots) parts.push_back(&snapshot->rendered);
  std::size_t conflicts = 0;
  std::string body = exporters::MergeExposition(parts, &conflicts);
  if (conflicts > 0) {
    spdlog::debug("exposition: {} families left out for a type conflict", conflicts);
  }
  return body;
}

std::string Agent::RenderStatusJson() const {
  namespace json = boost::json;
  json::array collectors;
  for (const auto& r : scheduler_.runtimes()) {
    const InstanceStats& s = r->stats();
    collectors.push_back(json::object{
        {"kind", r->kind()},
        {"name", r->name()},
        {"state", StateName(s.state)},
        {"running", s.running},
        {"interval_seconds", std::chrono::duration<double>(r->interval()).count()},
        {"timeout_seconds", std::chrono::duration<double>(r->timeout()).count()},
        {"last_success", Rfc3339(s.last_success)},
        {"last_attempt", Rfc3339(s.last_attempt)},
        {"last_duration_seconds", s.last_duration_seconds},
        {"last_error", base::Redact(s.last_error)},
        {"series", s.last_series},
        {"runs", s.runs},
        {"errors", s.errors},
        {"timeouts", s.timeouts},
        {"skipped", s.skipped},
    });
  }
  json::object root{
      {"version", kVersion},
      {"revision", kRevision},
      {"started_at", Rfc3339(health_.started_at)},
      {"ready", scheduler_.Ready()},
      {"config_source", config_.source},
      {"config_last_reload_successful", health_.config_last_reload_successful},
      {"collectors", std::move(collectors)},
  };
  return json::serialize(root) + "\n";
}

std::string Agent::RenderLandingPage() const {
  std::string rows;
  for (const auto& r : scheduler_.runtimes()) {
    const InstanceStats& s = r->stats();
    const std::string last = Rfc3339(s.last_success);
    rows += "<tr><td>" + HtmlEscape(r->kind()) + "</td><td>" + HtmlEscape(r->name()) +
            "</td><td class=\"" + StateName(s.state) + "\">" + StateName(s.state) + "</td><td>" +
            (last.empty() ? "never" : last) + "</td><td>" + HtmlEscape(base::Redact(s.last_error)) +
            "</td></tr>\n";
  }
  return std::string(
             "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tacho</title>\n"
             "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;"
             "text-align:left}.up{color:#080}.down{color:#c00}.pending{color:#888}</style>"
             "</head><body>\n<h1>tacho</h1>\n<p>version ") +
         kVersion + " (" + kRevision + ")</p>\n<ul>" +
         "<li><a href=\"/metrics\">/metrics</a> (latest snapshot; never queries a target)</li>"
         "<li><a href=\"/api/v1/status\">/api/v1/status</a></li>"
         "<li><a href=\"/api/v1/alerts\">/api/v1/alerts</a></li>"
         "<li><a href=\"/api/v1/rules\">/api/v1/rules</a></li>"
         "<li><a href=\"/api/v1/pools\">/api/v1/pools</a></li>"
         "<li><a href=\"/healthz\">/healthz</a></li><li><a href=\"/readyz\">/readyz</a></li>"
         "</ul>\n<table><tr><th>kind</th><th>name</th><th>state</th><th>last success</th>"
         "<th>last error</th></tr>\n" +
         rows + "</table>\n</body></html>\n";
}

void Agent::InstallRoutes() {
  using exporters::HttpRequest;
  using exporters::HttpResponse;
  http_->Handle("/metrics", [this](const HttpRequest& request) {
    HttpResponse response{
        .status = 200, .content_type = exporters::kExpositionContentType, .body = RenderMetrics()};
    response.headers.emplace_back("Vary", "Accept-Encoding");
    if (auto it = request.headers.find("accept-encoding");
        it != request.headers.end() && exporters::AcceptsGzip(it->second)) {
      response.body = exporters::GzipCompress(response.body);
      response.headers.emplace_back("Content-Encoding", "gzip");
    }
    return response;
  });
  http_->Handle("/healthz", [](const HttpRequest&) { return HttpResponse{.body = "ok\n"}; });
  http_->Handle("/readyz", [this](const HttpRequest&) {
    if (scheduler_.Ready()) return HttpResponse{.body = "ready\n"};
    std::string waiting;
    for (const auto& r : scheduler_.runtimes()) {
      if (!r->completed_first()) waiting += (waiting.empty() ? "" : ", ") + r->name();
    }
    return HttpResponse{.status = 503,
                        .body = "not ready: waiting for the first collection of " + waiting + "\n"};
  });
  http_->Handle("/api/v1/status", [this](const HttpRequest&) {
    return HttpResponse{.content_type = "application/json", .body = RenderStatusJson()};
  });
  http_->Handle("/api/v1/alerts", [this](const HttpRequest&) {
    return HttpResponse{.content_type = "application/json", .body = rules_.AlertsJson()};
  });
  http_->Handle("/api/v1/rules", [this](const HttpRequest&) {
    return HttpResponse{.content_type = "application/json",
                        .body = rules_.RulesJson(config_.source)};
  });
  http_->Handle("/api/v1/pools", [this](const HttpRequest&) {
    return HttpResponse{.content_type = "application/json",
                        .body = PoolsJson(ReadPools(store_.All()), pool_links_)};
  });
  http_->Handle("/", [this](const HttpRequest&) {
    return HttpResponse{.content_type = "text/html; charset=utf-8", .body = RenderLandingPage()};
  });
}

// --------------------------------------------------------------------------------------------
// Alerts

namespace {

alerts::promql::Timestamp ToMs(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string AlertStatePath(const config::Config& config) {
  return config.agent.state_dir + "/alerts-state.json";
}

}  // namespace

void Agent::ApplyAlerts() {
  auto section = config_.sections.find("alerts");
  if (section == config_.sections.end()) return;
  const config::Section& alerts = section->second;
  auto rules = alerts::LoadRules(alerts);
  auto notify = webhook::LoadNotifierConfig(alerts);
  if (!rules || !notify) return;  // Build() validated both
  const auto interval = alerts.GetDuration("interval");
  alerts_interval_ = interval;
  rules_.SetRules(std::move(rules.value()), interval);
  // Snapshots keep the samples of the families rules read; the rest only as text.
  store_.SetKeptNames(std::make_shared<const std::set<std::string>>(rules_.store().wanted_names()));
  if (!alert_state_loaded_) {
    alert_state_loaded_ = true;
    std::ifstream in(AlertStatePath(config_));
    if (in) {
      std::stringstream buffer;
      buffer << in.rdbuf();
      if (Status s = rules_.LoadState(buffer.str()); !s.ok()) {
        spdlog::warn("ignoring alert state {}: {}", AlertStatePath(config_), s.message());
      }
    }
  }
  if (notify->external_url.empty()) notify->external_url = external_url_;
  alerts_url_ = notify->external_url;
  if (!notify->empty() || notifier_) {
    if (!notifier_) notifier_ = std::make_unique<webhook::Notifier>(io_);
    notifier_->Configure(std::move(notify.value()), config_.agent.state_dir);
  }
  spdlog::info("alerts: {} rule(s) evaluated every {}", rules_.rule_count(),
               config::FormatDuration(interval));
  ScheduleAlerts();
}

void Agent::ScheduleAlerts() {
  if (stopping_ || rules_.rule_count() == 0) return;
  alerts_timer_.expires_after(alerts_interval_);
  alerts_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    EvaluateAlerts();
    ScheduleAlerts();
  });
}

void Agent::EvaluateAlerts() {
  const alerts::promql::Timestamp now = ToMs(system_clock::now());
  std::vector<std::string> live;
  for (const auto& [name, snapshot] : store_.All()) {
    rules_.IngestOnce(name, snapshot->families, ToMs(snapshot->taken_at));
    live.push_back(name);
  }
  // tacho's own series (tacho_collector_errors_total, process_*) are readable by rules too.
  MetricSink self;
  WriteSelfMetrics(self, scheduler_.runtimes(), health_);
  if (scrape_time_) scrape_time_(self);
  rules_.IngestOnce("__self__", self.Take(), now);
  live.push_back("__self__");
  rules_.RetireSourcesExcept(live, now);
  rules_.Evaluate(now);
  if (notifier_) notifier_->Update(rules_.Notifications(alerts_url_), now);
  if (rules_.Changed()) SaveAlertState();
}

void Agent::SaveAlertState() {
  std::error_code ec;
  std::filesystem::create_directories(config_.agent.state_dir, ec);
  const Status s = base::WriteFileAtomically(AlertStatePath(config_), rules_.SaveState());
  // Logged once per change of state, as a failing target is.
  if (!s.ok() && alert_state_error_ != s.message()) {
    spdlog::warn("{}; alerts are still evaluated, but a restart will forget the active ones",
                 s.message());
  } else if (s.ok() && !alert_state_error_.empty()) {
    spdlog::info("alert state is written to {} again", AlertStatePath(config_));
  }
  alert_state_error_ = s.ok() ? "" : s.message();
}

}  // namespace tacho::agent
