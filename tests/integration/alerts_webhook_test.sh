#!/usr/bin/env bash
# Alerts end to end with the real tacho binary and real local HTTP receivers
# (tests/fakes/webhook_receiver.py): the Alertmanager v4 payload field by field, the
# fingerprint, both signatures verified with openssl, grouping, group_wait, repeat_interval,
# resolved notifications, retries (a receiver failing 3 times then accepting gets it once),
# Retry-After honoured (delay-seconds and HTTP-date), retry.max_age expiry (dropped, counted,
# removed from the outbox), 4xx not retried, and a receiver that is down while tacho is killed with SIGKILL and restarted
# (delivered after the restart with the same webhook-id, nothing re-paged).
# The alert condition is a process: a copy of sleep named tacho-alert-probe.
# Usage: alerts_webhook_test.sh /path/to/tacho
set -uo pipefail

TACHO=${1:?usage: $0 /path/to/tacho}
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
check_begin tacho-alerts
PROMTOOL=$(tacho_promtool)
SECRET_SW="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_GH="It's a Secret to Everybody"

records() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
has_records() { [ "$(records "$1")" -ge "$2" ]; }
# start_receiver NAME [args...]: tests/fakes/webhook_receiver.py -> $WORK/NAME.port, $WORK/NAME.jsonl
start_receiver() { start_fake "$1" webhook_receiver.py --record "$WORK/$1.jsonl" "${@:2}"; }
# probe_config FILE STATE_DIR: an agent whose process collector watches the probe and whose
# [alerts] section is open, then stdin (the rest of [alerts] and the rules).
probe_config() {
  {
    cat <<TOML
[[collectors.process]]
name = "local"
interval = "1s"

[[collectors.process.groups]]
name = "probe"
comm = ["tacho-alert-probe"]

[alerts]
interval = "1s"
default_rules = false
TOML
    cat
  } | tacho_agent_config "$1" "$2"
}

# immediate_webhook NAME URL [LINE...]: an [[alerts.webhook]] section that sends every alert on
# its own, at once, and repeats it only after an hour; LINEs are added to it.
immediate_webhook() {
  printf '\n[[alerts.webhook]]\nname = "%s"\nurl = "%s"\ngroup_by = []\ngroup_wait = "0s"\nrepeat_interval = "1h"\n' "$1" "$2"
  if [ $# -gt 2 ]; then printf '%s\n' "${@:3}"; fi
}

cp "$(command -v sleep)" "$WORK/tacho-alert-probe"

# --- receivers -----------------------------------------------------------------------------
start_receiver main
start_receiver flaky --fail 3
start_receiver reject --fail 1000 --fail-status 400
start_receiver am
start_receiver slow --fail 1 --retry-after 3
start_receiver dated --fail 1 --retry-after-date 3
start_receiver dead --fail 1000000
# HTTPS: a self-signed certificate for 127.0.0.1; trusted through ca_file only.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/tls.key" -out "$WORK/tls.crt" >/dev/null 2>&1
start_receiver tls --cert "$WORK/tls.crt" --key "$WORK/tls.key"

probe_config "$WORK/a.toml" "$WORK/state-a" <<TOML
external_url = "http://tacho.example:9478"

[[alerts.rules]]
name = "ProbeRunning"
expr = "namedprocess_namegroup_num_procs{groupname=\"probe\"} > 0"
for = "1s"
severity = "critical"
labels = { team = "db" }
annotations = { summary = "{{ \$labels.groupname }} has {{ \$value }} processes", runbook_url = "https://runbooks/probe" }

[[alerts.rules]]
name = "ProbeRunningTwice"
expr = "namedprocess_namegroup_num_procs{groupname=\"probe\"} > 0"
for = "1s"
labels = { team = "db" }
annotations = { summary = "second" }

[[alerts.webhook]]
name = "main"
url = "http://127.0.0.1:$(cat "$WORK/main.port")/hook?x=1"
group_by = ["team"]
group_wait = "2s"
group_interval = "1s"
repeat_interval = "4s"
secret = """$SECRET_SW
$SECRET_GH"""
headers = { X-Team = "db" }

$(immediate_webhook flaky "http://127.0.0.1:$(cat "$WORK/flaky.port")/" \
  'group_interval = "1s"' 'retry.initial_backoff = "200ms"')
$(immediate_webhook tls "https://127.0.0.1:$(cat "$WORK/tls.port")/" "ca_file = \"$WORK/tls.crt\"")
$(immediate_webhook untrusted "https://127.0.0.1:$(cat "$WORK/tls.port")/untrusted")

[[alerts.alertmanager]]
name = "am"
url = "http://127.0.0.1:$(cat "$WORK/am.port")/am/"
$(immediate_webhook slow "http://127.0.0.1:$(cat "$WORK/slow.port")/" 'retry.initial_backoff = "100ms"')
$(immediate_webhook dated "http://127.0.0.1:$(cat "$WORK/dated.port")/" 'retry.initial_backoff = "100ms"')
$(immediate_webhook dead "http://127.0.0.1:$(cat "$WORK/dead.port")/" 'retry.max_age = "3s"' \
  'retry.initial_backoff = "200ms"' 'retry.max_backoff = "500ms"')
$(immediate_webhook reject "http://127.0.0.1:$(cat "$WORK/reject.port")/")
TOML
check "the configuration is valid" "$TACHO" --check-config "$WORK/a.toml"
start_agent a "$WORK/a.toml" 10
A_PID=$AGENT_PID
ADDR=$AGENT_ADDR

sleep 1
"$WORK/tacho-alert-probe" 600 &
PROBE=$!
tacho_track_pid $PROBE
T_START=$(date +%s.%N)

check "a firing notification reaches the main receiver" wait_for 20 has_records "$WORK/main.jsonl" 1
check "/api/v1/alerts lists both alerts firing" bash -c "curl -fsS http://$ADDR/api/v1/alerts | python3 -c '
import json,sys
d=json.load(sys.stdin)[\"data\"][\"alerts\"]
assert sorted(a[\"labels\"][\"alertname\"] for a in d)==[\"ProbeRunning\",\"ProbeRunningTwice\"], d
assert all(a[\"state\"]==\"firing\" for a in d), d'"
check "/api/v1/rules reports the rules with health ok" bash -c "curl -fsS http://$ADDR/api/v1/rules | python3 -c '
import json,sys
g=json.load(sys.stdin)[\"data\"][\"groups\"][0]
r={x[\"name\"]:x for x in g[\"rules\"]}
assert r[\"ProbeRunning\"][\"health\"]==\"ok\" and r[\"ProbeRunning\"][\"state\"]==\"firing\", r
assert r[\"ProbeRunning\"][\"duration\"]==1 and r[\"ProbeRunning\"][\"type\"]==\"alerting\"'"
curl -fsS "http://$ADDR/metrics" >"$WORK/metrics.txt"
check "tacho_alerts has the firing alert with its labels" \
  grep -q '^tacho_alerts{alertname="ProbeRunning",groupname="probe",severity="critical",target="local",team="db",alertstate="firing"} 1$' "$WORK/metrics.txt"
check "the exposition with tacho_alerts passes promtool check metrics" \
  bash -c "'$PROMTOOL' check metrics < '$WORK/metrics.txt'"

# The first notification, field by field.
python3 - "$WORK/main.jsonl" "$T_START" >"$WORK/first.check" 2>&1 <<'PY'
import json, sys
rec = [json.loads(l) for l in open(sys.argv[1])]
r = rec[0]
t_start = float(sys.argv[2])
errors = []
def expect(cond, what):
    if not cond: errors.append(what)
body = json.loads(r["body"])
expect(r["path"] == "/hook?x=1", "path %r" % r["path"])
expect(r["headers"].get("x-team") == "db", "custom header")
expect(r["headers"].get("content-type") == "application/json", "content type")
expect(r["time"] - t_start >= 2.0, "group_wait: first notification %.2fs after the probe" % (r["time"] - t_start))
expect(list(body.keys()) == ["receiver", "status", "alerts", "groupLabels", "commonLabels",
    "commonAnnotations", "externalURL", "version", "groupKey", "truncatedAlerts"], "keys %s" % list(body))
expect(body["version"] == "4", "version")
expect(body["receiver"] == "main", "receiver")
expect(body["status"] == "firing", "status")
expect(body["groupKey"] == '{}:{team="db"}', "groupKey %s" % body["groupKey"])
expect(body["groupLabels"] == {"team": "db"}, "groupLabels")
expect(body["truncatedAlerts"] == 0, "truncatedAlerts")
expect(body["externalURL"] == "http://tacho.example:9478", "externalURL")
alerts = body["alerts"]
expect(len(alerts) == 2, "two alerts grouped by team: %d" % len(alerts))
expect(body["commonLabels"] == {"groupname": "probe", "target": "local", "team": "db"},
       "commonLabels %s" % body["commonLabels"])
def fnv(labels):
    h = 14695981039346656037
    for k in sorted(labels):
        for b in k.encode() + b"\xff" + labels[k].encode() + b"\xff":
            h = ((h ^ b) * 1099511628211) % 2**64
    return "%016x" % h
for a in alerts:
    expect(list(a.keys()) == ["status", "labels", "annotations", "startsAt", "endsAt",
        "generatorURL", "fingerprint"], "alert keys %s" % list(a))
    expect(a["status"] == "firing", "alert status")
    expect(a["endsAt"] == "0001-01-01T00:00:00Z", "endsAt while firing")
    expect(a["fingerprint"] == fnv(a["labels"]), "fingerprint %s vs %s" % (a["fingerprint"], fnv(a["labels"])))
    expect(a["generatorURL"].startswith("http://tacho.example:9478/api/v1/rules?rule="), "generatorURL")
    expect(a["startsAt"].endswith("Z") and a["startsAt"].startswith("20"), "startsAt")
p = [a for a in alerts if a["labels"]["alertname"] == "ProbeRunning"][0]
expect(p["labels"] == {"alertname": "ProbeRunning", "groupname": "probe", "severity": "critical",
    "target": "local", "team": "db"}, "labels %s" % p["labels"])
expect(p["annotations"] == {"runbook_url": "https://runbooks/probe", "summary": "probe has 1 processes"},
       "annotations %s" % p["annotations"])
print("\n".join(errors))
sys.exit(1 if errors else 0)
PY
rc=$?
check "first notification: Alertmanager v4 payload, fingerprints, grouping, group_wait" test "$rc" -eq 0
[ "$rc" -eq 0 ] || cat "$WORK/first.check"

# Signatures, verified with openssl (an independent HMAC implementation).
python3 - "$WORK/main.jsonl" "$WORK" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).readline())
d = sys.argv[2]
open(d + "/body", "wb").write(r["body"].encode())
open(d + "/signed", "wb").write((r["headers"]["webhook-id"] + "." + r["headers"]["webhook-timestamp"] + "." + r["body"]).encode())
open(d + "/sig.sw", "w").write(r["headers"]["webhook-signature"])
open(d + "/sig.gh", "w").write(r["headers"]["x-hub-signature-256"])
PY
key_hex=$(printf '%s' "${SECRET_SW#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
sw1="v1,$(openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary "$WORK/signed" | base64)"
sw2="v1,$(openssl dgst -sha256 -hmac "$SECRET_GH" -binary "$WORK/signed" | base64)"
check "webhook-signature has one v1 entry per secret (openssl HMAC-SHA256)" \
  test "$(cat "$WORK/sig.sw")" = "$sw1 $sw2"
gh="sha256=$(openssl dgst -sha256 -hmac "$SECRET_SW" "$WORK/body" | sed 's/^.*= //')"
check "X-Hub-Signature-256 is the hex HMAC of the body with the first secret (openssl)" \
  test "$(cat "$WORK/sig.gh")" = "$gh"
check "webhook-timestamp is current and webhook-id looks like msg_<hex>" python3 -c "
import json,time
r=json.loads(open('$WORK/main.jsonl').readline())
assert abs(int(r['headers']['webhook-timestamp'])-time.time())<60
assert r['headers']['webhook-id'].startswith('msg_') and len(r['headers']['webhook-id'])==36"

# repeat_interval = 4s: the unchanged group is sent again (a new notification id).
check "an unchanged group is repeated after repeat_interval" wait_for 12 has_records "$WORK/main.jsonl" 2
check "the repeat came no earlier than repeat_interval" python3 -c "
import json
r=[json.loads(l) for l in open('$WORK/main.jsonl')]
assert r[1]['time']-r[0]['time']>=3.8, r[1]['time']-r[0]['time']
assert r[1]['headers']['webhook-id']!=r[0]['headers']['webhook-id']"

# Retries: 'flaky' answered 503 three times, then 200: delivered once, same webhook-id.
check "flaky receiver: 3 failures then one success" wait_for 20 has_records "$WORK/flaky.jsonl" 4
check "flaky receiver: all four attempts carry the same webhook-id, only the last succeeded" python3 -c "
import json
r=[json.loads(l) for l in open('$WORK/flaky.jsonl')]
first=r[0]['headers']['webhook-id']
same=[x for x in r if x['headers']['webhook-id']==first]
assert [x['status'] for x in same]==[503,503,503,200], [x['status'] for x in same]
assert same[0]['body']==same[3]['body']"
# Retry-After: 'slow' answered 503 with Retry-After: 3 once; 'dated' the same as an HTTP-date
# 3s ahead (whole seconds, so >= ~2s). The backoff alone (100ms) would retry at once.
retry_gap() {  # retry_gap NAME MIN: the 2nd attempt came MIN..60 s after the 1st, and was accepted
  python3 -c "
import json
r=[json.loads(l) for l in open('$WORK/$1.jsonl')]
assert [x['status'] for x in r[:2]]==[503,200], [x['status'] for x in r]
assert r[0]['headers']['webhook-id']==r[1]['headers']['webhook-id']
gap=r[1]['time']-r[0]['time']
assert $2<=gap<60, gap"
}
retried_after() { wait_for 30 has_records "$WORK/$1.jsonl" 2 && retry_gap "$1" "$2"; }
check "Retry-After delay-seconds (3): the retry comes no sooner" retried_after slow 2.9
check "Retry-After HTTP-date (3s ahead): the retry comes no sooner" retried_after dated 1.9
# retry.max_age = 3s against a receiver that always fails: retried, then dropped as expired.
# metrics_have REGEX: a fresh scrape has a line matching REGEX.
metrics_have() { http_grep "http://$ADDR/metrics" "$1"; }
expired() { metrics_have '^tacho_notifications_dropped_total{receiver="dead",integration="webhook",reason="expired"} 1$'; }
check "retry.max_age: the notification is dropped and counted as expired" wait_for 30 expired
dead_n=$(records "$WORK/dead.jsonl")
check "retry.max_age: retried until then (several attempts, the last within ~max_age)" python3 -c "
import json
r=[json.loads(l) for l in open('$WORK/dead.jsonl')]
assert len(r)>=3 and len({x['headers']['webhook-id'] for x in r})==1, len(r)
assert r[-1]['time']-r[0]['time']<15, r[-1]['time']-r[0]['time']"
dead_outbox() { ! grep -q '"receiver":"dead"' "$WORK/state-a/outbox/"*.msg 2>/dev/null; }
check "retry.max_age: removed from the outbox" dead_outbox
dead_queue() { metrics_have '^tacho_notification_queue_length{receiver="dead",integration="webhook"} 0$'; }
check "retry.max_age: the queue length is 0" dead_queue
dead_outbox || { ls -la "$WORK/state-a/outbox/"; grep -l '"receiver":"dead"' "$WORK/state-a/outbox/"*.msg | xargs head -c 300; }
dead_queue || curl -fsS "http://$ADDR/metrics" | grep 'receiver="dead"'
sleep 2
check "retry.max_age: no attempt after the drop" test "$(records "$WORK/dead.jsonl")" -eq "$dead_n"
check "reject receiver: a 400 is not retried (each webhook-id once)" python3 -c "
import json
r=[json.loads(l) for l in open('$WORK/reject.jsonl')]
ids=[x['headers']['webhook-id'] for x in r]
assert len(ids)>=1 and len(ids)==len(set(ids)), ids"
rejected=$(records "$WORK/reject.jsonl")
curl -fsS "http://$ADDR/metrics" >"$WORK/metrics2.txt"
check "HTTPS receiver with ca_file gets the notification; without it the certificate is refused" bash -c "
grep -q '^tacho_notifications_delivered_total{receiver=\"tls\",integration=\"webhook\"} 1$' '$WORK/metrics2.txt' &&
grep -q '^tacho_notification_failures_total{receiver=\"untrusted\",integration=\"webhook\",reason=\"tls\"}' '$WORK/metrics2.txt' &&
! grep -q '/untrusted' '$WORK/tls.jsonl'"
check "self-metrics count the delivery, the failures and the drop" bash -c "
grep -q '^tacho_notifications_delivered_total{receiver=\"flaky\",integration=\"webhook\"} 1$' '$WORK/metrics2.txt' &&
grep -q '^tacho_notification_failures_total{receiver=\"flaky\",integration=\"webhook\",reason=\"http_5xx\"} 3$' '$WORK/metrics2.txt' &&
grep -q '^tacho_notifications_dropped_total{receiver=\"reject\",integration=\"webhook\",reason=\"http_4xx\"} $rejected$' '$WORK/metrics2.txt' &&
grep -q '^tacho_notification_queue_length{receiver=\"flaky\",integration=\"webhook\"} 0$' '$WORK/metrics2.txt'"

# Resolution.
kill "$PROBE"
n_before=$(records "$WORK/main.jsonl")
resolved() { python3 -c "
import json,sys
r=[json.loads(l) for l in open('$WORK/main.jsonl')]
sys.exit(0 if any(json.loads(x['body'])['status']=='resolved' for x in r) else 1)"; }
check "a resolved notification follows when the probe stops" wait_for 20 resolved
check "the resolved notification has endsAt set and status resolved per alert" python3 -c "
import json
r=[json.loads(json.loads(l)['body']) for l in open('$WORK/main.jsonl')]
b=[x for x in r if x['status']=='resolved'][0]
assert all(a['status']=='resolved' and a['endsAt']!='0001-01-01T00:00:00Z' for a in b['alerts']), b"
sleep 3
check "nothing is sent after the resolution" bash -c "
python3 -c \"
import json
r=[json.loads(json.loads(l)['body']) for l in open('$WORK/main.jsonl')]
i=[k for k,x in enumerate(r) if x['status']=='resolved'][0]
assert i==len(r)-1, (i,len(r))\""
check "Alertmanager push: POST /api/v2/alerts with firing alerts, then their resolution" python3 -c "
import json
r=[json.loads(l) for l in open('$WORK/am.jsonl')]
assert all(x['path']=='/am/api/v2/alerts' for x in r), [x['path'] for x in r]
first=json.loads(r[0]['body'])
assert sorted(a['labels']['alertname'] for a in first)==['ProbeRunning','ProbeRunningTwice'], first
a=first[0]
assert list(a.keys())==['labels','annotations','startsAt','endsAt','generatorURL'], a
assert a['endsAt']>a['startsAt'], a
import datetime
ts=lambda s: datetime.datetime.fromisoformat(s.replace('Z','+00:00')).timestamp()
assert ts(a['endsAt'])>r[0]['time']+60, a
last=json.loads(r[-1]['body'])
assert all(ts(x['endsAt'])<=r[-1]['time']+1 for x in last), last"
kill -TERM "$A_PID"; wait "$A_PID" 2>/dev/null

# --- SIGKILL while the receiver is down ----------------------------------------------------------
PORT_C=$(tacho_free_port)
probe_config "$WORK/c.toml" "$WORK/state-c" <<TOML
[[alerts.rules]]
name = "ProbeRunning"
expr = "namedprocess_namegroup_num_procs{groupname=\"probe\"} > 0"

[[alerts.webhook]]
name = "later"
url = "http://127.0.0.1:$PORT_C/"
group_wait = "0s"
group_interval = "1s"
repeat_interval = "1h"
retry.initial_backoff = "300ms"
retry.max_backoff = "1s"
TOML
"$WORK/tacho-alert-probe" 600 &
PROBE=$!
tacho_track_pid $PROBE
start_agent c "$WORK/c.toml" 10
C_PID=$AGENT_PID
outbox_has_one() { [ "$(find "$WORK/state-c/outbox" -name '*.msg' 2>/dev/null | wc -l)" -eq 1 ]; }
check "the notification waits in the durable outbox while the receiver is down" wait_for 20 outbox_has_one
queued_id=$(basename "$(find "$WORK/state-c/outbox" -name '*.msg' | head -1)" .msg)
queued_id=${queued_id#*-}
active_before=$(curl -fsS "http://$(cat "$WORK/c.addr")/api/v1/alerts" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["alerts"][0]["activeAt"])')
sleep 1
kill -KILL "$C_PID"; wait "$C_PID" 2>/dev/null
start_receiver later --port "$PORT_C"
start_agent c "$WORK/c.toml" 10
check "after the SIGKILL and restart the notification is delivered" wait_for 20 has_records "$WORK/later.jsonl" 1
check "the redelivery carries the webhook-id queued before the crash" python3 -c "
import json
r=[json.loads(l) for l in open('$WORK/later.jsonl')]
assert r[0]['headers']['webhook-id']=='$queued_id', (r[0]['headers']['webhook-id'], '$queued_id')"
check "the alert kept its activeAt across the restart" bash -c "
[ \"\$(curl -fsS http://\$(cat '$WORK/c.addr')/api/v1/alerts | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"data\"][\"alerts\"][0][\"activeAt\"])')\" = '$active_before' ]"
sleep 3
check "the restart re-paged nothing (one notification in total)" test "$(records "$WORK/later.jsonl")" -eq 1
check "the outbox is empty once delivered" test "$(find "$WORK/state-c/outbox" -name '*.msg' | wc -l)" -eq 0
kill "$PROBE"

check_summary
