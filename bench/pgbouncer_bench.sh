#!/usr/bin/env bash
# tacho's pgbouncer collector vs Debian's prometheus-pgbouncer-exporter 1.7, side by side, on
# the same PgBouncer with ~100 pools (50 extra [databases] entries, two users each) under a
# steady pgbench load. See bench/README.md for what is measured and how.
#
#   bench/pgbouncer_bench.sh
#
# Environment (all optional):
#   TACHO_BIN=PATH            tacho binary (default: build/agent/tacho, built if missing)
#   TACHO_BUILD_DIR=DIR       where to build it if missing (default build/)
#   BENCH_DATABASES=50        extra [databases] entries bench_01.. (all -> tacho_test); the
#                             loader connects to each as two users: 2 pools per entry
#   BENCH_SCRAPES=200         sequential scrapes per exporter...
#   BENCH_SCRAPE_SECONDS=45   ...or fewer, if they take longer than this
#   BENCH_IDLE_SECONDS=30     scrape-free window to measure tacho's background collections
#   BENCH_REST_SECONDS=10     windows with the client load paused (PgBouncer's CPU per collection)
#   BENCH_INTERVAL=1s         tacho's collection interval
#   BENCH_PGBENCH_CLIENTS=10  pgbench -S clients on bench_01 (pool_size 5: some wait)...
#   BENCH_PGBENCH_RATE=300    ...and their transactions per second (plus 4 tpcb-like clients at
#                             50/s on tacho_test)
#   BENCH_LOAD_RATE=100       queries per second the loader spreads over the 2 x BENCH_DATABASES pools
#   BENCH_AUTH=md5            PgBouncer auth_type (md5 or trust)
#   BENCH_MAX_SECONDS=170     hard limit: the run is aborted (and cleaned up) after this
#   TACHO_SKIP_DEPS=1         don't run scripts/install-deps.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

DATABASES="${BENCH_DATABASES:-50}"
SCRAPES="${BENCH_SCRAPES:-200}"
SCRAPE_SECONDS="${BENCH_SCRAPE_SECONDS:-45}"
SCRAPE_TIMEOUT=30
IDLE="${BENCH_IDLE_SECONDS:-30}"
REST="${BENCH_REST_SECONDS:-10}"
INTERVAL="${BENCH_INTERVAL:-1s}"
PGBENCH_CLIENTS="${BENCH_PGBENCH_CLIENTS:-10}"
PGBENCH_RATE="${BENCH_PGBENCH_RATE:-300}"
LOAD_RATE="${BENCH_LOAD_RATE:-100}"
AUTH="${BENCH_AUTH:-md5}"
MAX_SECONDS="${BENCH_MAX_SECONDS:-170}"
PE_PKG_BIN=/usr/bin/prometheus-pgbouncer-exporter
PYTHON=/usr/bin/python3  # Debian's, with psycopg2 (the exporter's own interpreter)

bench_cleanup_on_exit
bench_time_limit "$MAX_SECONDS"

# --- prerequisites ------------------------------------------------------------------------------
bench_install_deps
require_bin "$PE_PKG_BIN" prometheus-pgbouncer-exporter
[ -x "$PYTHON" ] || tacho_die "$PYTHON missing"
case "$AUTH" in md5|trust) ;; *) tacho_die "BENCH_AUTH must be md5 or trust" ;; esac
find_tacho
"$TACHO" --print-sample-config 2>/dev/null | grep -q 'collectors.pgbouncer' ||
  tacho_die "$TACHO has no pgbouncer collector"
bench_workdir tacho-pgbouncer-bench

# --- helpers ------------------------------------------------------------------------------------
tacho_runs() {  # FILE: tacho_collector_runs_total of the instance
  metric_sum "$1" tacho_collector_runs_total 'target="bench"'
}
admin_psql() {  # SQL: on PgBouncer's admin console, as the admin user
  PGPASSWORD="$TACHO_PGB_ADMIN_PASSWORD" "$TACHO_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$PGB_PORT" -U "$TACHO_PGB_ADMIN_USER" -d pgbouncer -c "$1"
}

# --- PostgreSQL and PgBouncer with many pools -----------------------------------------------------
# ~110 server connections: one (or more) per pool, each pool keeping its idle ones.
tacho_start_postgres "max_connections = $((DATABASES * 2 + 60))" >&2 || tacho_die "cannot start PostgreSQL"
PG_PORT=$TACHO_PG_PORT
"$TACHO_PG_BIN/pgbench" -q -i -s 1 -h 127.0.0.1 -p "$PG_PORT" -U postgres tacho_test >/dev/null 2>&1 ||
  tacho_die "pgbench -i failed"
tacho_start_pgbouncer --auth "$AUTH" --pool-size 5 >&2 || tacho_die "cannot start PgBouncer"
PGB_PORT=$TACHO_PGB_PORT
PGB_PID=$TACHO_PGB_PID
# DATABASES more [databases] entries, and room for their clients; RELOAD through the console.
# (The file is rewritten in place: it keeps its owner, the postgres user.)
ini="$TACHO_PGB_DIR/pgbouncer.ini"
awk -v n="$DATABASES" -v port="$PG_PORT" -v maxc="$((DATABASES * 2 + 100))" '
  /^max_client_conn *=/ { if (maxc > 200) { print "max_client_conn = " maxc; next } }
  { print }
  /^\[databases\]/ { for (i = 1; i <= n; i++) printf "bench_%02d = host=127.0.0.1 port=%d dbname=tacho_test\n", i, port }
' "$ini" >"$WORK/pgbouncer.ini"
cat "$WORK/pgbouncer.ini" >"$ini"
admin_psql "RELOAD" >/dev/null || tacho_die "RELOAD failed"
pgb_databases=$(admin_psql "SHOW DATABASES" | grep -c '^bench_' || true)
[ "$pgb_databases" = "$DATABASES" ] || tacho_die "PgBouncer knows $pgb_databases bench_* databases, not $DATABASES"

# Client load. The loader opens one connection per bench_NN database and user (tacho and
# tacho_md5: 2 x DATABASES pools) and sends LOAD_RATE queries per second spread over them
# (SELECT 1, one in ten SELECT pg_sleep(0.02)); pgbench runs select-only on bench_01 with more
# clients than its pool has servers, and tpcb-like on tacho_test.
pw() { if [ "$AUTH" = trust ]; then echo ""; else echo "$1"; fi; }
"$PYTHON" - "$PGB_PORT" "$DATABASES" "$LOAD_RATE" "$WORK/loader.ready" \
  "$TACHO_PG_USER" "$(pw "$TACHO_PG_PASSWORD")" "$TACHO_PG_MD5_USER" "$(pw "$TACHO_PG_MD5_PASSWORD")" \
  </dev/null >"$WORK/loader.log" 2>&1 <<'PY' &
import random, sys, time
import psycopg2
port, n, rate, ready = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
users = list(zip(sys.argv[5::2], sys.argv[6::2]))
curs = []
for i in range(1, n + 1):
    for user, password in users:
        c = psycopg2.connect(host="127.0.0.1", port=port, dbname="bench_%02d" % i, user=user,
                             password=password or None, connect_timeout=10)
        c.autocommit = True
        curs.append(c.cursor())
open(ready, "w").close()
period, t = 1.0 / rate, time.monotonic()
while True:
    cur = random.choice(curs)
    cur.execute("SELECT pg_sleep(0.02)" if random.random() < 0.1 else "SELECT 1")
    cur.fetchall()
    t += period
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)
    else:
        t = time.monotonic()
PY
LOADER_PID=$!
track_pid "$LOADER_PID"
PGPASSWORD=postgres-secret "$TACHO_PG_BIN/pgbench" -n -S -c "$PGBENCH_CLIENTS" -j 2 -R "$PGBENCH_RATE" \
  -T "$MAX_SECONDS" -h 127.0.0.1 -p "$PGB_PORT" -U postgres bench_01 </dev/null >"$WORK/pgbench-s.log" 2>&1 &
PGBENCH_S_PID=$!
track_pid "$PGBENCH_S_PID"
PGPASSWORD=postgres-secret "$TACHO_PG_BIN/pgbench" -n -c 4 -j 1 -R 50 \
  -T "$MAX_SECONDS" -h 127.0.0.1 -p "$PGB_PORT" -U postgres tacho_test </dev/null >"$WORK/pgbench-w.log" 2>&1 &
PGBENCH_W_PID=$!
track_pid "$PGBENCH_W_PID"
LOAD_PIDS=("$LOADER_PID" "$PGBENCH_S_PID" "$PGBENCH_W_PID")
if ! tacho_wait_for 60 test -e "$WORK/loader.ready"; then
  tail -n 20 "$WORK/loader.log" >&2; tacho_die "the loader did not connect"
fi
for p in "${LOAD_PIDS[@]}"; do running "$p" || { tail -n 20 "$WORK"/*.log >&2; tacho_die "load generator $p exited"; }; done
pgb_pools=$(admin_psql "SHOW POOLS" | wc -l)
log "PgBouncer :$PGB_PORT (pid $PGB_PID, auth $AUTH, pool_size 5): $((DATABASES + 2)) databases, $pgb_pools pools"

# --- exporters ----------------------------------------------------------------------------------
tacho_agent_config "$WORK/tacho.toml" "$WORK/state" warn <<EOF
[[collectors.pgbouncer]]
name = "bench"
interval = "$INTERVAL"
dsn = "host=127.0.0.1 port=$PGB_PORT user=$TACHO_PGB_STATS_USER dbname=pgbouncer"
EOF
if [ "$AUTH" != trust ]; then echo 'password_env = "BENCH_PGB_PASSWORD"' >>"$WORK/tacho.toml"; fi
BENCH_PGB_PASSWORD="$TACHO_PGB_STATS_PASSWORD" start_tacho "$WORK/tacho.toml" "$WORK/tacho.log"

# prometheus-pgbouncer-exporter 1.7 reads SHOW STATS' total_requests, which PgBouncer 1.8
# renamed total_query_count: against a newer PgBouncer it dies at start-up with
# KeyError: 'total_requests'. Then it runs through this shim, which only points that one metric
# (pgbouncer_requests_total) at the renamed column: same queries, same exposition.
pe_shim=""
if ! PGPASSWORD="$TACHO_PGB_STATS_PASSWORD" "$TACHO_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PGB_PORT" \
    -U "$TACHO_PGB_STATS_USER" -d pgbouncer -c "SHOW STATS" | head -n 1 | grep -qw total_requests; then
  pe_shim=" (patched: total_requests read from total_query_count)"
  cat >"$WORK/pe_shim.py" <<'PY'
import sys
from prometheus_pgbouncer_exporter import cli, collectors
metrics = collectors.StatsCollector.metrics
metrics["total_query_count"] = metrics.pop("total_requests")
sys.argv[0] = "prometheus-pgbouncer-exporter"
sys.exit(cli.main())
PY
  PE_CMD=("$PYTHON" "$WORK/pe_shim.py")
else
  PE_CMD=("$PYTHON" "$PE_PKG_BIN")
fi
PE_PORT="$(tacho_free_port)"
# Its flags only (configargparse also reads CONFIG, PORT, HOST, PGBOUNCER_* from the environment).
env -u CONFIG -u PGBOUNCER_DATABASES PGPASSWORD="$TACHO_PGB_STATS_PASSWORD" \
  "${PE_CMD[@]}" --host 127.0.0.1 --port "$PE_PORT" --pgbouncer-host 127.0.0.1 \
  --pgbouncer-port "$PGB_PORT" --pgbouncer-user "$TACHO_PGB_STATS_USER" \
  --licence-location /usr/share/doc/prometheus-pgbouncer-exporter/copyright \
  </dev/null >"$WORK/pe.log" 2>&1 &
PE_PID=$!
track_pid "$PE_PID"

PE_URL="http://127.0.0.1:$PE_PORT/metrics"
wait_for_exporter "$PE_URL" "$WORK/pe.log" prometheus-pgbouncer-exporter
log "tacho pid $TACHO_PID ($TACHO_URL), prometheus-pgbouncer-exporter pid $PE_PID ($PE_URL)"

warm_up 5 "$TACHO_URL" "$PE_URL"
tacho_rss_warm=$(rss_kib "$TACHO_PID"); pe_rss_warm=$(rss_kib "$PE_PID")
curl -fsS -o "$WORK/tacho.prom" "$TACHO_URL"
curl -fsS -o "$WORK/pe.prom" "$PE_URL"
[ "$(metric_sum "$WORK/tacho.prom" pgbouncer_up)" = 1 ] || { tail -n 30 "$WORK/tacho.log" >&2; tacho_die "tacho's pgbouncer_up is not 1"; }
grep -q '^pgbouncer_active_clients{' "$WORK/pe.prom" || tacho_die "prometheus-pgbouncer-exporter exports no pools"
tacho_series=$(grep -vc '^#' "$WORK/tacho.prom" || true)
pe_series=$(grep -vc '^#' "$WORK/pe.prom" || true)
tacho_pgb_series=$(grep -c '^pgbouncer_' "$WORK/tacho.prom" || true)
pe_pgb_series=$(grep -c '^pgbouncer_' "$WORK/pe.prom" || true)
tacho_families=$(grep -c '^# TYPE pgbouncer_' "$WORK/tacho.prom" || true)
pe_families=$(grep -c '^# TYPE pgbouncer_' "$WORK/pe.prom" || true)
tacho_pools=$(metric_sum "$WORK/tacho.prom" pgbouncer_pools)
pe_pools=$(metric_sum "$WORK/pe.prom" pgbouncer_pools)
tacho_pool_rows=$(grep -c '^pgbouncer_pools_client_active_connections{' "$WORK/tacho.prom" || true)
pe_pool_rows=$(grep -c '^pgbouncer_active_clients{' "$WORK/pe.prom" || true)

# --- 1. tacho's background collections, no scrapes ----------------------------------------------
log "idle window: ${IDLE}s without scrapes (tacho collects every $INTERVAL, the peer idles)"
runs_before=$(tacho_runs "$WORK/tacho.prom")
threads0=$(threads "$TACHO_PID")
t_cpu0=$(cpu_ns "$TACHO_PID"); p_cpu0=$(cpu_ns "$PE_PID"); t_tick0=$(cpu_ticks "$TACHO_PID")
sleep "$IDLE"
t_cpu1=$(cpu_ns "$TACHO_PID"); p_cpu1=$(cpu_ns "$PE_PID"); t_tick1=$(cpu_ticks "$TACHO_PID")
[ "$threads0" = "$(threads "$TACHO_PID")" ] || log "warning: tacho's threads changed during the window"
curl -fsS -o "$WORK/tacho-after-idle.prom" "$TACHO_URL"
runs_after=$(tacho_runs "$WORK/tacho-after-idle.prom")
idle_runs=$(awk -v a="$runs_before" -v b="$runs_after" 'BEGIN { print b - a }')
tacho_cpu_per_collection=$(cpu_ms_per $((t_cpu1 - t_cpu0)) 1e9 "$idle_runs")
tacho_cpu_per_collection_ticks=$(awk -v d=$((t_tick1 - t_tick0)) -v n="$idle_runs" -v hz="$CLK_TCK" \
  'BEGIN { if (n <= 0) n = 1; printf "%.1f", d / hz * 1000 / n }')
tacho_idle_pct=$(cpu_pct $((t_cpu1 - t_cpu0)) 1e9 "$IDLE" 3)
pe_idle_pct=$(cpu_pct $((p_cpu1 - p_cpu0)) 1e9 "$IDLE" 3)
tacho_duration=$(metric_sum "$WORK/tacho-after-idle.prom" tacho_scrape_collector_duration_seconds 'bench')

# --- 2. scrapes ---------------------------------------------------------------------------------
log "tacho: up to $SCRAPES sequential scrapes"
measure_tacho_scrapes "$SCRAPES" cpu_ns 'target="bench"' "$tacho_cpu_per_collection"
tacho_n=$SCRAPE_N; bg_runs=$BG_RUNS; tacho_cpu_per_scrape=$TACHO_CPU_PER_SCRAPE

log "prometheus-pgbouncer-exporter: up to $SCRAPES sequential scrapes (at most ${SCRAPE_SECONDS}s)"
measure_scrapes pe "$PE_URL" "$PE_PID" "$SCRAPES" cpu_ns
pe_n=$SCRAPE_N; pe_cpu_per_scrape=$SCRAPE_CPU_MS

tacho_rss_end=$(rss_kib "$TACHO_PID"); pe_rss_end=$(rss_kib "$PE_PID")
tacho_anon_end=$(rss_anon_kib "$TACHO_PID"); pe_anon_end=$(rss_anon_kib "$PE_PID")
tacho_pss_end=$(pss_kib "$TACHO_PID"); pe_pss_end=$(pss_kib "$PE_PID")

# --- 3. load paused: PgBouncer's CPU per collection, and the values side by side -----------------
# The clients are stopped (SIGSTOP: connections, pools and in-flight transactions stay as they
# are), so PgBouncer only serves the exporters and every value holds still.
log "client load paused: PgBouncer's own rate (${REST}s, tacho stopped too), then ${REST}s of each exporter"
for p in "${LOAD_PIDS[@]}"; do kill -STOP "$p"; done
sleep 1
kill -STOP "$TACHO_PID"
b0=$(cpu_ns "$PGB_PID"); bw0=$(now)
sleep "$REST"
b1=$(cpu_ns "$PGB_PID"); bw1=$(now)
pgb_rate=$(awk -v a="$b0" -v b="$b1" -v s="$bw0" -v e="$bw1" 'BEGIN { print (b - a) / (e - s) }')  # ns/s
kill -CONT "$TACHO_PID"
sleep 1.5
curl -fsS -o "$WORK/r0.prom" "$TACHO_URL"
r0=$(tacho_runs "$WORK/r0.prom"); g0=$(cpu_ns "$PGB_PID"); gw0=$(now)
sleep "$REST"
r1_ns=$(cpu_ns "$PGB_PID"); gw1=$(now)
curl -fsS -o "$WORK/tacho.rest.prom" "$TACHO_URL"
r1=$(tacho_runs "$WORK/tacho.rest.prom")
rest_runs=$(awk -v a="$r0" -v b="$r1" 'BEGIN { print b - a }')
pgb_per_tacho=$(awk -v a="$g0" -v b="$r1_ns" -v s="$gw0" -v e="$gw1" -v r="$pgb_rate" -v n="$rest_runs" \
  'BEGIN { if (n <= 0) n = 1; v = ((b - a) - r * (e - s)) / 1e6 / n; if (v < 0) v = 0; printf "%.3f", v }')
kill -STOP "$TACHO_PID"
g0=$(cpu_ns "$PGB_PID"); gw0=$(now)
SCRAPE_SECONDS=$REST scrape_series pe-rest "$PE_URL" "$SCRAPES"
g1=$(cpu_ns "$PGB_PID"); gw1=$(now)
pe_rest_n=$(cat "$WORK/pe-rest.n")
pgb_per_pe=$(awk -v a="$g0" -v b="$g1" -v s="$gw0" -v e="$gw1" -v r="$pgb_rate" -v n="$pe_rest_n" \
  'BEGIN { if (n <= 0) n = 1; v = ((b - a) - r * (e - s)) / 1e6 / n; if (v < 0) v = 0; printf "%.3f", v }')
curl -fsS -o "$WORK/pe.rest.prom" "$PE_URL"
kill -CONT "$TACHO_PID"
# tacho's snapshot from a collection after the peer's read (nothing changed in between).
curl -fsS -o "$WORK/c0.prom" "$TACHO_URL"
c_runs=$(tacho_runs "$WORK/c0.prom")
deadline=$((SECONDS + 10))
while [ "$SECONDS" -lt "$deadline" ]; do
  sleep 0.3
  curl -fsS -o "$WORK/tacho.rest.prom" "$TACHO_URL"
  if awk -v a="$c_runs" -v b="$(tacho_runs "$WORK/tacho.rest.prom")" 'BEGIN { exit !(b >= a + 2) }'; then break; fi
done

# The part of tacho's RSS that is the agent and its shared libraries rather than the pgbouncer
# collector.
bare_tacho_rss

# --- report -------------------------------------------------------------------------------------
tacho_bytes=$(mean_bytes "$WORK/tacho.times")
pe_bytes=$(mean_bytes "$WORK/pe.times")

mapfile -t latency < <(latency_rows "$WORK/tacho.times" "$WORK/pe.times" 50 90 99)
mapfile -t cpu < <(cpu_rows 3 "$tacho_cpu_per_collection" "$tacho_cpu_per_scrape" "$pe_cpu_per_scrape")
rows=(
  "pools (SHOW LISTS) / pool series|${tacho_pools:-?} / $tacho_pool_rows|${pe_pools:-?} / $pe_pool_rows|-"
  "sequential scrapes measured|$tacho_n|$pe_n|-"
  "${latency[@]}"
  "${cpu[@]}"
  "CPU with no scrapes (% core)|$tacho_idle_pct|$pe_idle_pct|-"
  "PgBouncer CPU per collection (ms)|$pgb_per_tacho|$pgb_per_pe"
  "RSS after warm-up (MiB)|$(mib "$tacho_rss_warm")|$(mib "$pe_rss_warm")"
  "RSS at end (MiB)|$(mib "$tacho_rss_end")|$(mib "$pe_rss_end")"
  "RssAnon at end (MiB)|$(mib "$tacho_anon_end")|$(mib "$pe_anon_end")"
  "PSS at end (MiB)|$(mib "$tacho_pss_end")|$(mib "$pe_pss_end")"
  "body bytes|$tacho_bytes|$pe_bytes"
  "samples in body (pgbouncer_*)|$tacho_series ($tacho_pgb_series)|$pe_series ($pe_pgb_series)|-"
  "pgbouncer_* families|$tacho_families|$pe_families|-"
)

echo
echo "pgbouncer collector benchmark: $("$(_tacho_pgbouncer_bin)" --version 2>/dev/null | head -n 1), $((DATABASES + 2)) databases, $pgb_pools pools (pool_size 5, transaction mode, auth $AUTH); load: pgbench -S ${PGBENCH_RATE} tps x $PGBENCH_CLIENTS clients, tpcb-like 50 tps x 4, ~$LOAD_RATE queries/s over the other pools; $(nproc) CPUs"
echo "tacho: $("$TACHO" --version 2>/dev/null | head -n 1), interval $INTERVAL, defaults otherwise; prometheus-pgbouncer-exporter $(dpkg-query -W -f '${Version}' prometheus-pgbouncer-exporter 2>/dev/null || echo '?')$pe_shim"
echo
TABLE_COLUMNS=(36 12: 14: 12:)
print_table "metric|tacho|pgbouncer-exp|tacho / p-e" "${rows[@]}"
echo
echo "tacho collections: $idle_runs in the ${IDLE}s scrape-free window (last took ${tacho_duration:-?}s), $bg_runs during its $tacho_n scrapes; CPU from /proc/<pid>/task/*/schedstat (ns); from /proc/<pid>/stat ticks: ${tacho_cpu_per_collection_ticks} ms per collection."
echo "prometheus-pgbouncer-exporter collects on every scrape (SHOW STATS, POOLS, DATABASES, LISTS over one connection kept open): its CPU per collection is its CPU per scrape."
echo "PgBouncer CPU: with the clients paused, minus PgBouncer's own rate over ${REST}s ($(awk -v r="$pgb_rate" 'BEGIN { printf "%.3f", r / 1e6 }') ms/s); $rest_runs tacho collections (queries: $(grep '^tacho_pgbouncer_query_duration_seconds{' "$WORK/tacho.rest.prom" | sed 's/.*query="\([^"]*\)".*/\1/' | tr '\n' ' ')), $pe_rest_n exporter scrapes."
echo "tacho with no collector configured: RSS $(mib "$BARE_RSS") MiB (RssAnon $(mib "$BARE_ANON") MiB): the pgbouncer collector adds $(mib $((tacho_rss_end - BARE_RSS))) MiB."

# Values of the families both export, read with the client load paused (so nothing moves):
# series matched on their database (and user) labels; tacho's SHOW DATABASES families on "name"
# (the [databases] entry; its "database" label is the real database name).
series_map() {  # FILE METRIC SCALE KEYLABEL -> "key value" lines
  awk -v m="$2" -v s="$3" -v kl="$4" '
    function label(l,   re) {
      re = "[{,]" l "=\"[^\"]*\""
      if (match($0, re)) return substr($0, RSTART + length(l) + 3, RLENGTH - length(l) - 4)
      return ""
    }
    index($0, m "{") == 1 || index($0, m " ") == 1 {
      k = label(kl); u = label("user"); printf "%s|%s %.12g\n", k, u, $NF * s
    }' "$1" | sort
}
compare() {  # PEER_METRIC TACHO_METRIC SCALE [TACHO_KEYLABEL]
  series_map "$WORK/pe.rest.prom" "$1" 1 database >"$WORK/cmp.a"
  series_map "$WORK/tacho.rest.prom" "$2" "$3" "${4:-database}" >"$WORK/cmp.b"
  awk -v pn="$1" -v tn="$2" '
    function eq(x, y) { d = x - y; if (d < 0) d = -d; ax = x < 0 ? -x : x; return d <= 1e-9 * (ax > 1 ? ax : 1) }
    NR == FNR { na++; if ($1 in a) dup++; a[$1] = $2; sa += $2; next }
    { nb++; sb += $2; if ($1 in a) { common++; if (eq(a[$1], $2)) same++; else if (nd++ < 3) diffs = diffs sprintf(" %s: %s vs %s;", $1, a[$1], $2) } }
    END {
      printf "| %s | %s | %d%s | %d | %.6g | %.6g | %d/%d |%s\n", pn, tn, na, (dup ? " (" dup " dup.)" : ""), nb, sa, sb, same, common, (diffs == "" ? "" : diffs " ")
    }' "$WORK/cmp.a" "$WORK/cmp.b"
}
echo
echo "values with the client load paused (peer family vs tacho family; series keyed by database|user; tacho's scaled to the peer's unit):"
echo
echo "| peer | tacho | peer series | tacho series | peer sum | tacho sum | equal/common keys | first differences |"
echo "|---|---|---:|---:|---:|---:|---:|---|"
compare pgbouncer_active_clients pgbouncer_pools_client_active_connections 1
compare pgbouncer_waiting_clients pgbouncer_pools_client_waiting_connections 1
compare pgbouncer_requests_total pgbouncer_stats_queries_pooled_total 1
compare pgbouncer_received_bytes_total pgbouncer_stats_received_bytes_total 1
compare pgbouncer_sent_bytes_total pgbouncer_stats_sent_bytes_total 1
compare pgbouncer_query_microseconds_total pgbouncer_stats_queries_duration_seconds_total 1e6
compare pgbouncer_pool_size pgbouncer_databases_pool_size 1 name
compare pgbouncer_reserve_pool pgbouncer_databases_reserve_pool 1 name
for f in databases users pools free_clients used_clients login_clients free_servers used_servers; do
  compare "pgbouncer_$f" "pgbouncer_$f" 1
done
compare pgbouncer_dns_names pgbouncer_cached_dns_names 1
compare pgbouncer_dns_zones pgbouncer_cached_dns_zones 1
compare pgbouncer_dns_queries pgbouncer_in_flight_dns_queries 1
