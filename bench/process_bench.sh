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
# shellcheck source=scripts/lib/servers.sh
source "$ROOT/scripts/lib/servers.sh"

PROCS="${BENCH_PROCS:-1000}"
SCRAPES="${BENCH_SCRAPES:-200}"
SCRAPE_SECONDS="${BENCH_SCRAPE_SECONDS:-45}"
IDLE="${BENCH_IDLE_SECONDS:-20}"
INTERVAL="${BENCH_INTERVAL:-1s}"
PE_ARGS="${BENCH_PE_ARGS:-}"
MAX_SECONDS="${BENCH_MAX_SECONDS:-170}"
PE_BIN=/usr/bin/prometheus-process-exporter
CLK_TCK="$(getconf CLK_TCK)"
# The workers' argv[0]; assembled so that no other command line (this script's, the spawner's)
# contains it.
WORKER_NAME="tacho-bench-""worker"

# --- cleanup ------------------------------------------------------------------------------------
WORK=""
GROUPS_TO_KILL=()
PIDS_TO_KILL=()
cleaned=0
# True while PID runs (a zombie counts as gone).
running() {
  local st
  st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}
bench_cleanup() {
  if [ "$cleaned" = 1 ]; then return 0; fi
  cleaned=1
  local p i
  for p in "${PIDS_TO_KILL[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${GROUPS_TO_KILL[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
  for ((i = 0; i < 30; i++)); do
    local alive=0
    for p in "${PIDS_TO_KILL[@]}"; do if running "$p"; then alive=1; fi; done
    [ "$alive" = 1 ] || break
    sleep 0.1
  done
  for p in "${PIDS_TO_KILL[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  tacho_stop_all
  if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
}
trap bench_cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT
trap 'echo "aborted (time limit or TERM)" >&2; exit 143' TERM

# Hard time limit: a detached timer TERMs this script.
# Background jobs are disowned so that bash prints no "Killed" notices when cleanup kills them.
setsid bash -c "sleep $MAX_SECONDS; kill -TERM $$" </dev/null >/dev/null 2>&1 &
GROUPS_TO_KILL+=("$!"); disown "$!"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- prerequisites ------------------------------------------------------------------------------
if [ "${TACHO_SKIP_DEPS:-0}" != 1 ]; then bash "$ROOT/scripts/install-deps.sh" >&2; fi
[ -x "$PE_BIN" ] || tacho_die "$PE_BIN missing (Debian package prometheus-process-exporter)"
TACHO="${TACHO_BIN:-}"
if [ -z "$TACHO" ]; then
  build_dir="${TACHO_BUILD_DIR:-build}"
  TACHO="$ROOT/$build_dir/agent/tacho"
  if [ ! -x "$TACHO" ]; then
    log "building tacho in $build_dir/"
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build_dir" --target tacho -j "$(tacho_jobs)" >&2
  fi
fi
[ -x "$TACHO" ] || tacho_die "no tacho binary at $TACHO"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tacho-bench.XXXXXX")"

# --- helpers ------------------------------------------------------------------------------------
cpu_ticks() {  # PID: utime + stime in clock ticks
  sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
rss_kib() {  # PID: VmRSS in KiB
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}
count_workers() {  # processes whose command line starts with WORKER_NAME
  pgrep -c -f "^$WORKER_NAME( |\$)" || true
}
# Sum of the values of METRIC's samples in FILE whose line matches FILTER (a regex).
metric_sum() {  # FILE METRIC [FILTER]
  awk -v m="$2" -v f="${3:-}" '
    (index($0, m "{") == 1 || index($0, m " ") == 1) && (f == "" || $0 ~ f) { s += $NF; n++ }
    END { if (n) printf "%.17g\n", s }' "$1"
}
# scrape_series NAME URL N: up to N sequential scrapes, stopping early after SCRAPE_SECONDS;
# writes "time_total size" lines to WORK/NAME.times and the count to WORK/NAME.n
scrape_series() {
  local name="$1" url="$2" n="$3" i deadline=$((SECONDS + SCRAPE_SECONDS))
  : >"$WORK/$name.times"
  for ((i = 0; i < n; i++)); do
    curl -fsS --max-time 10 -o /dev/null -w '%{time_total} %{size_download}\n' "$url" \
      >>"$WORK/$name.times"
    if [ "$SECONDS" -ge "$deadline" ]; then i=$((i + 1)); break; fi
  done
  echo "$i" >"$WORK/$name.n"
}
# percentile FILE P: the P-th percentile (nearest rank) of the first column, in ms
percentile() {
  sort -g "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
    r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR; printf "%.2f", v[r] * 1000 }'
}

# --- workers ------------------------------------------------------------------------------------
log "spawning $PROCS worker processes ($WORKER_NAME)"
setsid bash -c '
  name="$1"; n="$2"
  for ((i = 0; i < n; i++)); do (exec -a "$name" sleep 900) & done
  wait
' bench-spawner "$WORKER_NAME" "$PROCS" </dev/null >/dev/null 2>&1 &
GROUPS_TO_KILL+=("$!"); disown "$!"
deadline=$((SECONDS + 60))
while [ "$(count_workers)" -lt "$PROCS" ]; do
  [ "$SECONDS" -lt "$deadline" ] || tacho_die "workers did not all start within 60 s"
  sleep 0.5
done
log "$PROCS workers running"

# --- exporters ----------------------------------------------------------------------------------
cat >"$WORK/tacho.toml" <<EOF
[agent]
listen = "127.0.0.1:0"
log_level = "warn"

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

"$TACHO" --config "$WORK/tacho.toml" --listen 127.0.0.1:0 --listen-address-file "$WORK/tacho.addr" \
  </dev/null >"$WORK/tacho.log" 2>&1 &
TACHO_PID=$!
PIDS_TO_KILL+=("$TACHO_PID"); disown "$TACHO_PID"
PE_PORT="$(tacho_free_port)"
# shellcheck disable=SC2086
"$PE_BIN" -config.path "$WORK/process-exporter.yml" -web.listen-address "127.0.0.1:$PE_PORT" \
  $PE_ARGS </dev/null >"$WORK/pe.log" 2>&1 &
PE_PID=$!
PIDS_TO_KILL+=("$PE_PID"); disown "$PE_PID"

if ! tacho_wait_for 30 test -s "$WORK/tacho.addr"; then
  tail -n 30 "$WORK/tacho.log" >&2; tacho_die "tacho did not start"
fi
TACHO_URL="http://$(head -n 1 "$WORK/tacho.addr" | tr -d '[:space:]')/metrics"
PE_URL="http://127.0.0.1:$PE_PORT/metrics"
if ! tacho_wait_for 30 curl -fsS -o /dev/null "$PE_URL"; then
  tail -n 30 "$WORK/pe.log" >&2; tacho_die "prometheus-process-exporter did not start"
fi
log "tacho pid $TACHO_PID ($TACHO_URL), process-exporter pid $PE_PID ($PE_URL)"

# Warm-up: a few collections and scrapes each.
sleep 3
for _ in 1 2 3 4 5; do
  curl -fsS -o /dev/null "$TACHO_URL"; curl -fsS -o /dev/null "$PE_URL"
done
sleep 1
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
t_cpu0=$(cpu_ticks "$TACHO_PID"); p_cpu0=$(cpu_ticks "$PE_PID"); t0=$(date +%s.%N)
sleep "$IDLE"
t_cpu1=$(cpu_ticks "$TACHO_PID"); p_cpu1=$(cpu_ticks "$PE_PID"); t1=$(date +%s.%N)
curl -fsS -o "$WORK/tacho-after-idle.prom" "$TACHO_URL"
runs_after=$(metric_sum "$WORK/tacho-after-idle.prom" tacho_collector_runs_total 'bench')
idle_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
interval_s=$(awk -v i="$INTERVAL" 'BEGIN {
  v = i + 0; if (i ~ /ms$/) v /= 1000; else if (i ~ /m$/) v *= 60; print v }')
if [ -n "$runs_before" ] && [ -n "$runs_after" ]; then
  idle_runs=$(awk -v a="$runs_before" -v b="$runs_after" 'BEGIN { print b - a }')
  runs_source="tacho_collector_runs_total"
else
  idle_runs=$(awk -v w="$idle_wall" -v i="$interval_s" 'BEGIN { printf "%d", w / i }')
  runs_source="window / interval (tacho_collector_runs_total not found)"
fi
tacho_cpu_per_collection=$(awk -v a="$t_cpu0" -v b="$t_cpu1" -v n="$idle_runs" -v hz="$CLK_TCK" \
  'BEGIN { if (n <= 0) n = 1; printf "%.3f", (b - a) / hz * 1000 / n }')
tacho_idle_pct=$(awk -v a="$t_cpu0" -v b="$t_cpu1" -v w="$idle_wall" -v hz="$CLK_TCK" \
  'BEGIN { printf "%.2f", (b - a) / hz / w * 100 }')
pe_idle_pct=$(awk -v a="$p_cpu0" -v b="$p_cpu1" -v w="$idle_wall" -v hz="$CLK_TCK" \
  'BEGIN { printf "%.2f", (b - a) / hz / w * 100 }')

# --- 2. scrapes ---------------------------------------------------------------------------------
log "up to $SCRAPES sequential scrapes of tacho (at most ${SCRAPE_SECONDS}s)"
curl -fsS -o "$WORK/tacho-before-scrapes.prom" "$TACHO_URL"
runs_s0=$(metric_sum "$WORK/tacho-before-scrapes.prom" tacho_collector_runs_total 'bench')
c0=$(cpu_ticks "$TACHO_PID"); s0=$(date +%s.%N)
scrape_series tacho "$TACHO_URL" "$SCRAPES"
c1=$(cpu_ticks "$TACHO_PID"); s1=$(date +%s.%N)
tacho_n=$(cat "$WORK/tacho.n")
curl -fsS -o "$WORK/tacho-after-scrapes.prom" "$TACHO_URL"
runs_s1=$(metric_sum "$WORK/tacho-after-scrapes.prom" tacho_collector_runs_total 'bench')
if [ -n "$runs_s0" ] && [ -n "$runs_s1" ]; then
  bg_runs=$(awk -v a="$runs_s0" -v b="$runs_s1" 'BEGIN { print b - a }')
else
  bg_runs=$(awk -v a="$s0" -v b="$s1" -v i="$interval_s" 'BEGIN { printf "%d", (b - a) / i }')
fi
# What the scrapes cost beyond the background collections that ran meanwhile.
tacho_cpu_per_scrape=$(awk -v a="$c0" -v b="$c1" -v hz="$CLK_TCK" -v n="$tacho_n" \
  -v r="$bg_runs" -v per="$tacho_cpu_per_collection" '
  BEGIN { v = ((b - a) / hz * 1000 - r * per) / n; if (v < 0) v = 0; printf "%.3f", v }')

log "up to $SCRAPES sequential scrapes of prometheus-process-exporter (at most ${SCRAPE_SECONDS}s)"
c0=$(cpu_ticks "$PE_PID")
scrape_series pe "$PE_URL" "$SCRAPES"
c1=$(cpu_ticks "$PE_PID")
pe_n=$(cat "$WORK/pe.n")
pe_cpu_per_scrape=$(awk -v a="$c0" -v b="$c1" -v hz="$CLK_TCK" -v n="$pe_n" \
  'BEGIN { printf "%.3f", (b - a) / hz * 1000 / n }')

tacho_rss_end=$(rss_kib "$TACHO_PID")
pe_rss_end=$(rss_kib "$PE_PID")
workers_left=$(count_workers)

# --- report -------------------------------------------------------------------------------------
tacho_bytes=$(awk '{ s += $2 } END { printf "%d", s / NR }' "$WORK/tacho.times")
pe_bytes=$(awk '{ s += $2 } END { printf "%d", s / NR }' "$WORK/pe.times")

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "-" || b + 0 == 0) { print "-"; exit }
    r = a / b; if (r >= 0.1) printf "%.2f", r; else printf "%.2g", r }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# CPU (% of one core) for fresh data every second: tacho collects each interval and serves one
# scrape; process-exporter collects on each of one scrape per second.
tacho_1s_pct=$(awk -v c="$tacho_cpu_per_collection" -v s="$tacho_cpu_per_scrape" -v i="$interval_s" \
  'BEGIN { printf "%.2f", (c / i + s) / 10 }')
pe_1s_pct=$(awk -v s="$pe_cpu_per_scrape" 'BEGIN { printf "%.2f", s / 10 }')

rows=(
  "processes in group 'bench'|${tacho_seen:-?}|${pe_seen:-?}|-"
  "sequential scrapes measured|$tacho_n|$pe_n|-"
  "scrape latency p50 (ms)|$(percentile "$WORK/tacho.times" 50)|$(percentile "$WORK/pe.times" 50)"
  "scrape latency p90 (ms)|$(percentile "$WORK/tacho.times" 90)|$(percentile "$WORK/pe.times" 90)"
  "scrape latency p99 (ms)|$(percentile "$WORK/tacho.times" 99)|$(percentile "$WORK/pe.times" 99)"
  "scrape latency max (ms)|$(percentile "$WORK/tacho.times" 100)|$(percentile "$WORK/pe.times" 100)"
  "body bytes|$tacho_bytes|$pe_bytes"
  "body bytes, gzip|$tacho_gzip|$pe_gzip"
  "samples in body|$tacho_series|$pe_series"
  "RSS after warm-up (MiB)|$(mib "$tacho_rss_warm")|$(mib "$pe_rss_warm")"
  "RSS at end (MiB)|$(mib "$tacho_rss_end")|$(mib "$pe_rss_end")"
  "CPU per collection (ms)|$tacho_cpu_per_collection|$pe_cpu_per_scrape"
  "CPU per scrape (ms)|$tacho_cpu_per_scrape|$pe_cpu_per_scrape"
  "CPU with no scrapes (% core)|$tacho_idle_pct|$pe_idle_pct"
  "CPU, fresh data every 1 s (% core)|$tacho_1s_pct|$pe_1s_pct"
)

echo
echo "process collector benchmark: $PROCS processes, up to $SCRAPES sequential scrapes each (${SCRAPE_SECONDS}s cap), $(nproc) CPUs"
echo "tacho: $("$TACHO" --version 2>/dev/null | head -n 1), interval $INTERVAL; process-exporter: $("$PE_BIN" -version 2>&1 | head -n 1)${PE_ARGS:+ $PE_ARGS}"
echo
printf '| %-36s | %12s | %16s | %15s |\n' "metric" "tacho" "process-exporter" "tacho / p-e"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..38})" "$(printf -- '-%.0s' {1..13}):" \
  "$(printf -- '-%.0s' {1..17}):" "$(printf -- '-%.0s' {1..16}):"
for row in "${rows[@]}"; do
  IFS='|' read -r name a b r <<<"$row"
  printf '| %-36s | %12s | %16s | %15s |\n' "$name" "$a" "$b" "${r:-$(ratio "$a" "$b")}"
done
echo
echo "tacho collections: $idle_runs in the ${IDLE}s scrape-free window (counted by $runs_source), $bg_runs during its scrapes."
echo "process-exporter collects on every scrape, so its CPU per collection is its CPU per scrape."
if [ "$workers_left" -lt "$PROCS" ]; then
  echo "warning: only $workers_left of $PROCS workers were still running at the end" >&2
fi
if [ "${tacho_seen:-0}" != "$PROCS" ] || [ "${pe_seen:-0}" != "$PROCS" ]; then
  echo "warning: an exporter did not see exactly $PROCS processes (tacho ${tacho_seen:-?}, process-exporter ${pe_seen:-?})" >&2
fi
