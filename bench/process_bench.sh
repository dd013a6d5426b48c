#!/usr/bin/env bash
# tacho's process collector vs Debian's prometheus-process-exporter, side by side, watching the
# same 1,000 processes. See bench/README.md for what is measured and how.
#
#   bench/process_bench.sh
#
# Environment (all optional):
#   TACHO_BIN=PATH            tacho binary (default: build/agent/tacho, built if missing)
#   TACHO_BUILD_DIR=DIR       where to build it if missing (default build/)
#   BENCH_PROCS=1000          worker processes to spawn
#   BENCH_SCRAPES=200         sequential scrapes per exporter...
#   BENCH_SCRAPE_SECONDS=45   ...or fewer, if they take longer than this
#   BENCH_IDLE_SECONDS=20     scrape-free window to measure tacho's background collections
#   BENCH_INTERVAL=1s         tacho's collection interval
#   BENCH_PE_ARGS="..."       extra flags for prometheus-process-exporter
#   BENCH_MAX_SECONDS=170     hard limit: the run is aborted (and cleaned up) after this
#   TACHO_SKIP_DEPS=1         don't run scripts/install-deps.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

PROCS="${BENCH_PROCS:-1000}"
SCRAPES="${BENCH_SCRAPES:-200}"
SCRAPE_SECONDS="${BENCH_SCRAPE_SECONDS:-45}"
SCRAPE_TIMEOUT=10
IDLE="${BENCH_IDLE_SECONDS:-20}"
INTERVAL="${BENCH_INTERVAL:-1s}"
PE_ARGS="${BENCH_PE_ARGS:-}"
MAX_SECONDS="${BENCH_MAX_SECONDS:-170}"
PE_BIN=/usr/bin/prometheus-process-exporter
# The workers' argv[0]; assembled so that no other command line (this script's, the spawner's)
# contains it.
WORKER_NAME="tacho-bench-""worker"

bench_cleanup_on_exit
bench_time_limit "$MAX_SECONDS"

# --- prerequisites ------------------------------------------------------------------------------
bench_install_deps
require_bin "$PE_BIN" prometheus-process-exporter
find_tacho
bench_workdir tacho-bench

count_workers() {  # processes whose command line starts with WORKER_NAME
  pgrep -c -f "^$WORKER_NAME( |\$)" || true
}

# --- workers ------------------------------------------------------------------------------------
log "spawning $PROCS worker processes ($WORKER_NAME)"
setsid bash -c '
  name="$1"; n="$2"
  for ((i = 0; i < n; i++)); do (exec -a "$name" sleep 900) & done
  wait
' bench-spawner "$WORKER_NAME" "$PROCS" </dev/null >/dev/null 2>&1 &
track_group "$!"
deadline=$((SECONDS + 60))
while [ "$(count_workers)" -lt "$PROCS" ]; do
  [ "$SECONDS" -lt "$deadline" ] || tacho_die "workers did not all start within 60 s"
  sleep 0.5
done
log "$PROCS workers running"

# --- exporters ----------------------------------------------------------------------------------
tacho_agent_config "$WORK/tacho.toml" "$WORK/state" warn <<EOF
[[collectors.process]]
name = "bench"
interval = "$INTERVAL"

[[collectors.process.groups]]
name = "bench"
cmdline = "^$WORKER_NAME"
EOF
cat >"$WORK/process-exporter.yml" <<EOF
process_names:
  - name: bench
    cmdline:
      - '^$WORKER_NAME'
EOF

start_tacho "$WORK/tacho.toml" "$WORK/tacho.log" --listen 127.0.0.1:0
PE_PORT="$(tacho_free_port)"
# shellcheck disable=SC2086
"$PE_BIN" -config.path "$WORK/process-exporter.yml" -web.listen-address "127.0.0.1:$PE_PORT" \
  $PE_ARGS </dev/null >"$WORK/pe.log" 2>&1 &
PE_PID=$!
track_pid "$PE_PID"
PE_URL="http://127.0.0.1:$PE_PORT/metrics"
wait_for_exporter "$PE_URL" "$WORK/pe.log" prometheus-process-exporter
log "tacho pid $TACHO_PID ($TACHO_URL), process-exporter pid $PE_PID ($PE_URL)"

# Warm-up: a few collections and scrapes each.
warm_up 5 "$TACHO_URL" "$PE_URL"
tacho_rss_warm=$(rss_kib "$TACHO_PID")
pe_rss_warm=$(rss_kib "$PE_PID")
curl -fsS -o "$WORK/tacho.prom" "$TACHO_URL"
curl -fsS -o "$WORK/pe.prom" "$PE_URL"
tacho_seen=$(metric_sum "$WORK/tacho.prom" namedprocess_namegroup_num_procs 'groupname="bench"')
pe_seen=$(metric_sum "$WORK/pe.prom" namedprocess_namegroup_num_procs 'groupname="bench"')
tacho_series=$(grep -vc '^#' "$WORK/tacho.prom" || true)
pe_series=$(grep -vc '^#' "$WORK/pe.prom" || true)
tacho_gzip=$(curl -fsS --compressed -o /dev/null -w '%{size_download}' "$TACHO_URL")
pe_gzip=$(curl -fsS --compressed -o /dev/null -w '%{size_download}' "$PE_URL")

# --- 1. tacho's background collections, with no scrapes at all ---------------------------------
log "idle window: ${IDLE}s without scrapes"
runs_before=$(metric_sum "$WORK/tacho.prom" tacho_collector_runs_total 'bench')
t_cpu0=$(cpu_ticks "$TACHO_PID"); p_cpu0=$(cpu_ticks "$PE_PID"); t0=$(now)
sleep "$IDLE"
t_cpu1=$(cpu_ticks "$TACHO_PID"); p_cpu1=$(cpu_ticks "$PE_PID"); t1=$(now)
curl -fsS -o "$WORK/tacho-after-idle.prom" "$TACHO_URL"
runs_after=$(metric_sum "$WORK/tacho-after-idle.prom" tacho_collector_runs_total 'bench')
idle_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
interval_s=$(interval_seconds "$INTERVAL")
if [ -n "$runs_before" ] && [ -n "$runs_after" ]; then
  idle_runs=$(awk -v a="$runs_before" -v b="$runs_after" 'BEGIN { print b - a }')
  runs_source="tacho_collector_runs_total"
else
  idle_runs=$(awk -v w="$idle_wall" -v i="$interval_s" 'BEGIN { printf "%d", w / i }')
  runs_source="window / interval (tacho_collector_runs_total not found)"
fi
tacho_cpu_per_collection=$(cpu_ms_per $((t_cpu1 - t_cpu0)) "$CLK_TCK" "$idle_runs")
tacho_idle_pct=$(cpu_pct $((t_cpu1 - t_cpu0)) "$CLK_TCK" "$idle_wall" 2)
pe_idle_pct=$(cpu_pct $((p_cpu1 - p_cpu0)) "$CLK_TCK" "$idle_wall" 2)

# --- 2. scrapes ---------------------------------------------------------------------------------
log "up to $SCRAPES sequential scrapes of tacho (at most ${SCRAPE_SECONDS}s)"
measure_tacho_scrapes "$SCRAPES" cpu_ticks bench "$tacho_cpu_per_collection"
tacho_n=$SCRAPE_N; bg_runs=$BG_RUNS; tacho_cpu_per_scrape=$TACHO_CPU_PER_SCRAPE

log "up to $SCRAPES sequential scrapes of prometheus-process-exporter (at most ${SCRAPE_SECONDS}s)"
measure_scrapes pe "$PE_URL" "$PE_PID" "$SCRAPES" cpu_ticks
pe_n=$SCRAPE_N; pe_cpu_per_scrape=$SCRAPE_CPU_MS

tacho_rss_end=$(rss_kib "$TACHO_PID")
pe_rss_end=$(rss_kib "$PE_PID")
workers_left=$(count_workers)

# --- report -------------------------------------------------------------------------------------
tacho_bytes=$(mean_bytes "$WORK/tacho.times")
pe_bytes=$(mean_bytes "$WORK/pe.times")

mapfile -t latency < <(latency_rows "$WORK/tacho.times" "$WORK/pe.times" 50 90 99 100)
mapfile -t cpu < <(cpu_rows 2 "$tacho_cpu_per_collection" "$tacho_cpu_per_scrape" "$pe_cpu_per_scrape")
rows=(
  "processes in group 'bench'|${tacho_seen:-?}|${pe_seen:-?}|-"
  "sequential scrapes measured|$tacho_n|$pe_n|-"
  "${latency[@]}"
  "body bytes|$tacho_bytes|$pe_bytes"
  "body bytes, gzip|$tacho_gzip|$pe_gzip"
  "samples in body|$tacho_series|$pe_series"
  "RSS after warm-up (MiB)|$(mib "$tacho_rss_warm")|$(mib "$pe_rss_warm")"
  "RSS at end (MiB)|$(mib "$tacho_rss_end")|$(mib "$pe_rss_end")"
  "${cpu[@]}"
  "CPU with no scrapes (% core)|$tacho_idle_pct|$pe_idle_pct"
)

echo
echo "process collector benchmark: $PROCS processes, up to $SCRAPES sequential scrapes each (${SCRAPE_SECONDS}s cap), $(nproc) CPUs"
echo "tacho: $("$TACHO" --version 2>/dev/null | head -n 1), interval $INTERVAL; process-exporter: $("$PE_BIN" -version 2>&1 | head -n 1)${PE_ARGS:+ $PE_ARGS}"
echo
TABLE_COLUMNS=(36 12: 16: 15:)
print_table "metric|tacho|process-exporter|tacho / p-e" "${rows[@]}"
echo
echo "tacho collections: $idle_runs in the ${IDLE}s scrape-free window (counted by $runs_source), $bg_runs during its scrapes."
echo "process-exporter collects on every scrape, so its CPU per collection is its CPU per scrape."
if [ "$workers_left" -lt "$PROCS" ]; then
  echo "warning: only $workers_left of $PROCS workers were still running at the end" >&2
fi
if [ "${tacho_seen:-0}" != "$PROCS" ] || [ "${pe_seen:-0}" != "$PROCS" ]; then
  echo "warning: an exporter did not see exactly $PROCS processes (tacho ${tacho_seen:-?}, process-exporter ${pe_seen:-?})" >&2
fi
