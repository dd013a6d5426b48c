#include "exporters/webhook/notifier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <random>
#include <sstream>

#include "base/file.h"

namespace tacho::webhook {

namespace asio = boost::asio;
namespace json = boost::json;
using agent::Labels;
using alerts::NotifyAlert;
using alerts::promql::Timestamp;

namespace {

constexpr auto kTickEvery = std::chrono::milliseconds(200);
// Prometheus' resend delay to Alertmanager (--rules.alert.resend-delay).
constexpr std::int64_t kResendDelayMs = 60'000;

std::vector<std::pair<std::string, std::string>> HeaderList(const config::StringMap& m) {
  return {m.begin(), m.end()};
}

Timestamp NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A response body a receiver may send back; more fails the attempt ("too_large").
constexpr std::size_t kResponseBodyLimit = std::size_t{1} << 20;

bool Retryable(const base::HttpResponse& r) {
  return r.reason != "http_status" || r.status == 408 || r.status == 429 || r.status >= 500;
}

// The reason label of a failed attempt: the client's reason, or the status class.
std::string FailureReason(const base::HttpResponse& r) {
  if (r.reason != "http_status") return r.reason;
  if (r.status == 408 || r.status == 429) return "http_" + std::to_string(r.status);
  if (r.status >= 500) return "http_5xx";
  return "http_4xx";
}

base::HttpRequest PostRequest(const base::Url& url, std::string body,
                              std::chrono::milliseconds timeout, const std::string& ca_file,
                              std::vector<std::pair<std::string, std::string>> headers) {
  base::HttpRequest req;
  req.method = base::HttpMethod::kPost;
  req.url = url;
  req.body = std::move(body);
  req.content_type = "application/json";
  req.deadline = std::chrono::steady_clock::now() + timeout;
  req.ca_file = ca_file;
  req.headers = std::move(headers);
  req.body_limit = kResponseBodyLimit;
  return req;
}

}  // namespace

namespace detail {

std::int64_t ParseRetryAfter(const std::string& value, Timestamp now) {
  if (value.empty()) return -1;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    // Clamped: a value too long for std::stoll would otherwise throw.
    if (value.size() > 10) return 9'999'999'999LL * 1000;
    return std::stoll(value) * 1000;
  }
  std::tm tm{};
  std::istringstream in(value);
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S");
  if (in.fail()) return -1;
  const Timestamp at = static_cast<Timestamp>(timegm(&tm)) * 1000;
  return std::max<std::int64_t>(0, at - now);
}

}  // namespace detail

// --------------------------------------------------------------------------------------------
// Configuration

Expected<NotifierConfig, config::Error> LoadNotifierConfig(const config::Section& alerts) {
  NotifierConfig out;
  out.interval = alerts.GetDuration("interval");
  out.external_url = alerts.GetString("external_url");
  while (!out.external_url.empty() && out.external_url.back() == '/') out.external_url.pop_back();
  std::set<std::string> names;
  for (const config::Section& s : alerts.GetTableList("webhook")) {
    WebhookConfig w;
    w.name = s.GetString("name");
    if (!names.insert(w.name).second)
      return s.ErrorAt("name", "duplicate receiver name '" + w.name + "'");
    auto url = base::ParseUrl(s.GetString("url"), "headers");
    if (!url) return s.ErrorAt("url", "webhook '" + w.name + "': " + url.error().message());
    w.url = url.value();
    w.timeout = s.GetDuration("timeout");
    w.ca_file = s.GetString("ca_file");
    if (!w.ca_file.empty() && !std::ifstream(w.ca_file)) {
      return s.ErrorAt("ca_file",
                       "cannot read ca_file '" + w.ca_file + "': " + std::strerror(errno));
    }
    w.group_by = s.GetStringList("group_by");
    if (std::find(w.group_by.begin(), w.group_by.end(), "...") != w.group_by.end()) {
      if (w.group_by.size() != 1) {
        return s.ErrorAt("group_by", "\"...\" groups by all labels and must stand alone");
      }
      w.group_all = true;
      w.group_by.clear();
    }
    w.group_wait = s.GetDuration("group_wait");
    w.group_interval = s.GetDuration("group_interval");
    w.repeat_interval = s.GetDuration("repeat_interval");
    if (w.group_interval.count() <= 0)
      return s.ErrorAt("group_interval", "group_interval must be positive");
    w.send_resolved = s.GetBool("send_resolved");
    w.max_alerts = static_cast<std::size_t>(s.GetInt("max_alerts"));
    w.headers = HeaderList(s.GetStringMap("headers"));
    auto secrets = ParseSecrets(s.GetString("secret"));
    if (!secrets)
      return s.ErrorAt("secret", "webhook '" + w.name + "': " + secrets.error().message());
    w.secrets = std::move(secrets.value());
    w.max_age = s.GetDuration("retry.max_age");
    w.initial_backoff = s.GetDuration("retry.initial_backoff");
    w.max_backoff = s.GetDuration("retry.max_backoff");
    if (w.initial_backoff.count() <= 0) {
      return s.ErrorAt("retry.initial_backoff", "retry.initial_backoff must be positive");
    }
    out.webhooks.push_back(std::move(w));
  }
  for (const config::Section& s : alerts.GetTableList("alertmanager")) {
    AlertmanagerConfig a;
    a.name = s.GetString("name");
    if (!names.insert(a.name).second)
      return s.ErrorAt("name", "duplicate receiver name '" + a.name + "'");
    auto url = base::ParseUrl(s.GetString("url"), "headers");
    if (!url) return s.ErrorAt("url", "alertmanager '" + a.name + "': " + url.error().message());
    a.url = url.value();
    std::string base = a.url.target;
    while (!base.empty() && base.back() == '/') base.pop_back();
    a.url.target = base + "/api/v2/alerts";
    a.timeout = s.GetDuration("timeout");
    a.ca_file = s.GetString("ca_file");
    a.headers = HeaderList(s.GetStringMap("headers"));
    out.alertmanagers.push_back(std::move(a));
  }
  return out;
}

// --------------------------------------------------------------------------------------------
// State

struct Notifier::Timer {
  explicit Timer(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
};

struct Notifier::Group {
  LabelMap labels;
  std::string key;
  struct Entry {
    NotifyAlert alert;
    Timestamp valid_until = 0;  // a firing alert not refreshed by then counts as resolved
  };
  std::map<std::uint64_t, Entry> alerts;
  Timestamp next_flush = 0;
};

struct Notifier::Receiver {
  WebhookConfig config;
  std::map<std::string, Group> groups;
  // Alertmanager's notification log: what the last notification of each group said.
  struct LogEntry {
    std::set<std::uint64_t> firing;
    std::set<std::uint64_t> resolved;
    Timestamp at = 0;
  };
  std::map<std::string, LogEntry> log;
  bool in_flight = false;
  std::uint64_t delivered = 0;
  std::map<std::string, std::uint64_t> failures;  // reason -> failed attempts
  std::map<std::string, std::uint64_t> dropped;   // reason -> notifications given up
};

Notifier::Notifier(asio::io_context& io) : io_(io), alive_(std::make_shared<bool>(true)) {}

Notifier::~Notifier() {
  *alive_ = false;
  if (timer_) timer_->timer.cancel();
}

void Notifier::Stop() {
  stopped_ = true;
  if (timer_) timer_->timer.cancel();
  if (log_dirty_) SaveLog();
}

void Notifier::Configure(NotifierConfig config, const std::string& state_dir) {
  const bool first = !timer_;
  state_dir_ = state_dir;
  std::map<std::string, std::unique_ptr<Receiver>> next;
  for (WebhookConfig& w : config.webhooks) {
    auto it = receivers_.find(w.name);
    std::unique_ptr<Receiver> r =
        it != receivers_.end() ? std::move(it->second) : std::make_unique<Receiver>();
    r->config = std::move(w);
    next[r->config.name] = std::move(r);
  }
  receivers_ = std::move(next);
  config.webhooks.clear();
  for (auto& [name, r] : receivers_) config.webhooks.push_back(r->config);
  config_ = std::move(config);
  if (!config_.webhooks.empty() && !outbox_opened_) {
    outbox_opened_ = true;
    const std::string dir = state_dir_ + "/outbox";
    if (Status s = outbox_.Open(dir); !s.ok()) {
      spdlog::error(
          "webhook outbox: {}; notifications are kept in memory only and a restart "
          "loses those not yet delivered",
          s.message());
    } else if (outbox_.size() > 0) {
      spdlog::info("webhook outbox: {} notification(s) from before the restart to deliver",
                   outbox_.size());
    }
    LoadLog();
  }
  if (first && !config_.empty()) {
    timer_ = std::make_unique<Timer>(io_);
    ScheduleTick();
  }
}

void Notifier::ScheduleTick() {
  if (stopped_ || !timer_) return;
  timer_->timer.expires_after(kTickEvery);
  timer_->timer.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || stopped_) return;
    Tick(NowMs());
    ScheduleTick();
  });
}

// --------------------------------------------------------------------------------------------
// Grouping (Alertmanager's dispatch.aggrGroup and notify.DedupStage)

void Notifier::Update(const std::vector<NotifyAlert>& alerts, Timestamp now) {
  const std::int64_t valid_for =
      4 * std::max<std::int64_t>(config_.interval.count(), kResendDelayMs);
  for (auto& [name, r] : receivers_) {
    for (const NotifyAlert& a : alerts) {
      LabelMap group_labels;
      if (r->config.group_all) {
        group_labels = a.labels;
      } else {
        for (const auto& l : r->config.group_by) {
          if (auto it = a.labels.find(l); it != a.labels.end()) group_labels.insert(*it);
        }
      }
      const std::string key = GroupKey(group_labels);
      const std::uint64_t fp = Fingerprint(a.labels);
      auto git = r->groups.find(key);
      if (a.resolved()) {
        // Only alerts a receiver knows about resolve: in a live group, or firing in the last
        // notification (a restart in between).
        const bool in_group = git != r->groups.end() && git->second.alerts.count(fp);
        auto log = r->log.find(key);
        const bool notified = log != r->log.end() && log->second.firing.count(fp);
        if (!in_group && !notified) continue;
        if (in_group && git->second.alerts[fp].alert.resolved()) continue;
      }
      if (git == r->groups.end()) {
        Group g;
        g.labels = group_labels;
        g.key = key;
        g.next_flush = now + r->config.group_wait.count();
        git = r->groups.emplace(key, std::move(g)).first;
      }
      Group::Entry& e = git->second.alerts[fp];
      e.alert = a;
      e.valid_until = a.resolved() ? a.ends_at : now + valid_for;
    }
  }
  if (!config_.alertmanagers.empty()) PushToAlertmanagers(alerts, now);
}

void Notifier::Tick(Timestamp now) {
  for (auto& [name, r] : receivers_) {
    for (auto it = r->groups.begin(); it != r->groups.end();) {
      if (now >= it->second.next_flush) Flush(*r, it->second, now);
      if (it->second.alerts.empty()) {
        it = r->groups.erase(it);
      } else {
        ++it;
      }
    }
    Deliver(*r, now);
  }
  ExpireOrphans(now);
  if (log_dirty_) SaveLog();
}

// Entries of a receiver that is no longer configured (renamed or removed) cannot be delivered.
// They are kept for the default retry.max_age, in case the configuration comes back, then
// dropped and counted under the old name, so the outbox never grows without bound.
void Notifier::ExpireOrphans(Timestamp now) {
  static const std::int64_t kKeepMs = WebhookConfig{}.max_age.count();
  std::vector<std::string> expired;
  for (const OutboxEntry* e : outbox_.All()) {
    if (receivers_.count(e->receiver) == 0 && e->created_ms + kKeepMs < now) {
      expired.push_back(e->id);
    }
  }
  for (const std::string& id : expired) {
    const OutboxEntry* e = outbox_.Find(id);
    spdlog::warn("webhook '{}': giving up on notification {}: the receiver is no longer configured",
                 e->receiver, id);
    ++orphans_dropped_[e->receiver];
    outbox_.Remove(id);
  }
}

void Notifier::Flush(Receiver& r, Group& g, Timestamp now) {
  g.next_flush = now + r.config.group_interval.count();
  std::set<std::uint64_t> firing, resolved;
  std::vector<std::pair<std::uint64_t, NotifyAlert>> all;
  for (auto& [fp, e] : g.alerts) {
    if (!e.alert.resolved() && e.valid_until < now) e.alert.ends_at = e.valid_until;
    (e.alert.resolved() ? resolved : firing).insert(fp);
    all.emplace_back(fp, e.alert);
  }
  auto log_it = r.log.find(g.key);
  const Receiver::LogEntry* entry = log_it == r.log.end() ? nullptr : &log_it->second;
  bool needs = false;
  if (entry == nullptr) {
    needs = !firing.empty();
  } else if (!std::includes(entry->firing.begin(), entry->firing.end(), firing.begin(),
                            firing.end())) {
    needs = true;
  } else if (firing.empty()) {
    needs = !entry->firing.empty();
  } else if (r.config.send_resolved &&
             !std::includes(entry->resolved.begin(), entry->resolved.end(), resolved.begin(),
                            resolved.end())) {
    needs = true;
  } else {
    needs = entry->at + r.config.repeat_interval.count() <= now;
  }
  if (needs) {
    std::vector<NotifyAlert> send;
    for (auto& [fp, a] : all) {
      if (!a.resolved() || r.config.send_resolved) send.push_back(a);
    }
    // Alertmanager orders a group's alerts by labels; firing and resolved mixed.
    std::sort(send.begin(), send.end(),
              [](const NotifyAlert& a, const NotifyAlert& b) { return a.labels < b.labels; });
    if (!send.empty()) {
      WebhookMessage m;
      m.receiver = r.config.name;
      m.group_labels = g.labels;
      m.group_key = g.key;
      m.external_url = config_.external_url;
      if (r.config.max_alerts > 0 && send.size() > r.config.max_alerts) {
        m.truncated_alerts = send.size() - r.config.max_alerts;
        send.resize(r.config.max_alerts);
      }
      m.alerts = std::move(send);
      auto id = outbox_.Add(r.config.name, RenderWebhookBody(m), now);
      if (!id) {
        spdlog::error("webhook '{}': cannot queue a notification: {}", r.config.name,
                      id.error().message());
        ++r.dropped["outbox"];
        return;  // retried at the next group_interval
      }
    }
    if (firing.empty()) {
      r.log.erase(g.key);
    } else {
      r.log[g.key] = Receiver::LogEntry{firing, resolved, now};
    }
    log_dirty_ = true;
  }
  // Resolved alerts are told once (or never, without send_resolved); then forgotten.
  for (std::uint64_t fp : resolved) g.alerts.erase(fp);
}

// --------------------------------------------------------------------------------------------
// Delivery

void Notifier::Deliver(Receiver& r, Timestamp now) {
  if (r.in_flight) return;
  auto pending = outbox_.Pending(r.config.name);
  if (pending.empty()) return;
  OutboxEntry* e = pending.front();
  if (e->created_ms + r.config.max_age.count() < now) {
    spdlog::warn("webhook '{}': giving up on notification {} queued {}s ago (retry.max_age)",
                 r.config.name, e->id, (now - e->created_ms) / 1000);
    ++r.dropped["expired"];
    outbox_.Remove(e->id);
    return;
  }
  if (e->next_attempt_ms > now) return;
  base::HttpRequest req =
      PostRequest(r.config.url, e->body, r.config.timeout, r.config.ca_file, r.config.headers);
  for (auto& h : SignatureHeaders(r.config.secrets, e->id, now / 1000, e->body)) {
    req.headers.push_back(std::move(h));
  }
  r.in_flight = true;
  ++e->attempts;
  const std::string name = r.config.name;
  const std::string id = e->id;
  base::HttpFetchAsync(io_, std::move(req),
                       [this, alive = alive_, name, id](base::HttpResponse result) {
                         if (!*alive) return;
                         OnDelivered(name, id, std::move(result));
                       });
}

void Notifier::OnDelivered(const std::string& receiver, const std::string& id,
                           base::HttpResponse result) {
  auto rit = receivers_.find(receiver);
  OutboxEntry* e = outbox_.Find(id);
  if (rit == receivers_.end()) return;  // removed by a reload; the entry stays queued
  Receiver& r = *rit->second;
  r.in_flight = false;
  if (e == nullptr) return;
  const Timestamp now = NowMs();
  if (result.ok()) {
    ++r.delivered;
    outbox_.Remove(id);
    return;
  }
  const std::string reason = FailureReason(result);
  ++r.failures[reason];
  const std::string detail =
      result.status != 0 ? "HTTP " + std::to_string(result.status) : result.error;
  if (!Retryable(result)) {
    spdlog::warn("webhook '{}': notification {} rejected with {} (not retried): {}", receiver, id,
                 detail, result.body.substr(0, 200));
    ++r.dropped[reason];
    outbox_.Remove(id);
    return;
  }
  // Exponential backoff with "equal jitter": half the delay fixed, half random.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const int shift = std::min(e->attempts - 1, 30);
  const double base = std::min<double>(
      static_cast<double>(r.config.initial_backoff.count()) * static_cast<double>(1ULL << shift),
      static_cast<double>(r.config.max_backoff.count()));
  std::int64_t delay = static_cast<std::int64_t>(
      base / 2 + std::uniform_real_distribution<double>(0, base / 2)(rng));
  const std::int64_t retry_after = detail::ParseRetryAfter(result.retry_after, now);
  if (retry_after >= 0) delay = std::max(delay, retry_after);
  e->next_attempt_ms = now + delay;
  if (e->attempts == 1 || e->attempts % 10 == 0) {
    spdlog::warn("webhook '{}': delivery of {} failed ({}), attempt {}; retrying in {}ms", receiver,
                 id, detail, e->attempts, delay);
  }
  // Deliver right away if the next attempt is due before the next tick.
  if (delay <= 0) Deliver(r, now);
}

void Notifier::PushToAlertmanagers(const std::vector<NotifyAlert>& alerts, Timestamp now) {
  // Prometheus' sendAlerts: firing alerts every resend delay with endsAt in 4 × max(interval,
  // resend delay); resolved ones once, with their resolution time.
  const std::int64_t valid_for =
      4 * std::max<std::int64_t>(config_.interval.count(), kResendDelayMs);
  std::vector<PushedAlert> batch;
  for (const NotifyAlert& a : alerts) {
    const std::uint64_t fp = Fingerprint(a.labels);
    auto it = am_last_sent_.find(fp);
    const Timestamp last = it == am_last_sent_.end() ? 0 : it->second;
    const bool due = a.resolved() ? a.ends_at > last : last + kResendDelayMs < now;
    if (!due) continue;
    am_last_sent_[fp] = now;
    batch.push_back(PushedAlert{a, a.resolved() ? a.ends_at : now + valid_for});
  }
  // Forget alerts no longer reported.
  std::set<std::uint64_t> live;
  for (const NotifyAlert& a : alerts) live.insert(Fingerprint(a.labels));
  for (auto it = am_last_sent_.begin(); it != am_last_sent_.end();) {
    it = live.count(it->first) ? std::next(it) : am_last_sent_.erase(it);
  }
  if (batch.empty()) return;
  const std::string body = RenderAlertmanagerBody(batch);
  for (const AlertmanagerConfig& am : config_.alertmanagers) {
    const std::string name = am.name;
    base::HttpFetchAsync(
        io_, PostRequest(am.url, body, am.timeout, am.ca_file, am.headers),
        [this, alive = alive_, name](base::HttpResponse result) {
          if (!*alive) return;
          AmStats& s = am_stats_[name];
          if (result.ok()) {
            ++s.delivered;
            return;
          }
          const std::string reason = FailureReason(result);
          if (s.failures[reason]++ == 0) {
            spdlog::warn(
                "alertmanager '{}': push failed ({}); alerts are resent every minute", name,
                result.status != 0 ? "HTTP " + std::to_string(result.status) : result.error);
          }
        });
  }
}

// --------------------------------------------------------------------------------------------
// Persistence of the notification log

void Notifier::SaveLog() {
  log_dirty_ = false;
  if (state_dir_.empty() || !outbox_.durable()) return;
  json::object receivers;
  for (const auto& [name, r] : receivers_) {
    json::object groups;
    for (const auto& [key, e] : r->log) {
      json::array firing, resolved;
      for (auto fp : e.firing) firing.push_back(json::value(fp));
      for (auto fp : e.resolved) resolved.push_back(json::value(fp));
      groups[key] = json::object{{"firing", firing}, {"resolved", resolved}, {"at", e.at}};
    }
    receivers[name] = std::move(groups);
  }
  const Status s = base::WriteFileAtomically(
      state_dir_ + "/notifications.json",
      json::serialize(json::object{{"version", 1}, {"receivers", receivers}}) + "\n");
  // Logged once per change of state. Without the log a restart may repeat a notification; the
  // outbox still holds every undelivered one.
  if (!s.ok() && log_error_ != s.message()) spdlog::warn("{}", s.message());
  log_error_ = s.ok() ? "" : s.message();
}

void Notifier::LoadLog() {
  std::ifstream in(state_dir_ + "/notifications.json");
  if (!in) return;
  std::stringstream buffer;
  buffer << in.rdbuf();
  boost::system::error_code ec;
  json::value root = json::parse(buffer.str(), ec);
  if (ec || !root.is_object() || !root.as_object().contains("receivers")) return;
  const json::value& receivers = root.as_object().at("receivers");
  if (!receivers.is_object()) return;
  for (const auto& [name, groups] : receivers.as_object()) {
    auto it = receivers_.find(std::string(name));
    if (it == receivers_.end() || !groups.is_object()) continue;
    for (const auto& [key, entry] : groups.as_object()) {
      if (!entry.is_object()) continue;
      Receiver::LogEntry e;
      const json::object& o = entry.as_object();
      auto fps = [](const json::value* v, std::set<std::uint64_t>& out) {
        if (v == nullptr || !v->is_array()) return;
        for (const auto& x : v->as_array()) {
          if (x.is_uint64()) out.insert(x.as_uint64());
          if (x.is_int64()) out.insert(static_cast<std::uint64_t>(x.as_int64()));
        }
      };
      fps(o.if_contains("firing"), e.firing);
      fps(o.if_contains("resolved"), e.resolved);
      if (auto* at = o.if_contains("at"); at != nullptr && at->is_int64()) e.at = at->as_int64();
      it->second->log[std::string(key)] = std::move(e);
    }
  }
}

// --------------------------------------------------------------------------------------------
// Metrics

void Notifier::WriteMetrics(agent::MetricSink& sink, Timestamp now) const {
  auto write = [&](const std::string& name, const std::string& kind, std::uint64_t delivered,
                   const std::map<std::string, std::uint64_t>& failures) {
    Labels l = {{"receiver", name}, {"integration", kind}};
    sink.Counter("tacho_notifications_delivered_total", "Notifications a receiver accepted (2xx).",
                 l, static_cast<double>(delivered));
    for (const auto& [reason, n] : failures) {
      Labels lr = l;
      lr.push_back({"reason", reason});
      sink.Counter("tacho_notification_failures_total",
                   "Failed delivery attempts by reason (timeout, connection, tls, too_large, "
                   "http_408, http_429, http_5xx, http_4xx).",
                   lr, static_cast<double>(n));
    }
  };
  const auto dropped = [&sink](const std::string& receiver, const std::string& reason,
                               std::uint64_t n) {
    sink.Counter("tacho_notifications_dropped_total",
                 "Notifications given up on: rejected with a 4xx other than 408/429, older than "
                 "retry.max_age (expired), not queueable (outbox), or queued for a receiver that "
                 "left the configuration more than 24h ago (receiver_removed).",
                 {{"receiver", receiver}, {"integration", "webhook"}, {"reason", reason}},
                 static_cast<double>(n));
  };
  for (const auto& [name, n] : orphans_dropped_) dropped(name, "receiver_removed", n);
  for (const auto& [name, r] : receivers_) {
    write(name, "webhook", r->delivered, r->failures);
    for (const auto& [reason, n] : r->dropped) dropped(name, reason, n);
    auto pending = const_cast<Outbox&>(outbox_).Pending(name);
    Labels l = {{"receiver", name}, {"integration", "webhook"}};
    sink.Gauge("tacho_notification_queue_length",
               "Notifications queued in the outbox, not yet delivered.", l,
               static_cast<double>(pending.size()));
    sink.Gauge(
        "tacho_notification_queue_oldest_age_seconds",
        "Age of the oldest queued notification (0 when none).", l,
        pending.empty() ? 0.0 : static_cast<double>(now - pending.front()->created_ms) / 1000);
  }
  for (const AlertmanagerConfig& am : config_.alertmanagers) {
    auto it = am_stats_.find(am.name);
    static const AmStats kNone;
    const AmStats& s = it == am_stats_.end() ? kNone : it->second;
    write(am.name, "alertmanager", s.delivered, s.failures);
  }
}

}  // namespace tacho::webhook
