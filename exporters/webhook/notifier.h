// Alert delivery: Alertmanager-style grouping per [[alerts.webhook]] receiver (group_wait,
// group_interval, repeat_interval, send_resolved), signed webhook payloads queued in the
// durable outbox and retried with backoff, and the optional push to existing Alertmanagers.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/alerts/rule_engine.h"
#include "agent/metric_sink.h"
#include "base/http_client.h"
#include "config/config.h"
#include "exporters/webhook/outbox.h"
#include "exporters/webhook/webhook_payload.h"

namespace boost::asio {
class io_context;
}

namespace tacho::webhook {

struct WebhookConfig {
  std::string name;
  base::Url url;
  std::chrono::milliseconds timeout{10000};
  std::string ca_file;
  std::vector<std::string> group_by;  // empty with group_all: every label
  bool group_all = false;
  std::chrono::milliseconds group_wait{30000};
  std::chrono::milliseconds group_interval{300000};
  std::chrono::milliseconds repeat_interval{4 * 3600000};
  bool send_resolved = true;
  std::size_t max_alerts = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<WebhookSecret> secrets;
  std::chrono::milliseconds max_age{24 * 3600000};
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{300000};
};

struct AlertmanagerConfig {
  std::string name;
  base::Url url;  // target already ends in /api/v2/alerts
  std::chrono::milliseconds timeout{10000};
  std::string ca_file;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct NotifierConfig {
  std::vector<WebhookConfig> webhooks;
  std::vector<AlertmanagerConfig> alertmanagers;
  std::string external_url;
  std::chrono::milliseconds interval{15000};  // the rule evaluation interval
  bool empty() const { return webhooks.empty() && alertmanagers.empty(); }
};

// Validates [[alerts.webhook]] and [[alerts.alertmanager]] of the [alerts] section. Secrets
// never appear in errors.
Expected<NotifierConfig, config::Error> LoadNotifierConfig(const config::Section& alerts);

namespace detail {
// Retry-After: delay-seconds or an IMF-fixdate HTTP-date (RFC 9110). Returns the delay in ms
// from `now` (0 for a date in the past), or -1 when empty or unparseable.
std::int64_t ParseRetryAfter(const std::string& value, alerts::promql::Timestamp now);
}  // namespace detail

// Thread-safety: every method must be called on the event-loop thread of `io`.
class Notifier {
 public:
  explicit Notifier(boost::asio::io_context& io);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Applies a (new) configuration. `state_dir` holds outbox/ and notifications.json (the
  // notification log that keeps a restart from re-paging). Groups of receivers that keep their
  // name survive a reload; queued notifications of a removed receiver stay in the outbox until
  // they expire. Starts the delivery timer on first use.
  void Configure(NotifierConfig config, const std::string& state_dir);

  // The alerts after a rule evaluation at `now` (firing ones and recently resolved ones).
  void Update(const std::vector<alerts::NotifyAlert>& alerts, alerts::promql::Timestamp now);

  // Flushes due groups and starts due deliveries. Called by the internal timer; public for
  // tests that drive time themselves.
  void Tick(alerts::promql::Timestamp now);

  // tacho_notifications_* self-metrics.
  void WriteMetrics(agent::MetricSink& sink, alerts::promql::Timestamp now) const;

  void Stop();

 private:
  struct Receiver;
  struct Group;
  void Flush(Receiver& r, Group& g, alerts::promql::Timestamp now);
  void Deliver(Receiver& r, alerts::promql::Timestamp now);
  void ExpireOrphans(alerts::promql::Timestamp now);
  void OnDelivered(const std::string& receiver, const std::string& id, base::HttpResponse result);
  void PushToAlertmanagers(const std::vector<alerts::NotifyAlert>& alerts,
                           alerts::promql::Timestamp now);
  void SaveLog();
  void LoadLog();
  void ScheduleTick();

  boost::asio::io_context& io_;
  struct Timer;
  std::unique_ptr<Timer> timer_;
  std::shared_ptr<bool> alive_;
  NotifierConfig config_;
  std::string state_dir_;
  Outbox outbox_;
  bool outbox_opened_ = false;
  std::map<std::string, std::unique_ptr<Receiver>> receivers_;
  // Outbox entries dropped because their receiver left the configuration, by its old name.
  std::map<std::string, std::uint64_t> orphans_dropped_;
  // Alertmanager push bookkeeping, per alert fingerprint: when it was last sent.
  std::map<std::uint64_t, alerts::promql::Timestamp> am_last_sent_;
  struct AmStats {
    std::uint64_t delivered = 0;
    std::map<std::string, std::uint64_t> failures;
    bool in_flight = false;
  };
  std::map<std::string, AmStats> am_stats_;
  bool log_dirty_ = false;
  std::string log_error_;  // the last failure to write notifications.json, "" when ok
  bool stopped_ = false;
};

}  // namespace tacho::webhook
