#!/usr/bin/env bash
# Alerts end to end with a real PostgreSQL: a rule on idle connections, 20 idle connections
# opened -> a firing webhook; closed -> a resolved webhook. Needs the postgres collector
# ([[collectors.postgres]] with dsn) and its pg_stat_activity_connections{state} gauge.
# Usage: alerts_pg_test.sh /path/to/tacho
set -uo pipefail

TACHO=${1:?usage: $0 /path/to/tacho}
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
check_begin tacho-alerts-pg
chmod 0755 "$WORK"

tacho_start_postgres || exit 1
start_fake receiver webhook_receiver.py --record "$WORK/rec.jsonl"

tacho_agent_config "$WORK/tacho.toml" "$WORK/state" <<TOML
[[collectors.postgres]]
name = "db"
interval = "1s"
dsn = "$TACHO_PG_DSN"

[alerts]
interval = "1s"
default_rules = false

[[alerts.rules]]
name = "PostgresManyIdleConnections"
expr = "sum by (target) (pg_stat_activity_connections{state=\"idle\"}) >= 20"
for = "2s"
annotations = { summary = "{{ \$labels.target }} has {{ \$value }} idle connections" }

[[alerts.webhook]]
name = "hook"
url = "http://127.0.0.1:$FAKE_PORT/"
group_wait = "1s"
group_interval = "1s"
TOML
start_agent agent "$WORK/tacho.toml" 15

status_seen() {  # status_seen firing|resolved
  [ -f "$WORK/rec.jsonl" ] && python3 -c "
import json,sys
r=[json.loads(json.loads(l)['body']) for l in open('$WORK/rec.jsonl')]
sys.exit(0 if any(b['status']=='$1' and b['alerts'][0]['labels']['alertname']=='PostgresManyIdleConnections' for b in r) else 1)"
}

sleep 3
check "no notification before the connections exist" test ! -s "$WORK/rec.jsonl"
mkfifo "$WORK/hold"
sleep 600 >"$WORK/hold" &
HOLDER=$!
tacho_track_pid $HOLDER
for _ in $(seq 20); do
  "$TACHO_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$TACHO_PG_PORT" -U postgres -d tacho_test <"$WORK/hold" >/dev/null 2>&1 &
  tacho_track_pid $!
done
check "20 idle connections -> a firing webhook" wait_for 40 status_seen firing
check "the firing alert carries the target and the summary" python3 -c "
import json
b=[json.loads(json.loads(l)['body']) for l in open('$WORK/rec.jsonl')][0]
a=b['alerts'][0]
assert a['labels']['target']=='db', a
assert a['annotations']['summary'].startswith('db has '), a"
kill "$HOLDER"
check "connections closed -> a resolved webhook" wait_for 40 status_seen resolved

check_summary
