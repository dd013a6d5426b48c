#!/usr/bin/env bash
# Integration test of the pool model against real servers started by scripts/lib/servers.sh:
# PostgreSQL 15, PgBouncer (default_pool_size = 2) in front of it, and a fixture HTTP endpoint
# with HikariCP-style metrics for the app kind.
#
#   tests/integration/pool_test.sh PATH_TO_TACHO
#
# One agent (interval 1s) runs: postgres "db", pgbouncer "bouncer" (upstream db, the stats
# user, password from password_env) and app_pool "svc" (upstream bouncer). Checks: the
# pgbouncer_exporter-compatible families; with 10 clients running pg_sleep through a pool of 2,
# waiting clients and max wait rise above 0 and utilisation reaches 1.0, /api/v1/pools marks
# the PgBouncer layer as the bottleneck, and all of it falls back when the load stops; pgbench
# shows up as the PostgreSQL pool app/pgbench; the app kind follows the fixture; pgbouncer_up
# is 0 while PgBouncer is down and 1 again after it restarts, with one log line per change;
# promtool accepts the exposition. Ends with "N passed, M failed".
set -uo pipefail

TACHO="${1:?usage: $0 /path/to/tacho}"
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
check_begin tacho-pool-test

PROMTOOL="$(tacho_promtool)" || { echo "promtool missing"; exit 1; }

echo "=== servers"
tacho_start_postgres || { echo "cannot start PostgreSQL"; exit 1; }
tacho_start_pgbouncer --pool-size 2 --pool-mode transaction || { echo "cannot start PgBouncer"; exit 1; }
tacho_start_redis --maxclients 64 || { echo "cannot start Redis"; exit 1; }
PGBIN=$TACHO_PG_BIN

# The application's pool, as HikariCP's Micrometer binding exposes it; rewritten by set_app.
set_app() {  # set_app ACTIVE IDLE PENDING
  cat >"$WORK/app.prom.tmp" <<PROM
# HELP jvm_threads_live_threads The current number of live threads
# TYPE jvm_threads_live_threads gauge
jvm_threads_live_threads 42.0
# HELP hikaricp_connections_active Active connections
# TYPE hikaricp_connections_active gauge
hikaricp_connections_active{pool="orders",} $1
# HELP hikaricp_connections_idle Idle connections
# TYPE hikaricp_connections_idle gauge
hikaricp_connections_idle{pool="orders",} $2
# HELP hikaricp_connections_pending Pending threads
# TYPE hikaricp_connections_pending gauge
hikaricp_connections_pending{pool="orders",} $3
# HELP hikaricp_connections_max Max connections
# TYPE hikaricp_connections_max gauge
hikaricp_connections_max{pool="orders",} 10.0
# HELP hikaricp_connections_timeout_total Connection timeout total count
# TYPE hikaricp_connections_timeout_total counter
hikaricp_connections_timeout_total{pool="orders",} 3.0
PROM
  mv "$WORK/app.prom.tmp" "$WORK/app.prom"
}
set_app 4.0 6.0 0.0
start_fake app app_pool_server.py --fixture "$WORK/app.prom"

echo "=== agent"
tacho_agent_config "$WORK/tacho.toml" "$WORK/state" <<TOML
[[collectors.postgres]]
name = "db"
interval = "1s"
dsn = "host=127.0.0.1 port=$TACHO_PG_PORT user=postgres dbname=postgres"
statements.enabled = false

[[collectors.pgbouncer]]
name = "bouncer"
interval = "1s"
dsn = "host=127.0.0.1 port=$TACHO_PGB_PORT user=$TACHO_PGB_STATS_USER dbname=pgbouncer"
password_env = "TACHO_TEST_PGB_PASSWORD"
upstream = "db"

[[collectors.redis]]
name = "cache"
interval = "1s"
address = "$TACHO_REDIS_ADDR"

[[collectors.app_pool]]
name = "svc"
interval = "1s"
url = "http://127.0.0.1:$FAKE_PORT/metrics"
upstream = "bouncer"
TOML
check "--check-config accepts the configuration" \
  env TACHO_TEST_PGB_PASSWORD=x "$TACHO" --check-config "$WORK/tacho.toml"
sed 's/^upstream = "bouncer"$/upstream = "cache"/' "$WORK/tacho.toml" >"$WORK/bad-upstream.toml"
bad_upstream_rejected() {
  local out rc
  out=$(TACHO_TEST_PGB_PASSWORD=x "$TACHO" --check-config "$WORK/bad-upstream.toml" 2>&1); rc=$?
  [ "$rc" = 2 ] && grep -q "bad-upstream.toml:[0-9]*:[0-9]*: .*'cache' is a redis instance; expected pgbouncer or postgres" <<<"$out" \
    || { echo "exit $rc: $out"; return 1; }
}
check "an upstream of the wrong kind is a config error at its file:line:col (exit 2)" bad_upstream_rejected
TACHO_TEST_PGB_PASSWORD="$TACHO_PGB_STATS_PASSWORD" start_agent agent "$WORK/tacho.toml"
AGENT=$AGENT_PID
BASE=$AGENT_URL
BPOOL='kind="pgbouncer",pool="tacho_test/tacho"'

check "pgbouncer_up is 1" wait_for 20 is pgbouncer_up 'target="bouncer"' 1
check "pg_up is 1" wait_for 20 is pg_up 'target="db"' 1
check "tacho_app_pool_up is 1" wait_for 20 is tacho_app_pool_up 'target="svc"' 1
# A client of the pool, so that PgBouncer has the tacho_test/tacho pool to show.
PGPASSWORD="$TACHO_PG_PASSWORD" "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$TACHO_PGB_PORT" \
  -U "$TACHO_PG_USER" -d tacho_test -c "SELECT 1" >/dev/null
check "the tacho_test/tacho pool is exported with its pool size" \
  wait_for 10 is tacho_pool_size "$BPOOL" 2
scrape "$WORK/idle.txt"
for family in pgbouncer_version_info pgbouncer_pools_client_active_connections \
    pgbouncer_pools_client_waiting_connections pgbouncer_pools_server_active_connections \
    pgbouncer_pools_server_idle_connections pgbouncer_pools_server_used_connections \
    pgbouncer_pools_client_maxwait_seconds pgbouncer_databases_pool_size \
    pgbouncer_config_max_client_connections pgbouncer_stats_queries_pooled_total; do
  check "$family is exported" grep -q "^$family{" "$WORK/idle.txt"
done
check "pgbouncer families carry database and user labels" \
  grep -q '^pgbouncer_pools_client_waiting_connections{database="tacho_test",user="tacho",target="bouncer"}\|^pgbouncer_pools_client_waiting_connections{.*database="tacho_test".*user="tacho"' "$WORK/idle.txt"
check "the client side is a pool of max_client_conn" \
  grep -q '^tacho_pool_size{kind="pgbouncer",pool="clients",target="bouncer"} 200$' "$WORK/idle.txt"
check "promtool check metrics accepts /metrics" bash -c "'$PROMTOOL' check metrics < '$WORK/idle.txt'"

echo "=== 10 clients through a pool of 2"
LOAD_PIDS=()
for i in $(seq 1 10); do
  PGPASSWORD="$TACHO_PG_PASSWORD" "$PGBIN/psql" -X -q -At -h 127.0.0.1 -p "$TACHO_PGB_PORT" \
    -U "$TACHO_PG_USER" -d tacho_test -c "SELECT pg_sleep(3)" >/dev/null 2>&1 &
  LOAD_PIDS+=($!)
done
tacho_track_pid "${LOAD_PIDS[@]}"
check "waiting clients rise above 0" wait_for 10 above tacho_pool_waiting "$BPOOL" 0
check "pgbouncer_pools_client_waiting_connections rises above 0" \
  wait_for 10 above pgbouncer_pools_client_waiting_connections 'database="tacho_test",user="tacho"' 0
check "utilisation reaches 1.0" wait_for 10 is tacho_pool_utilization_ratio "$BPOOL" 1
check "max wait rises above 0 (sub-second waits included)" \
  wait_for 10 above tacho_pool_max_wait_seconds "$BPOOL" 0
check "pgbouncer_pools_client_maxwait_seconds rises above 0" \
  wait_for 10 above pgbouncer_pools_client_maxwait_seconds 'database="tacho_test",user="tacho"' 0
curl -sf --max-time 5 "$BASE/api/v1/pools" >"$WORK/pools.json"
bottleneck_is_bouncer() {
  tacho_python - "$WORK/pools.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
chain = [c for c in doc["chains"] if c["root"] == "svc"][0]
assert [l["target"] for l in chain["layers"]] == ["svc", "bouncer", "db"], chain["layers"]
assert chain["layers"][1]["saturated"], chain["layers"][1]
assert chain["bottleneck"]["target"] == "bouncer", chain["bottleneck"]
assert chain["bottleneck"]["pool"] == "tacho_test/tacho", chain["bottleneck"]
PY
}
check "/api/v1/pools marks PgBouncer as the saturated layer of svc -> bouncer -> db" bottleneck_is_bouncer
for pid in "${LOAD_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
check "waiting falls back to 0 after the load" wait_for 15 is tacho_pool_waiting "$BPOOL" 0
check "utilisation falls back to 0 after the load" wait_for 15 is tacho_pool_utilization_ratio "$BPOOL" 0
check "max wait falls back to 0 after the load" wait_for 15 is tacho_pool_max_wait_seconds "$BPOOL" 0

echo "=== per-application PostgreSQL pools"
"$PGBIN/pgbench" -q -i -s 1 -h 127.0.0.1 -p "$TACHO_PG_PORT" -U postgres tacho_test \
  >"$WORK/pgbench-init.log" 2>&1 || { cat "$WORK/pgbench-init.log"; exit 1; }
"$PGBIN/pgbench" -c 3 -j 1 -T 8 -h 127.0.0.1 -p "$TACHO_PG_PORT" -U postgres tacho_test \
  >"$WORK/pgbench.log" 2>&1 &
PGBENCH=$!
tacho_track_pid "$PGBENCH"
pgbench_pool_holds_3() {
  scrape "$WORK/pgbench.txt" || return 1
  awk '/^tacho_pool_(in_use|idle)\{kind="postgres",pool="app\/pgbench",target="db"\}/ { n += $NF }
       END { exit !(n == 3) }' "$WORK/pgbench.txt"
}
check "pgbench's 3 clients form the postgres pool app/pgbench" wait_for 10 pgbench_pool_holds_3
check "the pool app/pgbench holds 3 connections" \
  grep -q '^tacho_pool_held{kind="postgres",pool="app/pgbench",target="db"} 3$' "$WORK/pgbench.txt"
check "the server's connection slots are a pool of max_connections - reserved" \
  bash -c "grep -q '^tacho_pool_size{kind=\"postgres\",pool=\"connections\",target=\"db\"} ' '$WORK/pgbench.txt'"
check "per-application pools have no ratio and say why" \
  grep -q '^tacho_pool_utilization_unavailable{kind="postgres",pool="app/pgbench",reason="unknown_limit",target="db"} 1$' "$WORK/pgbench.txt"
wait "$PGBENCH" 2>/dev/null

echo "=== Redis pools"
# Three connections named "worker" (one blocked in BLPOP), open while the checks run.
"$(tacho_python_bin)" - "$TACHO_REDIS_PORT" <<'PY' &
import socket, sys, time
conns = []
for i in range(3):
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    c.sendall(b"CLIENT SETNAME worker\r\n")
    c.recv(64)
    conns.append(c)
conns[2].sendall(b"BLPOP nothing 30\r\n")
time.sleep(30)
PY
REDIS_CLIENTS=$!
tacho_track_pid "$REDIS_CLIENTS"
check "the Redis client slots are a pool of maxclients" wait_for 10 is tacho_pool_size 'kind="redis",pool="clients"' 64
check "blocked clients are counted" wait_for 10 is tacho_pool_blocked 'kind="redis",pool="clients"' 1
worker_pool_of_3() {
  scrape "$WORK/worker.txt" &&
    awk '/^tacho_pool_(in_use|idle)\{kind="redis",pool="client\/worker"/ { n += $NF } END { exit !(n == 3) }' "$WORK/worker.txt"
}
check "the client name 'worker' is a pool of 3" wait_for 10 worker_pool_of_3
check "the client name 'worker' holds 3 connections" \
  wait_for 10 is tacho_pool_held 'kind="redis",pool="client/worker"' 3
kill "$REDIS_CLIENTS" 2>/dev/null

echo "=== app kind"
check "the HikariCP pool is read: size 10" wait_for 10 is tacho_pool_size 'kind="app",pool="orders"' 10
check "in use = active" is tacho_pool_in_use 'kind="app",pool="orders"' 4
check "utilisation 0.4" is tacho_pool_utilization_ratio 'kind="app",pool="orders"' 0.4
set_app 10.0 0.0 7.0
check "pending threads become waiting" wait_for 10 is tacho_pool_waiting 'kind="app",pool="orders"' 7
curl -sf --max-time 5 "$BASE/api/v1/pools" >"$WORK/pools2.json"
app_saturated() {
  tacho_python - "$WORK/pools2.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
chain = [c for c in doc["chains"] if c["root"] == "svc"][0]
assert chain["layers"][0]["saturated"], chain["layers"][0]
assert not chain["layers"][1]["saturated"], chain["layers"][1]
assert chain["bottleneck"]["target"] == "svc", chain["bottleneck"]
PY
}
check "/api/v1/pools now marks the application's own pool" app_saturated

echo "=== PgBouncer restart"
tacho_stop_pgbouncer
check "pgbouncer_up is 0 while PgBouncer is down" wait_for 10 is pgbouncer_up 'target="bouncer"' 0
pgbouncer_pools_withdrawn() { ! http_grep "$BASE/metrics" '^tacho_pool_size{kind="pgbouncer"'; }
check "its pools are withdrawn while it is down" pgbouncer_pools_withdrawn
sleep 2
tacho_resume_pgbouncer || { echo "cannot restart PgBouncer"; exit 1; }
check "pgbouncer_up returns to 1 after the restart" wait_for 90 is pgbouncer_up 'target="bouncer"' 1
downs=$(grep -c "collector pgbouncer 'bouncer' is down" "$WORK/agent.log")
ups=$(grep -c "collector pgbouncer 'bouncer' recovered" "$WORK/agent.log")
check "one log line per change of state (down $downs, recovered $ups)" bash -c "[ $downs = 1 ] && [ $ups = 1 ]"
check "the log never holds the password" bash -c "! grep -q '$TACHO_PGB_STATS_PASSWORD' '$WORK/agent.log'"
scrape "$WORK/final.txt"
check "promtool check metrics accepts /metrics at the end" bash -c "'$PROMTOOL' check metrics < '$WORK/final.txt'"

kill -TERM "$AGENT" 2>/dev/null
wait "$AGENT" 2>/dev/null
check_summary
