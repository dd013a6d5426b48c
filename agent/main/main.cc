// tacho: one agent that watches a service's data tier and exports it to Prometheus.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "agent/alerts/rules.h"
#include "agent/alerts/rules_cli.h"
#include "agent/main/agent.h"
#include "base/build_info.h"
#include "base/logging.h"
#include "collectors/all.h"
#include "collectors/process/self_metrics.h"

namespace {

constexpr int kExitConfigError = 2;

constexpr const char* kUsage = R"(usage: tacho [options]

  --config FILE               configuration file (TOML); without it, an embedded default
                              watches tacho itself and local postgres, redis-server and
                              pgbouncer processes
  --check-config FILE         validate FILE and exit (0 valid, 2 invalid)
  --print-sample-config [KIND...]
                              print an annotated sample configuration and exit; with kinds,
                              a loadable sample of just those (collectors/<folder>/sample.toml)
  --print-config-reference KIND...
                              print the Markdown key table of each kind (as its README has it)
  --once                      run one round of collections, print the exposition to stdout,
                              exit non-zero if any collector failed
  --listen HOST:PORT          override [agent] listen (port 0 picks a free port)
  --listen-address-file FILE  write the bound HOST:PORT to FILE once listening
  --log-level LEVEL           override [agent] log_level (trace, debug, info, warn, error)
  --version                   print the version and exit
  --help                      this text

  tacho rules export [--config FILE]   the alert rules as a Prometheus rule file
  tacho rules eval --samples FILE --time SECONDS EXPR...   (for tests) evaluate over samples

signals: SIGHUP reloads the configuration (an invalid one keeps the old running);
SIGTERM and SIGINT stop gracefully.
)";

struct CommandLine {
  tacho::agent::AgentOptions options;
  std::string check_config;
  bool once = false;
  bool print_sample = false;
  bool print_reference = false;
  std::vector<std::string> kinds;  // of --print-sample-config / --print-config-reference
  bool version = false;
  bool help = false;
};

// Returns an error message, or empty on success.
std::string Parse(int argc, char** argv, CommandLine& cl) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string value;
    // Accept both "--flag value" and "--flag=value".
    auto take_value = [&](std::string_view flag) -> bool {
      if (arg == flag) {
        if (i + 1 >= argc) return false;
        value = argv[++i];
        return true;
      }
      if (arg.size() > flag.size() && arg.starts_with(flag) && arg[flag.size()] == '=') {
        value = std::string(arg.substr(flag.size() + 1));
        return true;
      }
      return false;
    };
    if (take_value("--config")) {
      cl.options.config_path = value;
    } else if (take_value("--check-config")) {
      cl.check_config = value;
    } else if (take_value("--listen")) {
      cl.options.listen_override = value;
    } else if (take_value("--listen-address-file")) {
      cl.options.listen_address_file = value;
    } else if (take_value("--log-level")) {
      cl.options.log_level_override = value;
    } else if (arg == "--once") {
      cl.once = true;
    } else if (arg == "--print-sample-config" || arg == "--print-config-reference") {
      (arg == "--print-sample-config" ? cl.print_sample : cl.print_reference) = true;
      while (i + 1 < argc && argv[i + 1][0] != '-') cl.kinds.emplace_back(argv[++i]);
      if (cl.print_reference && cl.kinds.empty()) {
        return "--print-config-reference needs at least one collector kind";
      }
    } else if (arg == "--version") {
      cl.version = true;
    } else if (arg == "--help" || arg == "-h") {
      cl.help = true;
    } else {
      return "unknown or incomplete argument '" + std::string(arg) + "'";
    }
  }
  const std::string& level = cl.options.log_level_override;
  if (!level.empty() && level != "trace" && level != "debug" && level != "info" &&
      level != "warn" && level != "error") {
    return "--log-level must be one of trace, debug, info, warn, error; got '" + level + "'";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  // A peer closing a socket must surface as an error code, never kill the agent.
  signal(SIGPIPE, SIG_IGN);

  if (argc > 1 && std::string_view(argv[1]) == "rules") {
    tacho::agent::CollectorRegistry registry;
    tacho::collectors::RegisterBuiltinCollectors(registry);
    return tacho::alerts::RunRulesCommand(argc - 1, argv + 1, [&](const std::string& path) {
      tacho::agent::AgentOptions options;
      options.config_path = path;
      return tacho::agent::LoadConfig(options, registry);
    });
  }

  CommandLine cl;
  if (std::string err = Parse(argc, argv, cl); !err.empty()) {
    std::fprintf(stderr, "tacho: %s\n\n%s", err.c_str(), kUsage);
    return kExitConfigError;
  }
  if (cl.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cl.version) {
    std::printf("tacho %s (%s)\n", tacho::kVersion, tacho::kRevision);
    return 0;
  }

  tacho::agent::CollectorRegistry registry;
  tacho::collectors::RegisterBuiltinCollectors(registry);

  if (!cl.kinds.empty()) {
    const std::vector<tacho::config::SampleKind> registered = registry.SampleKinds();
    std::vector<tacho::config::SampleKind> kinds;
    for (const std::string& name : cl.kinds) {
      auto it = std::find_if(registered.begin(), registered.end(),
                             [&name](const auto& kind) { return kind.name == name; });
      if (it == registered.end()) {
        std::fprintf(stderr, "tacho: unknown collector kind '%s'\n", name.c_str());
        return kExitConfigError;
      }
      kinds.push_back(*it);
    }
    std::string text;
    if (cl.print_sample) {
      text = tacho::config::GenerateFolderSample(kinds);
    } else {
      for (const auto& kind : kinds) {
        text += (text.empty() ? "" : "\n") + tacho::config::GenerateConfigReference(kind);
      }
    }
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  if (cl.print_sample) {
    const std::vector<tacho::config::SampleSection> sections = {
        {"alerts",
         "alerts: rules evaluated in the agent (a PromQL subset; the default pack is built in, "
         "its thresholds below) and notifications to webhooks and Alertmanagers. See README "
         "'Alerts'.",
         &tacho::agent::AlertsSectionSchema()}};
    std::fputs(tacho::config::GenerateSample(registry.SampleKinds(), sections).c_str(), stdout);
    return 0;
  }
  if (!cl.check_config.empty()) {
    cl.options.config_path = cl.check_config;
  }

  tacho::base::SetupLogging(
      cl.options.log_level_override.empty() ? "info" : cl.options.log_level_override, "text");
  auto config = tacho::agent::LoadConfig(cl.options, registry);
  if (!config) {
    std::fprintf(stderr, "tacho: %s\n", config.error().ToString().c_str());
    return kExitConfigError;
  }
  tacho::base::SetRedactedSecrets(config->secrets);

  tacho::agent::Agent agent(registry, cl.options, [](tacho::agent::MetricSink& sink) {
    tacho::collectors::process::WriteSelfProcessMetrics(sink);
  });
  if (!cl.check_config.empty()) {
    // Configure every collector too: regexes, files and the like fail here, not at run time.
    int rc = agent.CheckConfig(std::move(config.value()));
    if (rc == 0) std::printf("%s: configuration is valid\n", cl.check_config.c_str());
    return rc;
  }
  if (cl.once) return agent.RunOnce(std::move(config.value()));
  return agent.Run(std::move(config.value()));
}
