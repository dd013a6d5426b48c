// Alertmanager's webhook payload (version "4") and the signatures tacho puts on it. Pure code.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agent/alerts/rule_engine.h"

namespace tacho::webhook {

using LabelMap = std::map<std::string, std::string>;

// Prometheus' label-set fingerprint (prometheus/common model.LabelsToSignature): FNV-1a 64 over
// the labels sorted by name, each as name, 0xff, value, 0xff. {} -> 0xcbf29ce484222325.
std::uint64_t Fingerprint(const LabelMap& labels);
// As Alertmanager prints it: 16 lower-case hex digits.
std::string FingerprintHex(const LabelMap& labels);

// Alertmanager's group key for a route without matchers: {}:{alertname="X",target="db"}.
std::string GroupKey(const LabelMap& group_labels);

struct WebhookMessage {
  std::string receiver;
  LabelMap group_labels;
  std::string group_key;
  std::string external_url;
  std::vector<alerts::NotifyAlert> alerts;  // already truncated to max_alerts
  std::uint64_t truncated_alerts = 0;
};

// The JSON body, field for field Alertmanager's notify/webhook Message (template.Data plus
// version, groupKey, truncatedAlerts): status is "firing" if any alert fires; commonLabels /
// commonAnnotations hold the pairs every alert shares; endsAt is 0001-01-01T00:00:00Z while
// firing.
std::string RenderWebhookBody(const WebhookMessage& message);

// The body Alertmanager's POST /api/v2/alerts takes: [{labels, annotations, startsAt, endsAt,
// generatorURL}], endsAt given for firing alerts too (when the alert expires without a resend).
struct PushedAlert {
  alerts::NotifyAlert alert;
  alerts::promql::Timestamp ends_at = 0;
};
std::string RenderAlertmanagerBody(const std::vector<PushedAlert>& alerts);

// One signing secret. "whsec_<base64>" (Standard Webhooks) uses the decoded bytes as the HMAC
// key for webhook-signature; any other string is used as it is.
struct WebhookSecret {
  std::string text;  // as configured (the X-Hub-Signature-256 key, GitHub-style)
  std::string key;   // the webhook-signature key
};
// Splits a configured `secret` value into lines (one secret per line, surrounding blanks
// trimmed). Returns an error naming the bad entry's
// index (never its content) for a whsec_ value that is not valid base64.
Expected<std::vector<WebhookSecret>> ParseSecrets(const std::string& value);

std::string HmacSha256(const std::string& key, const std::string& data);
std::string Base64(const std::string& bytes);
std::string Hex(const std::string& bytes);

// The signature headers of one delivery attempt:
//   webhook-id: <id>   webhook-timestamp: <unix seconds>
//   webhook-signature: v1,<base64 HMAC-SHA256(key, id.timestamp.body)> (space-separated, one
//                      per secret)
//   X-Hub-Signature-256: sha256=<hex HMAC-SHA256(first secret's text, body)>
std::vector<std::pair<std::string, std::string>> SignatureHeaders(
    const std::vector<WebhookSecret>& secrets, const std::string& id, std::int64_t unix_seconds,
    const std::string& body);

}  // namespace tacho::webhook
