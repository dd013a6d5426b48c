#include "collectors/redis/redis_collector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "agent/pool_model.h"
#include "base/backoff.h"
#include "collectors/redis/client_list.h"
#include "collectors/redis/connection.h"
#include "collectors/redis/info_metrics.h"
#include "collectors/redis/info_parser.h"
#include "collectors/redis/latency.h"
#include "collectors/redis/pipeline.h"
#include "collectors/redis/slowlog.h"

namespace tacho::collectors::redis {
namespace {

using agent::Labels;
using agent::MetricSink;
using Clock = std::chrono::steady_clock;

// Slowlog entries fetched at most per collection; Redis keeps 128 by default
// (slowlog-max-len), so more would rarely exist.
constexpr std::size_t kSlowlogFetchMax = 128;
// Server error texts are quoted in messages up to this length.
constexpr std::size_t kMaxQuotedError = 160;

constexpr const char* kLatencyHelp =
    "Command latency from LATENCY HISTOGRAM (Redis 7+), differenced between collections so that "
    "rate() gives any window's distribution; the busiest commands.top_k commands.";

// 7 for "7.0.15"; 0 if unknown.
int MajorVersion(const InfoReport& info) {
  const std::string* version = info.Field("redis_version");
  return version == nullptr ? 0 : std::atoi(version->c_str());
}

std::string Quote(const std::string& error) {
  if (error.size() <= kMaxQuotedError) return error;
  return error.substr(0, kMaxQuotedError) + "...";
}

// The optional queries: each can be refused (ACL, rename-command, older server) without the
// target being down. Their names label tacho_redis_capability and tacho_redis_query_errors_total.
enum Query { kConfig, kLatency, kSlowlog, kClientList, kSetName, kQueryCount };
constexpr const char* kQueryNames[kQueryCount] = {"config", "latency_histogram", "slowlog",
                                                  "client_list", "client_setname"};
// What is lost when a query is refused, for the one log line that says so.
constexpr const char* kQueryFallback[kQueryCount] = {
    "maxmemory and maxclients come from INFO",
    "no redis_commands_latency_seconds histograms",
    "no slowlog metrics",
    "no client pool metrics",
    "the connection shows without a name",
};

class RedisCollector : public agent::Collector {
 public:
  explicit RedisCollector(RedisOptions options)
      : options_(std::move(options)), backoff_(options_.backoff_initial, options_.backoff_max) {}

  Status Collect(const agent::CollectContext& ctx, MetricSink& sink) override {
    try {
      return CollectOrReconnect(ctx, sink);
    } catch (const std::exception& e) {
      Disconnect(std::string("redis collector: ") + e.what());
      return Status::Error(last_error_);
    }
  }

  void Stop() override { connection_.reset(); }

 private:
  struct Capabilities {
    std::array<bool, kQueryCount> allowed{};
    std::array<std::string, kQueryCount> refusal;  // the server's error, when refused
    std::optional<int> databases;
  };

  Status CollectOrReconnect(const agent::CollectContext& ctx, MetricSink& sink) {
    if (!connection_) {
      const auto now = Clock::now();
      if (now < retry_at_) {
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(retry_at_ - now);
        return Status::Error(last_error_ + " (next attempt in " +
                             std::to_string((wait.count() + 999) / 1000) + "s)");
      }
      if (Status s = Connect(ctx); !s.ok()) return s;
    }
    Status status = CollectOnce(ctx, sink);
    if (!status.ok() && connection_ && connection_->broken()) Disconnect(status.message());
    if (status.ok()) backoff_.Success();
    return status;
  }

  // Drops the connection and schedules the next attempt with backoff.
  void Disconnect(std::string error) {
    connection_.reset();
    last_error_ = std::move(error);
    backoff_.Failure(Clock::now());
    retry_at_ = backoff_.next_attempt();
  }

  Status Fail(std::string error) {
    Disconnect(std::move(error));
    return Status::Error(last_error_);
  }

  std::string Who() const {
    return options_.username.empty() ? std::string("default") : options_.username;
  }

  Status Connect(const agent::CollectContext& ctx) {
    const auto connect_timeout = std::min(options_.connect_timeout, ctx.Remaining());
    if (connect_timeout.count() <= 0) return Status::Error("no time left to connect");
    auto opened = Connection::Open(options_.address, connect_timeout);
    if (!opened.ok()) return Fail(opened.error());
    connection_ = std::move(*opened);
    ++connections_opened_;

    if (!options_.password.empty()) {
      Command auth{"AUTH"};
      if (!options_.username.empty()) auth.push_back(options_.username);
      auth.push_back(options_.password);
      auto reply = connection_->Run(auth, ctx.deadline);
      if (!reply.ok()) return Fail(reply.error());
      if (reply->is_error()) return Fail(AuthFailureMessage(options_.username, reply->str));
    }

    // The capability probe: one round trip, once per connection.
    Pipeline probe;
    const Pipeline::Slot setname = probe.Add({"CLIENT", "SETNAME", "tacho"});
    const Pipeline::Slot databases = probe.Add({"CONFIG", "GET", "databases"});
    const Pipeline::Slot slowlog = probe.Add({"SLOWLOG", "LEN"});
    const Pipeline::Slot latency = probe.Add({"LATENCY", "HISTOGRAM", "ping"});
    if (Status s = connection_->Exchange(probe, ctx.deadline); !s.ok()) return Fail(s.message());
    if (probe[setname].is_error() && ErrorCode(probe[setname].str) == "NOAUTH") {
      return Fail(options_.password.empty()
                      ? "the server requires authentication (NOAUTH): set password, "
                        "password_file or password_env"
                      : "authentication required (NOAUTH) after AUTH for user '" + Who() + "'");
    }
    Capabilities caps;
    auto allow = [&caps](Query q, const Reply& r) {
      caps.allowed[q] = !r.is_error();
      if (r.is_error()) caps.refusal[q] = Quote(r.str);
    };
    allow(kSetName, probe[setname]);
    allow(kConfig, probe[databases]);
    allow(kSlowlog, probe[slowlog]);
    allow(kLatency, probe[latency]);
    caps.allowed[kClientList] = true;  // found out on first use: CLIENT LIST is O(clients)
    if (caps.allowed[kConfig]) {
      if (auto n = ConfigNumber(probe[databases], "databases"))
        caps.databases = static_cast<int>(*n);
    }
    caps_ = std::move(caps);
    describe_pending_ = true;
    return Status::Ok();
  }

  void Refuse(Query q, const Reply& reply) {
    caps_.allowed[q] = false;
    caps_.refusal[q] = Quote(reply.str);
    ++query_errors_[q];
    describe_pending_ = true;
  }

  // One log line when what is skipped changes (first connection, or a refusal later on); the
  // runtime already logs up/down.
  void DescribeCapabilities(const InfoReport& info) {
    describe_pending_ = false;
    std::string skipped;
    for (int q = 0; q < kQueryCount; ++q) {
      if (caps_.allowed[q]) continue;
      // LATENCY HISTOGRAM is new in Redis 7: older servers lack it rather than refuse it.
      if (q == kLatency && MajorVersion(info) < 7) continue;
      skipped += std::string(skipped.empty() ? "" : "; ") + kQueryNames[q] + " refused (" +
                 caps_.refusal[q] + "): " + kQueryFallback[q];
    }
    const std::string* version =
        info.Field(Flavour(info) == "valkey" ? "valkey_version" : "redis_version");
    std::string server = Flavour(info) + " " + (version ? *version : std::string("?")) + " (" +
                         (info.Field("role") ? *info.Field("role") : std::string("?")) + ")";
    if (skipped == logged_skipped_) {
      spdlog::debug("redis '{}': {} at {}", options_.instance_name, server,
                    options_.address.ToString());
      return;
    }
    logged_skipped_ = skipped;
    if (skipped.empty()) {
      spdlog::info("redis '{}': {} at {}: every query allowed", options_.instance_name, server,
                   options_.address.ToString());
    } else {
      spdlog::info("redis '{}': {} at {}: {}", options_.instance_name, server,
                   options_.address.ToString(), skipped);
    }
  }

  // One collection in two round trips; every reply is read through the slot of its command.
  Status CollectOnce(const agent::CollectContext& ctx, MetricSink& sink) {
    // Round 1: INFO and what does not depend on it.
    Pipeline round1;
    const Pipeline::Slot info_slot =
        round1.Add(info_all_ ? Command{"INFO", "all"} : Command{"INFO"});
    const ConfigSlots config = AddConfig(round1);
    SlowlogSlots slowlog = AddSlowlogHead(round1);
    if (Status s = connection_->Exchange(round1, ctx.deadline); !s.ok()) return s;
    const Reply& info_reply = round1[info_slot];
    if (info_reply.is_error()) return InfoRefused(info_reply);
    if (!info_reply.is_text()) return Status::Error("INFO: unexpected reply type");
    const InfoReport info = ParseInfo(info_reply.str);

    InfoMetricsOptions info_options;
    info_options.commands_max = options_.commands_max;
    info_options.databases = caps_.databases;
    info_options.now_unix_seconds =
        std::chrono::duration<double>(ctx.started_at.time_since_epoch()).count();
    ReadConfig(round1, config, info_options);
    if (describe_pending_) DescribeCapabilities(info);

    InfoMetricsResult kept = WriteInfoMetrics(info, info_options, sink);
    if (auto pool = ClientsPool(info, info_options)) agent::WritePool(sink, *pool);
    const std::string run_id = info.Field("run_id") ? *info.Field("run_id") : std::string();
    std::unordered_set<std::string> command_names;
    for (const CommandStat& c : info.commands) command_names.insert(c.name);
    const auto is_command = [&command_names](std::string_view name) {
      return command_names.count(std::string(name)) > 0;
    };

    // Round 2: what INFO decides: the latency top-K, new slowlog entries, client pools.
    Pipeline round2;
    const std::optional<Pipeline::Slot> latency = AddLatency(round2, kept);
    AddSlowlogRest(round1, slowlog, run_id, is_command, round2);
    const double connected = info.Number("connected_clients").value_or(0);
    const bool list_skipped = connected > static_cast<double>(options_.clients_max_for_list);
    const std::optional<Pipeline::Slot> clients = round2.AddIf(
        options_.client_list && caps_.allowed[kClientList] && !list_skipped, {"CLIENT", "LIST"});
    if (!round2.empty()) {
      if (ctx.Cancelled()) return Status::Error("collection cancelled (deadline reached)");
      if (Status s = connection_->Exchange(round2, ctx.deadline); !s.ok()) return s;
    }

    if (const Reply* reply = round2.Find(latency)) {
      if (reply->is_error()) {
        Refuse(kLatency, *reply);
      } else {
        WriteLatency(*reply, info, run_id, sink);
      }
    }
    previous_calls_.clear();
    for (const CommandStat& c : info.commands) previous_calls_[c.name] = c.calls;
    ReadSlowlogRest(round1, slowlog, round2, is_command, sink);
    if (const Reply* reply = round2.Find(clients)) {
      if (reply->is_error()) {
        Refuse(kClientList, *reply);
      } else {
        WriteClientPools(*reply, sink);
      }
    }
    WriteSelf(kept, list_skipped, sink);
    return Status::Ok();
  }

  struct ConfigSlots {
    std::optional<Pipeline::Slot> maxmemory;
    std::optional<Pipeline::Slot> maxclients;
  };

  ConfigSlots AddConfig(Pipeline& round1) const {
    const bool want = caps_.allowed[kConfig];
    return {round1.AddIf(want, {"CONFIG", "GET", "maxmemory"}),
            round1.AddIf(want, {"CONFIG", "GET", "maxclients"})};
  }

  void ReadConfig(const Pipeline& round1, const ConfigSlots& slots, InfoMetricsOptions& out) {
    const Reply* maxmemory = round1.Find(slots.maxmemory);
    const Reply* maxclients = round1.Find(slots.maxclients);
    if (maxmemory == nullptr || maxclients == nullptr) return;
    if (maxmemory->is_error()) {
      Refuse(kConfig, *maxmemory);
    } else if (maxclients->is_error()) {
      Refuse(kConfig, *maxclients);
    } else {
      out.config_maxmemory = ConfigNumber(*maxmemory, "maxmemory");
      out.config_maxclients = ConfigNumber(*maxclients, "maxclients");
    }
  }

  // LATENCY HISTOGRAM of the busiest commands of the interval, when allowed.
  std::optional<Pipeline::Slot> AddLatency(Pipeline& round2, const InfoMetricsResult& kept) const {
    if (options_.top_k == 0 || !caps_.allowed[kLatency] || kept.commands_kept.empty()) {
      return std::nullopt;
    }
    Command latency{"LATENCY", "HISTOGRAM"};
    for (std::string& name : SelectBusiest(kept.commands_kept, previous_calls_, options_.top_k)) {
      latency.push_back(std::move(name));
    }
    return round2.Add(std::move(latency));
  }

  // The slowlog takes both rounds: its length and newest entry in round 1, then, when more than
  // one entry is new, those entries in round 2.
  struct SlowlogSlots {
    std::optional<Pipeline::Slot> length;  // round 1
    std::optional<Pipeline::Slot> newest;  // round 1
    std::optional<Pipeline::Slot> rest;    // round 2
    bool ok = false;                       // round 1 was answered
    std::vector<SlowlogEntry> newest_entries;
  };

  SlowlogSlots AddSlowlogHead(Pipeline& round1) const {
    const bool want = options_.slowlog && caps_.allowed[kSlowlog];
    SlowlogSlots slots;
    slots.length = round1.AddIf(want, {"SLOWLOG", "LEN"});
    slots.newest = round1.AddIf(want, {"SLOWLOG", "GET", "1"});
    return slots;
  }

  void AddSlowlogRest(const Pipeline& round1, SlowlogSlots& slots, const std::string& run_id,
                      const std::function<bool(std::string_view)>& is_command, Pipeline& round2) {
    const Reply* length = round1.Find(slots.length);
    const Reply* newest = round1.Find(slots.newest);
    if (length == nullptr || newest == nullptr) return;
    if (length->is_error() || newest->is_error()) {
      Refuse(kSlowlog, length->is_error() ? *length : *newest);
      return;
    }
    slots.ok = true;
    slots.newest_entries = ParseSlowlog(*newest, is_command);
    std::optional<std::int64_t> newest_id;
    if (!slots.newest_entries.empty()) newest_id = slots.newest_entries.front().id;
    const std::uint64_t pending = slowlog_.Pending(run_id, newest_id);
    slots.rest = round2.AddIf(
        pending > 1,
        {"SLOWLOG", "GET", std::to_string(std::min<std::uint64_t>(pending, kSlowlogFetchMax))});
  }

  void ReadSlowlogRest(const Pipeline& round1, const SlowlogSlots& slots, const Pipeline& round2,
                       const std::function<bool(std::string_view)>& is_command, MetricSink& sink) {
    if (!slots.ok) return;
    if (const Reply* rest = round2.Find(slots.rest)) {
      if (rest->is_error()) {
        ++query_errors_[kSlowlog];
      } else {
        slowlog_.Record(ParseSlowlog(*rest, is_command));
      }
    } else {
      slowlog_.Record(slots.newest_entries);
    }
    WriteSlowlog(*round1.Find(slots.length), slots.newest_entries, sink);
  }

  Status InfoRefused(const Reply& reply) {
    const std::string_view code = ErrorCode(reply.str);
    if (code == "NOAUTH") {
      return Status::Error(
          "the server requires authentication (NOAUTH): set password, password_file or "
          "password_env");
    }
    if (code == "NOPERM") {
      return Status::Error("user '" + Who() + "' may not run INFO (" + Quote(reply.str) +
                           "): grant +info");
    }
    if (info_all_ && code == "ERR") {
      // Servers (or proxies) that don't know "INFO all": plain INFO next time.
      info_all_ = false;
    }
    return Status::Error("INFO failed: " + Quote(reply.str));
  }

  static std::optional<double> ConfigNumber(const Reply& reply, const std::string& name) {
    auto config = ParseConfigGet(reply);
    auto it = config.find(name);
    if (it == config.end()) return std::nullopt;
    return ParseNumber(it->second);
  }

  void WriteLatency(const Reply& reply, const InfoReport& info, const std::string& run_id,
                    MetricSink& sink) {
    std::unordered_map<std::string, double> usec;
    for (const CommandStat& c : info.commands) usec[c.name] = c.usec;
    latency_.BeginCycle(run_id);
    std::array<agent::HistogramBucket, kLatencyBuckets> buckets;
    for (const CommandHistogram& h : ParseLatencyHistogram(reply)) {
      const LatencyHistogram& total = latency_.Update(h, usec[h.command]);
      for (int k = 0; k < kLatencyBuckets; ++k) {
        buckets[k] = {LatencyBucketBound(k), total.cumulative[k]};
      }
      sink.Histogram("redis_commands_latency_seconds", kLatencyHelp, {{"cmd", h.command}}, buckets,
                     total.count, total.sum_seconds);
    }
  }

  void WriteSlowlog(const Reply& length, const std::vector<SlowlogEntry>& newest,
                    MetricSink& sink) {
    if (length.type == Reply::Type::kInteger) {
      sink.Gauge("redis_slowlog_length", "Total slowlog", {}, static_cast<double>(length.integer));
    }
    sink.Gauge("redis_slowlog_last_id", "Last id of slowlog", {},
               newest.empty() ? 0 : static_cast<double>(newest.front().id));
    sink.Gauge("redis_last_slow_execution_duration_seconds",
               "The amount of time needed for last slow execution, in seconds", {},
               newest.empty() ? 0 : static_cast<double>(newest.front().duration_us) * 1e-6);
    sink.Gauge("redis_slowlog_longest_new_entry_seconds",
               "Longest execution among the slowlog entries new since the previous collection, "
               "seconds; 0 when none.",
               {}, slowlog_.longest_new_seconds());
    for (const auto& [cmd, totals] : slowlog_.totals()) {
      sink.Counter("redis_slowlog_entries_total",
                   "Slowlog entries seen by tacho per command (never their arguments).",
                   {{"cmd", cmd}}, static_cast<double>(totals.entries));
      sink.Counter("redis_slowlog_duration_seconds_total",
                   "Execution time of the slowlog entries seen by tacho per command, seconds.",
                   {{"cmd", cmd}}, totals.duration_seconds);
    }
    sink.Counter("tacho_redis_slowlog_entries_missed_total",
                 "New slowlog entries that were not read (more than 128 between collections, or "
                 "trimmed by slowlog-max-len), so not in redis_slowlog_entries_total.",
                 {}, static_cast<double>(slowlog_.missed()));
  }

  void WriteClientPools(const Reply& reply, MetricSink& sink) {
    if (!reply.is_text()) return;
    ClientPools pools = GroupClientPools(ParseClientList(reply.str), options_.clients_max_pools);
    for (const ClientPool& p : pools.pools) {
      Labels name{{"client_name", p.name}};
      sink.Gauge("redis_client_pool_connections",
                 "Connections per client name (CLIENT SETNAME; \"\" when unset), from CLIENT "
                 "LIST.",
                 name, static_cast<double>(p.connections));
      sink.Gauge("redis_client_pool_active_connections",
                 "Connections per client name that ran a command in the last second or are "
                 "blocked in one.",
                 name, static_cast<double>(p.active));
      sink.Gauge("redis_client_pool_blocked_connections",
                 "Connections per client name blocked in a blocking command.", name,
                 static_cast<double>(p.blocked));
      sink.Gauge("redis_client_pool_max_idle_seconds",
                 "Longest idle time among the connections of a client name, seconds.", name,
                 static_cast<double>(p.max_idle_seconds));
      sink.Gauge("redis_client_pool_min_age_seconds",
                 "Age of the newest connection of a client name, seconds (steadily small: the "
                 "pool keeps reconnecting).",
                 name, static_cast<double>(p.min_age_seconds));
      agent::WritePool(sink, ClientPoolSample(p));
    }
    sink.Gauge("tacho_redis_client_pools_dropped",
               "Client names left out of redis_client_pool_* by clients.max_pools.", {},
               static_cast<double>(pools.dropped));
  }

  void WriteSelf(const InfoMetricsResult& kept, bool list_skipped, MetricSink& sink) {
    for (int q = 0; q < kQueryCount; ++q) {
      sink.Gauge("tacho_redis_capability",
                 "1 if the server allows the query on tacho's connection (ACL, rename-command, "
                 "version); 0 if it was refused and is skipped.",
                 {{"capability", kQueryNames[q]}}, caps_.allowed[q] ? 1 : 0);
      sink.Counter("tacho_redis_query_errors_total",
                   "Error replies to optional queries (the query is then skipped until the next "
                   "connection).",
                   {{"query", kQueryNames[q]}}, static_cast<double>(query_errors_[q]));
    }
    sink.Counter("tacho_redis_connections_total",
                 "Connections tacho opened to the server: the first and each reconnect.", {},
                 static_cast<double>(connections_opened_));
    sink.Gauge("tacho_redis_commands_dropped",
               "Commands left out of the per-command families by commands.max.", {},
               static_cast<double>(kept.commands_dropped));
    sink.Gauge("tacho_redis_client_list_skipped",
               "1 when CLIENT LIST was skipped because connected_clients exceeds "
               "clients.max_for_list.",
               {}, list_skipped ? 1 : 0);
  }

  RedisOptions options_;
  std::unique_ptr<Connection> connection_;
  base::Backoff backoff_;
  Clock::time_point retry_at_{};
  std::string last_error_;
  Capabilities caps_;
  bool describe_pending_ = false;
  std::string logged_skipped_ = "<none yet>";
  bool info_all_ = true;
  std::uint64_t connections_opened_ = 0;
  std::array<std::uint64_t, kQueryCount> query_errors_{};
  std::unordered_map<std::string, double> previous_calls_;
  LatencyAccumulator latency_;
  SlowlogTracker slowlog_;
};

const config::Schema& RedisSchema() {
  using config::KeySpec;
  using config::Type;
  static const config::Schema kSchema = {
      {.name = "address",
       .type = Type::kString,
       .default_value = "\"127.0.0.1:6379\"",
       .description = "host:port, [ipv6]:port, or the absolute path of a unix socket "
                      "(/run/redis/redis-server.sock). Checked at start-up; a host name is "
                      "resolved on each reconnect."},
      {.name = "username",
       .type = Type::kString,
       .description = "ACL user (Redis 6+) for AUTH username password; needs a password. "
                      "Unset: AUTH with the password only (the default user).",
       .example = "\"tacho\""},
      {.name = "password",
       .type = Type::kString,
       .description = "Password for AUTH; unset: no AUTH. Never logged, never in a metric or "
                      "error.",
       .secret = true,
       .example = "\"s3cret\""},
      {.name = "connect_timeout",
       .type = Type::kDuration,
       .default_value = "\"5s\"",
       .description = "TCP or unix-socket connect timeout, never longer than what is left of "
                      "the collection's timeout, which bounds the whole collection (connect, "
                      "AUTH and every command)."},
      {.name = "commands.top_k",
       .type = Type::kInt,
       .default_value = "20",
       .description = "Latency histograms (LATENCY HISTOGRAM, Redis 7+) for this many busiest "
                      "commands of each interval; 0 turns them off.",
       .min = 0,
       .max = 500},
      {.name = "commands.max",
       .type = Type::kInt,
       .default_value = "200",
       .description =
           "At most this many commands (busiest first) get redis_commands_*{cmd} "
           "series; the rest are counted in tacho_redis_commands_dropped. 200 covers every "
           "command a real workload uses.",
       .min = 1,
       .max = 10000},
      {.name = "slowlog",
       .type = Type::kBool,
       .default_value = "true",
       .description = "Count new slowlog entries per command (never their arguments)."},
      {.name = "clients.list",
       .type = Type::kBool,
       .default_value = "true",
       .description = "Client pools: connections grouped by client name, from CLIENT LIST."},
      {.name = "clients.max_for_list",
       .type = Type::kInt,
       .default_value = "1000",
       .description = "CLIENT LIST is O(connections) inside the single-threaded server: it is "
                      "skipped while connected_clients is above this "
                      "(tacho_redis_client_list_skipped 1).",
       .min = 0,
       .max = 1000000},
      {.name = "clients.max_pools",
       .type = Type::kInt,
       .default_value = "50",
       .description = "At most this many client names (largest pools first) get series; the "
                      "rest are counted in tacho_redis_client_pools_dropped.",
       .min = 1,
       .max = 10000},
  };
  return kSchema;
}

const config::Binding<RedisOptions>& RedisBinding() {
  static const config::Binding<RedisOptions> kBinding = {
      config::ReadByCode("address"),
      config::Bind("username", &RedisOptions::username),
      config::Bind("password", &RedisOptions::password),
      config::Bind("connect_timeout", &RedisOptions::connect_timeout),
      config::Bind("commands.top_k", &RedisOptions::top_k),
      config::Bind("commands.max", &RedisOptions::commands_max),
      config::Bind("slowlog", &RedisOptions::slowlog),
      config::Bind("clients.list", &RedisOptions::client_list),
      config::Bind("clients.max_for_list", &RedisOptions::clients_max_for_list),
      config::Bind("clients.max_pools", &RedisOptions::clients_max_pools),
  };
  return kBinding;
}

Expected<RedisOptions, config::Error> ParseOptions(const config::Section& section,
                                                   const agent::Environment& env) {
  RedisOptions options;
  RedisBinding().Fill(section, options);
  options.instance_name = env.instance_name;
  auto address = ParseAddress(section.GetString("address"));
  if (!address.ok()) {
    return section.ErrorAt(
        "address", "invalid address \"" + section.GetString("address") + "\": " + address.error());
  }
  options.address = std::move(*address);
  if (!options.username.empty() && options.password.empty()) {
    return section.ErrorAt("username",
                           "username \"" + options.username +
                               "\" needs a password (password, password_file or password_env)");
  }
  if (options.connect_timeout.count() <= 0) {
    return section.ErrorAt("connect_timeout", "connect_timeout must be positive");
  }
  if (options.top_k > options.commands_max) {
    return section.ErrorAt("commands.top_k", "commands.top_k (" + std::to_string(options.top_k) +
                                                 ") must not exceed commands.max (" +
                                                 std::to_string(options.commands_max) + ")");
  }
  return options;
}

}  // namespace

std::string AuthFailureMessage(const std::string& username, const std::string& error) {
  const std::string user = username.empty() ? "default" : username;
  const std::string_view code = ErrorCode(error);
  if (code == "WRONGPASS") {
    return "authentication failed for user '" + user + "' (WRONGPASS)";
  }
  if (!username.empty() && error.find("wrong number of arguments") != std::string::npos) {
    return "authentication failed for user '" + user +
           "': AUTH with a username needs Redis 6 or later (" + Quote(error) + ")";
  }
  return "authentication failed for user '" + user + "' (" + Quote(error) + ")";
}

std::unique_ptr<agent::Collector> NewRedisCollector(RedisOptions options) {
  return std::make_unique<RedisCollector>(std::move(options));
}

agent::CollectorKind RedisCollectorKind() {
  return agent::CollectorKind{
      .name = "redis",
      .description =
          "One Redis (or Valkey) server over a persistent connection: INFO under redis_exporter's "
          "names, windowed command latency histograms, slowlog and client pools. One "
          "collection is 2-3 round trips. collectors/redis/README.md lists every metric and the "
          "ACL permissions it needs.",
      .schema = RedisSchema(),
      .bound_keys = RedisBinding().Keys(),
      .up_metric = "redis_up",
      .up_help = "1 if the latest collection from the Redis server succeeded, 0 otherwise.",
      .chain_pool = "clients",
      .create = agent::MakeFactory(&ParseOptions, &NewRedisCollector),
  };
}

}  // namespace tacho::collectors::redis
