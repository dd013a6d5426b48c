#!/usr/bin/env bash
# tacho's PostgreSQL collector vs Debian's prometheus-postgres-exporter (with its example
# queries.yaml, column names adjusted for PostgreSQL 13+), on the same PostgreSQL 15 with
# ~2,000 statements in pg_stat_statements and 320+ tables. See bench/README.md.
#
#   bench/postgres_bench.sh                     # the comparison, one run, a Markdown table
#   BENCH_MODE=scale bench/postgres_bench.sh    # 10,000 statements and 5,000 tables: does a
#                                               # collection finish within the default timeout?
#
# Environment (all optional):
#   TACHO_BIN=PATH            tacho binary (default: build/agent/tacho, built if missing)
#   TACHO_BUILD_DIR=DIR       where to build it if missing (default build/)
#   BENCH_MODE=compare|scale  see above
#   BENCH_TABLES=320          tables in the comparison (4 statement shapes each)
#   BENCH_SCRAPES=200         sequential scrapes per exporter...
#   BENCH_SCRAPE_SECONDS=60   ...or fewer, if they take longer than this
#   BENCH_IDLE_SECONDS=60     scrape-free window to measure tacho's background collections
#                             (60 s: with relations_interval = "1m" it holds one table/index read)
#   BENCH_IDLE_EVERY_SECONDS=20  the same with table and index statistics on every collection
#   BENCH_INTERVAL=1s         tacho's collection interval in the comparison
#   BENCH_SCALE_TABLES=5000   tables in the scale check...
#   BENCH_SCALE_STATEMENTS=10000  ...and distinct statements
#   BENCH_MAX_SECONDS=330     hard limit (scale: 420): the run is aborted (and cleaned up)
#   TACHO_SKIP_DEPS=1         don't run scripts/install-deps.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

MODE="${BENCH_MODE:-compare}"
TABLES="${BENCH_TABLES:-320}"
SCRAPES="${BENCH_SCRAPES:-200}"
SCRAPE_SECONDS="${BENCH_SCRAPE_SECONDS:-60}"
SCRAPE_TIMEOUT=30
IDLE="${BENCH_IDLE_SECONDS:-60}"
IDLE_EVERY="${BENCH_IDLE_EVERY_SECONDS:-20}"
INTERVAL="${BENCH_INTERVAL:-1s}"
SCALE_TABLES="${BENCH_SCALE_TABLES:-5000}"
SCALE_STATEMENTS="${BENCH_SCALE_STATEMENTS:-10000}"
if [ "$MODE" = scale ]; then MAX_SECONDS="${BENCH_MAX_SECONDS:-420}"; else MAX_SECONDS="${BENCH_MAX_SECONDS:-330}"; fi
PE_BIN=/usr/bin/prometheus-postgres-exporter

bench_cleanup_on_exit
bench_time_limit "$MAX_SECONDS"

# --- prerequisites ------------------------------------------------------------------------------
bench_install_deps
find_tacho
bench_workdir tacho-pg-bench

# --- helpers ------------------------------------------------------------------------------------
# The whole server: the postmaster's own and reaped children's CPU, plus every live child's.
server_ticks() {
  local pm="$1" total child
  total=$(sed 's/^.*) //' "/proc/$pm/stat" | awk '{ print $12 + $13 + $14 + $15 }')
  for child in $(pgrep -P "$pm"); do
    total=$((total + $(cpu_ticks "$child" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
# rss_samples PID: VmRSS every 0.2 s for 4 s -> "median max" in KiB (a single reading may land on
# tacho's brief peak during a collection, or between two of postgres_exporter's scrapes).
rss_samples() {
  local i
  for ((i = 0; i < 20; i++)); do rss_kib "$1"; sleep 0.2; done | sort -n |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[NR] }'
}

psql_() { "$TACHO_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d "$1" -c "$2"; }

# --- scale check --------------------------------------------------------------------------------
if [ "$MODE" = scale ]; then
  log "scale check: $SCALE_STATEMENTS statements, $SCALE_TABLES tables"
  tacho_start_postgres "pg_stat_statements.max = $((SCALE_STATEMENTS + SCALE_TABLES * 2 + 2000))" \
    >&2 || tacho_die "cannot start PostgreSQL"
  PORT=$TACHO_PG_PORT
  # Each table: CREATE and INSERT (two distinct statements); then SELECTs with 1, 2, ... output
  # columns cycling over the tables (each a distinct queryid) until SCALE_STATEMENTS.
  awk -v t="$SCALE_TABLES" -v n="$SCALE_STATEMENTS" 'BEGIN {
    print "SET client_min_messages = warning;"
    for (i = 1; i <= t; i++)
      printf "CREATE TABLE t_%d (id int PRIMARY KEY, v int); INSERT INTO t_%d VALUES (1, 1), (2, 2);\n", i, i
    for (i = 1; i <= n; i++) {
      tab = (i - 1) % t + 1; k = int((i - 1) / t); cols = "v"
      for (j = 1; j <= k; j++) cols = cols ", v + " j
      printf "SELECT %s FROM t_%d WHERE id = 1;\n", cols, tab
    }
    print "ANALYZE;"
  }' >"$WORK/scale.sql"
  log "creating tables and statements"
  "$TACHO_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d tacho_test -f "$WORK/scale.sql" \
    >/dev/null
  statements=$(psql_ tacho_test "SELECT count(*) FROM pg_stat_statements")
  tables=$(psql_ tacho_test "SELECT count(*) FROM pg_stat_user_tables")
  log "$statements statements, $tables tables"
  tacho_agent_config "$WORK/tacho.toml" "$WORK/state" warn <<EOF
[[collectors.postgres]]
name = "scale"
dsn = "host=127.0.0.1 port=$PORT user=postgres dbname=tacho_test"
EOF
  # Default interval (15s) and timeout (80%: 12s). --once: the first, coldest collection
  # (discovery, database sizes, query texts of the top K).
  start=$(now)
  "$TACHO" --config "$WORK/tacho.toml" --once >"$WORK/once.prom" 2>"$WORK/once.log" ||
    { cat "$WORK/once.log" >&2; tacho_die "the --once collection failed"; }
  wall=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
  first=$(metric_sum "$WORK/once.prom" tacho_scrape_collector_duration_seconds 'scale')
  # Steady state: an agent with the default interval, three collections.
  start_tacho "$WORK/tacho.toml" "$WORK/agent.log"
  URL=$TACHO_URL
  durations=()
  runs_seen=0
  deadline=$((SECONDS + 60))
  while [ "$runs_seen" -lt 3 ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 1
    curl -fsS -o "$WORK/agent.prom" "$URL" || continue
    runs=$(metric_sum "$WORK/agent.prom" tacho_collector_runs_total 'scale'); runs=${runs:-0}
    if [ "${runs%.*}" -gt "$runs_seen" ]; then
      runs_seen=${runs%.*}
      durations+=("$(metric_sum "$WORK/agent.prom" tacho_scrape_collector_duration_seconds 'scale')")
      cp "$WORK/agent.prom" "$WORK/last.prom"
    fi
  done
  timeouts=$(metric_sum "$WORK/last.prom" tacho_collector_timeouts_total 'scale')
  echo
  echo "scale check: $statements statements in pg_stat_statements, $tables tables; tacho $("$TACHO" --version | head -n 1), default interval 15s / timeout 12s, $(nproc) CPUs"
  echo
  echo "| collection | duration (s) | within 12 s |"
  echo "|---|---:|---|"
  printf '| first (--once: discovery, sizes, texts), wall %ss | %.3f | %s |\n' "$wall" "$first" \
    "$(awk -v d="$first" 'BEGIN { print (d < 12 ? "yes" : "NO") }')"
  i=1
  for d in "${durations[@]}"; do
    printf '| agent, collection %d | %.3f | %s |\n' "$i" "$d" "$(awk -v d="$d" 'BEGIN { print (d < 12 ? "yes" : "NO") }')"
    i=$((i + 1))
  done
  echo
  echo "timeouts: ${timeouts:-0}; exported: $(grep -c '^pg_stat_statements_calls_total{' "$WORK/last.prom") statements, $(grep -c '^pg_stat_user_tables_n_live_tup{' "$WORK/last.prom") tables, $(grep -c '^pg_index_size_bytes{' "$WORK/last.prom") indexes; samples in body: $(grep -vc '^#' "$WORK/last.prom")"
  echo "dropped by the caps: statements $(metric_sum "$WORK/last.prom" tacho_pg_statements_dropped), tables $(metric_sum "$WORK/last.prom" tacho_pg_tables_dropped 'tacho_test'), indexes $(metric_sum "$WORK/last.prom" tacho_pg_indexes_dropped 'tacho_test')"
  echo
  echo "query durations of the last collection (tacho_pg_query_duration_seconds):"
  grep '^tacho_pg_query_duration_seconds{' "$WORK/last.prom" |
    sed 's/.*query="\([^"]*\)".* \(.*\)/  \1 \2/' | sort -k2 -gr
  exit 0
fi

# --- comparison: server and workload ------------------------------------------------------------
[ -x "$PE_BIN" ] || tacho_die "$PE_BIN missing (Debian package prometheus-postgres-exporter)"
tacho_start_postgres >&2 || tacho_die "cannot start PostgreSQL"
PORT=$TACHO_PG_PORT
PM=$TACHO_PG_PID
log "workload: $TABLES tables x 4 statement shapes, pgbench -i"
{
  echo "SET client_min_messages = warning;"
  tacho_pg_tables_sql "$TABLES"
} >"$WORK/workload.sql"
"$TACHO_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d tacho_test -f "$WORK/workload.sql" >/dev/null
"$TACHO_PG_BIN/pgbench" -q -i -s 1 -h 127.0.0.1 -p "$PORT" -U postgres tacho_test >/dev/null 2>&1
"$TACHO_PG_BIN/pgbench" -c 2 -T 5 -h 127.0.0.1 -p "$PORT" -U postgres tacho_test >/dev/null 2>&1
psql_ tacho_test "VACUUM ANALYZE" >/dev/null
psql_ tacho_test "CHECKPOINT" >/dev/null
statements=$(psql_ tacho_test "SELECT count(*) FROM pg_stat_statements")
tables=$(psql_ tacho_test "SELECT count(*) FROM pg_stat_user_tables")
log "$statements statements, $tables tables"

# Debian's example queries.yaml, for PostgreSQL 13+ (pg_stat_statements 1.8 renamed *_time to
# *_exec_time).
zcat -f /usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml* |
  sed -E 's/\b(total|min|max|mean|stddev)_time\b/\1_exec_time/g' >"$WORK/queries.yaml"

# --- exporters ----------------------------------------------------------------------------------
tacho_agent_config "$WORK/tacho.toml" "$WORK/state" warn <<EOF
[[collectors.postgres]]
name = "bench"
interval = "$INTERVAL"
dsn = "host=127.0.0.1 port=$PORT user=postgres dbname=tacho_test"
EOF
start_tacho "$WORK/tacho.toml" "$WORK/tacho.log"
PE_PORT="$(tacho_free_port)"
DATA_SOURCE_NAME="host=127.0.0.1 port=$PORT user=postgres dbname=tacho_test sslmode=disable" \
  "$PE_BIN" --web.listen-address="127.0.0.1:$PE_PORT" --extend.query-path="$WORK/queries.yaml" \
  </dev/null >"$WORK/pe.log" 2>&1 &
PE_PID=$!; track_pid "$PE_PID"
PE_URL="http://127.0.0.1:$PE_PORT/metrics"
wait_for_exporter "$PE_URL" "$WORK/pe.log" postgres_exporter
log "tacho pid $TACHO_PID ($TACHO_URL), postgres_exporter pid $PE_PID ($PE_URL), postmaster $PM"

# Warm-up: connections made, caches filled, query texts fetched.
warm_up 3 "$TACHO_URL" "$PE_URL"
curl -fsS -o "$WORK/tacho.prom" "$TACHO_URL"
curl -fsS -o "$WORK/pe.prom" "$PE_URL"
tacho_series=$(grep -vc '^#' "$WORK/tacho.prom" || true)
pe_series=$(grep -vc '^#' "$WORK/pe.prom" || true)
tacho_up=$(metric_sum "$WORK/tacho.prom" pg_up)
pe_up=$(metric_sum "$WORK/pe.prom" pg_up)

# --- 1. tacho: background collections, no scrapes -----------------------------------------------
# measure_window SECONDS -> sets W_RUNS, W_TACHO_TICKS, W_SERVER_TICKS, W_WALL, W_DURATION
measure_window() {
  local r0 r1 tc0 tc1 sc0 sc1 w0 w1
  curl -fsS -o "$WORK/w0.prom" "$TACHO_URL"
  r0=$(metric_sum "$WORK/w0.prom" tacho_collector_runs_total 'bench')
  tc0=$(cpu_ticks "$TACHO_PID"); sc0=$(server_ticks "$PM"); w0=$(now)
  sleep "$1"
  tc1=$(cpu_ticks "$TACHO_PID"); sc1=$(server_ticks "$PM"); w1=$(now)
  curl -fsS -o "$WORK/w1.prom" "$TACHO_URL"
  r1=$(metric_sum "$WORK/w1.prom" tacho_collector_runs_total 'bench')
  W_RUNS=$(awk -v a="$r0" -v b="$r1" 'BEGIN { print b - a }')
  W_TACHO_TICKS=$((tc1 - tc0)); W_SERVER_TICKS=$((sc1 - sc0))
  W_WALL=$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')
  W_DURATION=$(metric_sum "$WORK/w1.prom" tacho_scrape_collector_duration_seconds 'bench')
}
log "tacho: ${IDLE}s scrape-free window (postgres_exporter is not scraped, so it queries nothing)"
measure_window "$IDLE"
tacho_runs=$W_RUNS; tacho_window=$W_WALL; tacho_server_ticks=$W_SERVER_TICKS
tacho_cpu_per_collection=$(cpu_ms_per "$W_TACHO_TICKS" "$CLK_TCK" "$tacho_runs")
tacho_duration=$W_DURATION

log "tacho: up to $SCRAPES sequential scrapes"
scrape_series tacho "$TACHO_URL" "$SCRAPES"
tacho_n=$(cat "$WORK/tacho.n")
read -r tacho_rss tacho_rss_max <<<"$(rss_samples "$TACHO_PID")"
tacho_gzip=$(curl -fsS --compressed -o /dev/null -w '%{size_download}' "$TACHO_URL")

# The worst case: table and index statistics read on every collection (relations_interval at
# most the interval) instead of every minute.
kill -TERM "$TACHO_PID"; wait "$TACHO_PID" 2>/dev/null || true
sed -i "s/^interval = .*/&\nrelations_interval = \"$INTERVAL\"/" "$WORK/tacho.toml"
start_tacho "$WORK/tacho.toml" "$WORK/tacho2.log"
sleep 3
log "tacho, relations every collection: ${IDLE_EVERY}s window"
measure_window "$IDLE_EVERY"
every_runs=$W_RUNS; every_window=$W_WALL; every_server_ticks=$W_SERVER_TICKS
every_cpu_per_collection=$(cpu_ms_per "$W_TACHO_TICKS" "$CLK_TCK" "$every_runs")
# tacho stops querying for the rest of the run: it is frozen (its sessions stay idle).
kill -STOP "$TACHO_PID"

# --- 2. the server on its own -------------------------------------------------------------------
log "server baseline: 10s with nobody querying"
b0=$(server_ticks "$PM"); bw0=$(now)
sleep 10
b1=$(server_ticks "$PM"); bw1=$(now)
baseline_rate=$(awk -v d=$((b1 - b0)) -v a="$bw0" -v b="$bw1" 'BEGIN { print d / (b - a) }')  # ticks/s

# --- 3. postgres_exporter: it collects on every scrape ------------------------------------------
log "postgres_exporter: up to $SCRAPES sequential scrapes (at most ${SCRAPE_SECONDS}s)"
pc0=$(cpu_ticks "$PE_PID"); sp0=$(server_ticks "$PM"); pw0=$(now)
scrape_series pe "$PE_URL" "$SCRAPES"
pc1=$(cpu_ticks "$PE_PID"); sp1=$(server_ticks "$PM"); pw1=$(now)
pe_n=$(cat "$WORK/pe.n")
pe_window=$(awk -v a="$pw0" -v b="$pw1" 'BEGIN { print b - a }')
pe_cpu_per_collection=$(cpu_ms_per $((pc1 - pc0)) "$CLK_TCK" "$pe_n")
# postgres_exporter idles between scrapes: sample its RSS while it is being scraped.
( scrape_series pe-rss "$PE_URL" 20 >/dev/null 2>&1 ) &
loader=$!
read -r pe_rss pe_rss_max <<<"$(rss_samples "$PE_PID")"
wait "$loader" || true
pe_gzip=$(curl -fsS --compressed -o /dev/null -w '%{size_download}' "$PE_URL")

# The server's CPU per collection, minus what it spends on its own (autovacuum launcher,
# checkpointer, WAL writer, statistics) over the same time.
server_per() {  # TICKS WINDOW_SECONDS N
  awk -v d="$1" -v w="$2" -v n="$3" -v r="$baseline_rate" -v hz="$CLK_TCK" \
    'BEGIN { v = (d - r * w) / hz * 1000 / n; if (v < 0) v = 0; printf "%.3f", v }'
}
tacho_server=$(server_per "$tacho_server_ticks" "$tacho_window" "$tacho_runs")
every_server=$(server_per "$every_server_ticks" "$every_window" "$every_runs")
pe_server=$(server_per $((sp1 - sp0)) "$pe_window" "$pe_n")
tacho_server_raw=$(cpu_ms_per "$tacho_server_ticks" "$CLK_TCK" "$tacho_runs")
pe_server_raw=$(cpu_ms_per $((sp1 - sp0)) "$CLK_TCK" "$pe_n")

# --- report -------------------------------------------------------------------------------------
tacho_bytes=$(mean_bytes "$WORK/tacho.times")
pe_bytes=$(mean_bytes "$WORK/pe.times")
goal() {  # TACHO PEER LIMIT: tacho / peer against LIMIT (a fraction such as 1/3), unrounded
  awk -v a="$1" -v b="$2" -v l="$3" 'BEGIN {
    if (a == "-" || b + 0 == 0) { print "-"; exit }
    split(l, f, "/"); limit = (2 in f) ? f[1] / f[2] : l + 0
    printf "<= %s %s", l, (a / b <= limit ? "met" : "MISSED") }'
}
p50_t=$(percentile "$WORK/tacho.times" 50); p50_p=$(percentile "$WORK/pe.times" 50)
rows=(
  "pg_up|${tacho_up:-?}|${pe_up:-?}|-|-"
  "sequential scrapes measured|$tacho_n|$pe_n|-|-"
  "scrape latency p50 (ms)|$p50_t|$p50_p|$(ratio "$p50_t" "$p50_p")|$(goal "$p50_t" "$p50_p" 1/20)"
  "$(latency_row 90 "$WORK/tacho.times" "$WORK/pe.times")"
  "$(latency_row 100 "$WORK/tacho.times" "$WORK/pe.times")"
  "body bytes|$tacho_bytes|$pe_bytes||"
  "body bytes, gzip|$tacho_gzip|$pe_gzip||"
  "series (samples in body)|$tacho_series|$pe_series||"
  "RSS, median of 20 (MiB)|$(mib "$tacho_rss")|$(mib "$pe_rss")|$(ratio "$tacho_rss" "$pe_rss")|$(goal "$tacho_rss" "$pe_rss" 1/3)"
  "RSS, max of 20 (MiB)|$(mib "$tacho_rss_max")|$(mib "$pe_rss_max")||"
  "exporter CPU per collection (ms)|$tacho_cpu_per_collection|$pe_cpu_per_collection|$(ratio "$tacho_cpu_per_collection" "$pe_cpu_per_collection")|$(goal "$tacho_cpu_per_collection" "$pe_cpu_per_collection" 1/10)"
  "server CPU per collection (ms)|$tacho_server|$pe_server|$(ratio "$tacho_server" "$pe_server")|$(goal "$tacho_server" "$pe_server" 1/4)"
  "server CPU per collection, raw (ms)|$tacho_server_raw|$pe_server_raw||"
  "tacho with tables/indexes every collection: exporter CPU (ms)|$every_cpu_per_collection|$pe_cpu_per_collection||"
  "tacho with tables/indexes every collection: server CPU (ms)|$every_server|$pe_server||"
)
echo
echo "postgres benchmark: PostgreSQL 15, $statements statements in pg_stat_statements, $tables tables; $(nproc) CPUs"
echo "tacho: $("$TACHO" --version 2>/dev/null | head -n 1), interval $INTERVAL, defaults otherwise; postgres_exporter: $("$PE_BIN" --version 2>&1 | head -n 1 | sed 's/ (.*//'), example queries.yaml (13+ column names)"
echo
TABLE_COLUMNS=(60 10: 17: 11: 14)
print_table "metric|tacho|postgres_exporter|tacho / p-e|goal" "${rows[@]}"
echo
echo "tacho: $tacho_runs background collections in the ${tacho_window%.*}s window (defaults: tables and indexes read every relations_interval = 1m, i.e. once in the window; last collection took ${tacho_duration}s), and $every_runs in ${every_window%.*}s with relations_interval = $INTERVAL (tables and indexes on every collection). postgres_exporter collects on every scrape."
echo "server CPU: all PostgreSQL processes (utime+stime, reaped children included) per collection, minus the server's own background rate measured over 10 s with nobody querying ($(awk -v r="$baseline_rate" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", r / hz * 1000 }') ms/s); raw: without that correction."
