#!/usr/bin/env bash
# Alerts end to end with a real PostgreSQL: a rule on idle connections, 20 idle connections
# opened -> a firing webhook; closed -> a resolved webhook. Needs the postgres collector
# ([[collectors.postgres]] with dsn) and its pg_stat_activity_connections{state} gauge.
# Usage: alerts_pg_test.sh /path/to/tacho
set -uo pipefail

TACHO=${1:?usage: $0 /path/to/tacho}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib/servers.sh
source "$ROOT/scripts/lib/servers.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tacho-alerts-pg.XXXXXX")
chmod 0755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
tacho_servers_cleanup_on_exit
passed=0
failed=0
ok() { echo "ok   - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }

tacho_start_postgres || exit 1
python3 "$ROOT/tests/fakes/webhook_receiver.py" --port-file "$WORK/port" --record "$WORK/rec.jsonl" &
tacho_track_pid $!
tacho_wait_for 10 test -s "$WORK/port" || { echo "receiver did not start"; exit 1; }

cat >"$WORK/tacho.toml" <<TOML
[agent]
listen = "127.0.0.1:0"
state_dir = "$WORK/state"

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
url = "http://127.0.0.1:$(cat "$WORK/port")/"
group_wait = "1s"
group_interval = "1s"
TOML
"$TACHO" --config "$WORK/tacho.toml" --listen-address-file "$WORK/addr" >"$WORK/tacho.log" 2>&1 &
tacho_track_pid $!
tacho_wait_for 15 test -s "$WORK/addr" || { echo "tacho did not start"; cat "$WORK/tacho.log"; exit 1; }

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
check "20 idle connections -> a firing webhook" tacho_wait_for 40 status_seen firing
check "the firing alert carries the target and the summary" python3 -c "
import json
b=[json.loads(json.loads(l)['body']) for l in open('$WORK/rec.jsonl')][0]
a=b['alerts'][0]
assert a['labels']['target']=='db', a
assert a['annotations']['summary'].startswith('db has '), a"
kill "$HOLDER"
check "connections closed -> a resolved webhook" tacho_wait_for 40 status_seen resolved

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
