#include "exporters/webhook/schema.h"

namespace tacho::webhook {

namespace {

using config::Schema;
using config::Type;

const Schema& WebhookFields() {
  static const Schema kFields = {
      {.name = "name",
       .type = Type::kString,
       .description = "Receiver name (the payload's receiver field); unique.",
       .required = true,
       .example = "\"oncall\""},
      {.name = "url",
       .type = Type::kString,
       .description = "http:// or https:// URL the Alertmanager-compatible payload is POSTed "
                      "to (HTTPS verifies the certificate).",
       .required = true,
       .example = "\"https://hooks.example.com/alertmanager\""},
      {.name = "timeout",
       .type = Type::kDuration,
       .default_value = "\"10s\"",
       .description = "Deadline of one delivery attempt (connect, TLS, request, response)."},
      {.name = "ca_file",
       .type = Type::kString,
       .description = "PEM CA bundle to verify the receiver's certificate with (default: the "
                      "system's).",
       .example = "\"/etc/tacho/webhook-ca.pem\""},
      {.name = "group_by",
       .type = Type::kStringList,
       .default_value = "[\"alertname\"]",
       .description = "Labels that split alerts into notifications; [\"...\"] groups by all "
                      "labels."},
      {.name = "group_wait",
       .type = Type::kDuration,
       .default_value = "\"30s\"",
       .description = "Wait before the first notification of a new group (to batch)."},
      {.name = "group_interval",
       .type = Type::kDuration,
       .default_value = "\"5m\"",
       .description = "Wait before notifying about changes to a group already notified."},
      {.name = "repeat_interval",
       .type = Type::kDuration,
       .default_value = "\"4h\"",
       .description = "Wait before repeating an unchanged notification."},
      {.name = "send_resolved",
       .type = Type::kBool,
       .default_value = "true",
       .description = "Notify when alerts resolve."},
      {.name = "max_alerts",
       .type = Type::kInt,
       .default_value = "0",
       .description = "Alerts per payload (0: all); the rest are counted in truncatedAlerts.",
       .min = 0},
      {.name = "headers",
       .type = Type::kStringMap,
       .description = "Extra HTTP headers.",
       .example = "{ X-Team = \"db\" }"},
      {.name = "secret",
       .type = Type::kString,
       .description = "Signing secret(s), one per line for rotation (secret_file): each adds a "
                      "webhook-signature entry (Standard Webhooks; 'whsec_<base64>' keys are "
                      "decoded); the first also signs X-Hub-Signature-256.",
       .secret = true,
       .example = "\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\""},
      {.name = "retry.max_age",
       .type = Type::kDuration,
       .default_value = "\"24h\"",
       .description = "Give up on a notification (and count it dropped) this long after it was "
                      "queued."},
      {.name = "retry.initial_backoff",
       .type = Type::kDuration,
       .default_value = "\"1s\"",
       .description = "First retry delay; doubles per attempt, with jitter."},
      {.name = "retry.max_backoff",
       .type = Type::kDuration,
       .default_value = "\"5m\"",
       .description = "Longest retry delay (a Retry-After header may ask for longer)."},
  };
  return kFields;
}

const Schema& AlertmanagerFields() {
  static const Schema kFields = {
      {.name = "name",
       .type = Type::kString,
       .description = "Name (for logs and metrics); unique among webhooks and alertmanagers.",
       .required = true,
       .example = "\"am\""},
      {.name = "url",
       .type = Type::kString,
       .description = "Alertmanager base URL; alerts are POSTed to <url>/api/v2/alerts.",
       .required = true,
       .example = "\"http://alertmanager:9093\""},
      {.name = "timeout",
       .type = Type::kDuration,
       .default_value = "\"10s\"",
       .description = "Deadline of one push."},
      {.name = "ca_file",
       .type = Type::kString,
       .description = "PEM CA bundle for https URLs (default: the system's).",
       .example = "\"/etc/tacho/am-ca.pem\""},
      {.name = "headers",
       .type = Type::kStringMap,
       .description = "Extra HTTP headers.",
       .example = "{ Authorization = \"Bearer ...\" }"},
  };
  return kFields;
}

Schema BuildDeliverySchema() {
  return {
      {.name = "webhook",
       .type = Type::kTableList,
       .description = "Webhook receivers: Alertmanager's webhook payload (version 4), signed, "
                      "queued durably under state_dir and retried.",
       .fields = WebhookFields()},
      {.name = "alertmanager",
       .type = Type::kTableList,
       .description = "Existing Alertmanagers to push alerts to (/api/v2/alerts), as Prometheus "
                      "does.",
       .fields = AlertmanagerFields()},
  };
}

}  // namespace

const config::Schema& DeliverySchema() {
  static const Schema kSchema = BuildDeliverySchema();
  return kSchema;
}

}  // namespace tacho::webhook
