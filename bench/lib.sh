# shellcheck shell=bash
# Shared plumbing of the benchmarks in bench/: each script compares tacho with a peer exporter in
# one run. Source it after `set -euo pipefail`; it sources scripts/lib/servers.sh (and so
# common.sh: tacho_log, tacho_die, tacho_wait_for, ...) and defines functions and CLK_TCK only.
#
#   source "$ROOT/bench/lib.sh"
#   bench_cleanup_on_exit                  # EXIT/INT/TERM traps: stop everything, remove WORK
#   bench_time_limit "$MAX_SECONDS"        # TERM this script after that many seconds
#   bench_install_deps; find_tacho         # -> TACHO
#   bench_workdir tacho-redis-bench        # -> WORK
#   some-server & track_pid "$!"           # killed on exit
#   start_tacho "$WORK/tacho.toml" "$WORK/tacho.log"   # -> TACHO_PID, TACHO_URL
#
# Functions (tacho_die with a message on failure):
#   Lifecycle
#     bench_cleanup_on_exit       install the traps; the cleanup continues and TERMs the tracked
#                                 pids (KILL after 3 s), KILLs the tracked process groups, runs
#                                 tacho_stop_all and removes WORK
#     bench_time_limit SECONDS    a detached timer TERMs this script after SECONDS
#     track_pid PID               killed by the cleanup; disowned (no "Killed" notices)
#     track_group PID             the same for the process group (session) led by PID
#     running PID                 true while PID runs (a zombie counts as gone)
#     bench_workdir NAME          WORK = a new directory ${TMPDIR:-/tmp}/NAME.XXXXXX
#     log MESSAGE                 timestamped progress line on stderr
#   Prerequisites
#     bench_install_deps          scripts/install-deps.sh, unless TACHO_SKIP_DEPS=1
#     require_bin PATH PACKAGE    die unless PATH is executable
#     find_tacho                  TACHO = $TACHO_BIN, else $TACHO_BUILD_DIR/agent/tacho (default
#                                 build/), built there if missing
#   Exporters
#     start_tacho CONFIG LOG [ARGS..]  start tacho (ARGS after --config), wait for its address
#                                 -> TACHO_PID, TACHO_URL (http://HOST:PORT/metrics)
#     wait_for_exporter URL LOG NAME   wait until URL answers; else die showing LOG
#     warm_up N URL..             3 s, N scrapes of each URL, 1 s
#     bare_tacho_rss              tacho with no collector for 3 s -> BARE_RSS, BARE_ANON (KiB)
#   /proc readers
#     cpu_ticks PID               utime + stime in clock ticks (/proc/PID/stat)
#     cpu_ns PID                  CPU time of every thread in ns (/proc/PID/task/*/schedstat)
#     threads PID                 the thread ids, to check that none came or went in a window
#     rss_kib / rss_anon_kib / pss_kib PID   VmRSS, RssAnon, Pss in KiB
#   CPU arithmetic (a CPU delta in ticks with HZ=$CLK_TCK, or in ns with HZ=1e9)
#     cpu_ms_per DELTA HZ N       milliseconds per item, 3 decimals (N < 1 counts as 1)
#     cpu_ms_per_scrape DELTA HZ N RUNS MS_PER_RUN   the same, net of RUNS background
#                                 collections that ran meanwhile (never below 0)
#     cpu_pct DELTA HZ SECONDS DECIMALS   percent of one core over SECONDS of wall time
#     fresh_1s_pct DECIMALS MS_PER_SCRAPE [MS_PER_COLLECTION INTERVAL_S]   percent of one core
#                                 for data at most 1 s old, scraped every second: one scrape,
#                                 plus the background collections of an agent like tacho
#   Scrapes and expositions
#     now                         wall clock, seconds with nanoseconds
#     metric_sum FILE METRIC [FILTER]   sum of METRIC's samples whose line matches FILTER
#     scrape_series NAME URL N    N sequential scrapes, fewer if SCRAPE_SECONDS (if set) pass
#                                 -> WORK/NAME.times ("time_total size" lines), WORK/NAME.n
#     measure_scrapes NAME URL PID N CLOCK   scrape_series NAME URL N, PID's CPU read with CLOCK
#                                 (cpu_ns or cpu_ticks) around it -> SCRAPE_N, SCRAPE_CPU (the
#                                 delta in CLOCK's unit), SCRAPE_CPU_MS (ms per scrape),
#                                 SCRAPE_T0 / SCRAPE_T1 (wall clock before and after)
#     measure_tacho_scrapes N CLOCK FILTER MS_PER_COLLECTION   measure_scrapes of tacho, net of
#                                 the collections of its instances matching FILTER that ran
#                                 meanwhile -> SCRAPE_N, BG_RUNS, TACHO_CPU_PER_SCRAPE (ms)
#     percentile FILE P           nearest-rank percentile of the first column, in ms
#     mean_bytes FILE             mean of the second column (a .times file's body size)
#     interval_seconds DURATION   "1s", "500ms", "1m" -> seconds
#   Report
#     ratio A B                   A / B, 2 decimals (2 significant digits below 0.1); "-" if
#                                 A is "-" or B is 0
#     mib KIB                     KiB as MiB, 1 decimal
#     latency_row P TIMES_A TIMES_B   table row "scrape latency pP (ms)|A|B" (P=100: "max")
#     latency_rows TIMES_A TIMES_B P..  latency_row for each P, one a line (for mapfile)
#     cpu_rows DECIMALS T_COLLECTION T_SCRAPE PEER_SCRAPE   the rows "CPU per collection (ms)",
#                                 "CPU per scrape (ms)" and "CPU, fresh data every 1 s (% core)"
#                                 of tacho (collecting every INTERVAL) and of a peer that
#                                 collects on each scrape, one a line (for mapfile)
#     print_table HEADER ROW..    Markdown table (TABLE_COLUMNS: widths, see there)
#
# Variables the scripts may set: SCRAPE_SECONDS (scrape_series' time cap), SCRAPE_TIMEOUT (curl's
# --max-time per scrape, default 10 s), TABLE_COLUMNS (print_table).

if [ -n "${_TACHO_BENCH_LIB_SH:-}" ]; then return 0; fi
_TACHO_BENCH_LIB_SH=1

# shellcheck source=scripts/lib/servers.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/servers.sh"

# shellcheck disable=SC2034  # for the scripts
CLK_TCK="$(getconf CLK_TCK)"

# ---------------------------------------------------------------------------------------------
# Lifecycle

WORK=""
PIDS_TO_KILL=()
GROUPS_TO_KILL=()
_BENCH_CLEANED=0

log() { tacho_log "$@"; }

running() {  # PID: running and not a zombie
  local st
  st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# Background jobs are disowned so that bash prints no "Killed" notices when the cleanup kills them.
track_pid() { PIDS_TO_KILL+=("$1"); disown "$1" 2>/dev/null || true; }
track_group() { GROUPS_TO_KILL+=("$1"); disown "$1" 2>/dev/null || true; }

bench_cleanup() {
  if [ "$_BENCH_CLEANED" = 1 ]; then return 0; fi
  _BENCH_CLEANED=1
  local p i alive
  # Some may be stopped (SIGSTOP): continue them so that TERM is delivered.
  for p in "${PIDS_TO_KILL[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -TERM "$p" 2>/dev/null || true; done
  for p in "${GROUPS_TO_KILL[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
  for ((i = 0; i < 30; i++)); do
    alive=0
    for p in "${PIDS_TO_KILL[@]}"; do if running "$p"; then alive=1; fi; done
    [ "$alive" = 1 ] || break
    sleep 0.1
  done
  for p in "${PIDS_TO_KILL[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  tacho_stop_all
  if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
}

bench_cleanup_on_exit() {
  trap bench_cleanup EXIT
  trap 'echo "interrupted" >&2; exit 130' INT
  trap 'echo "aborted (time limit or TERM)" >&2; exit 143' TERM
}

bench_time_limit() {  # SECONDS
  setsid bash -c "sleep $1; kill -TERM $$" </dev/null >/dev/null 2>&1 &
  track_group "$!"
}

bench_workdir() {  # NAME
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
}

# ---------------------------------------------------------------------------------------------
# Prerequisites

bench_install_deps() {
  if [ "${TACHO_SKIP_DEPS:-0}" != 1 ]; then bash "$TACHO_ROOT/scripts/install-deps.sh" >&2; fi
}

require_bin() {  # PATH PACKAGE
  [ -x "$1" ] || tacho_die "$1 missing (Debian package $2)"
}

find_tacho() {
  TACHO="${TACHO_BIN:-}"
  if [ -z "$TACHO" ]; then
    local build_dir="${TACHO_BUILD_DIR:-build}"
    TACHO="$TACHO_ROOT/$build_dir/agent/tacho"
    if [ ! -x "$TACHO" ]; then
      log "building tacho in $build_dir/"
      (
        cd "$TACHO_ROOT" || exit 1
        cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        cmake --build "$build_dir" --target tacho -j "$(tacho_jobs)" >&2
      )
    fi
  fi
  [ -x "$TACHO" ] || tacho_die "no tacho binary at $TACHO"
}

# ---------------------------------------------------------------------------------------------
# Exporters

start_tacho() {  # CONFIG LOG [ARGS..]
  rm -f "$WORK/tacho.addr"
  "$TACHO" --config "$1" "${@:3}" --listen-address-file "$WORK/tacho.addr" </dev/null >"$2" 2>&1 &
  TACHO_PID=$!
  track_pid "$TACHO_PID"
  if ! tacho_wait_for 30 test -s "$WORK/tacho.addr"; then
    tail -n 30 "$2" >&2; tacho_die "tacho did not start"
  fi
  # shellcheck disable=SC2034  # for the caller
  TACHO_URL="http://$(head -n 1 "$WORK/tacho.addr" | tr -d '[:space:]')/metrics"
}

wait_for_exporter() {  # URL LOG NAME
  if ! tacho_wait_for 30 curl -fsS -o /dev/null "$1"; then
    tail -n 30 "$2" >&2; tacho_die "$3 did not start"
  fi
}

warm_up() {  # N URL..: connections made, caches filled, a few collections and scrapes each
  local i url
  sleep 3
  for ((i = 0; i < $1; i++)); do
    for url in "${@:2}"; do curl -fsS -o /dev/null "$url"; done
  done
  sleep 1
}

# The same binary with no collector at all: how much of tacho's RSS is the agent and its shared
# libraries rather than the collector measured.
bare_tacho_rss() {
  local pid
  tacho_agent_config "$WORK/empty.toml" "$WORK/state" warn </dev/null
  "$TACHO" --config "$WORK/empty.toml" </dev/null >/dev/null 2>&1 &
  pid=$!
  track_pid "$pid"
  sleep 3
  # shellcheck disable=SC2034  # for the caller
  { BARE_RSS=$(rss_kib "$pid"); BARE_ANON=$(rss_anon_kib "$pid"); }
  kill -TERM "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# /proc readers

cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# Clock ticks (10 ms) are too coarse for a collection of a millisecond or a few: schedstat's
# first field is the time on CPU in nanoseconds.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
# shellcheck disable=SC2012  # thread ids are numbers
threads() { ls /proc/"$1"/task | tr '\n' ' '; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
rss_anon_kib() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }
pss_kib() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }

# ---------------------------------------------------------------------------------------------
# CPU arithmetic

cpu_ms_per() {  # DELTA HZ N
  awk -v d="$1" -v hz="$2" -v n="$3" 'BEGIN { if (n <= 0) n = 1; printf "%.3f", d / hz * 1000 / n }'
}

cpu_ms_per_scrape() {  # DELTA HZ N RUNS MS_PER_RUN
  awk -v d="$1" -v hz="$2" -v n="$3" -v r="$4" -v per="$5" \
    'BEGIN { if (n <= 0) n = 1; v = (d / hz * 1000 - r * per) / n; if (v < 0) v = 0; printf "%.3f", v }'
}

cpu_pct() {  # DELTA HZ SECONDS DECIMALS
  awk -v d="$1" -v hz="$2" -v w="$3" -v p="$4" 'BEGIN { printf "%.*f", p, d / hz / w * 100 }'
}

fresh_1s_pct() {  # DECIMALS MS_PER_SCRAPE [MS_PER_COLLECTION INTERVAL_S]
  awk -v p="$1" -v s="$2" -v c="${3:-0}" -v i="${4:-1}" 'BEGIN { printf "%.*f", p, (c / i + s) / 10 }'
}

# ---------------------------------------------------------------------------------------------
# Scrapes and expositions

now() { date +%s.%N; }

metric_sum() {  # FILE METRIC [FILTER]: empty if METRIC has no sample
  awk -v m="$2" -v f="${3:-}" '
    (index($0, m "{") == 1 || index($0, m " ") == 1) && (f == "" || $0 ~ f) { s += $NF; n++ }
    END { if (n) printf "%.17g\n", s }' "$1"
}

scrape_series() {  # NAME URL N
  local name="$1" url="$2" n="$3" i deadline=""
  if [ -n "${SCRAPE_SECONDS:-}" ]; then deadline=$((SECONDS + SCRAPE_SECONDS)); fi
  : >"$WORK/$name.times"
  for ((i = 0; i < n; i++)); do
    curl -fsS --max-time "${SCRAPE_TIMEOUT:-10}" -o /dev/null -w '%{time_total} %{size_download}\n' \
      "$url" >>"$WORK/$name.times"
    if [ -n "$deadline" ] && [ "$SECONDS" -ge "$deadline" ]; then i=$((i + 1)); break; fi
  done
  echo "$i" >"$WORK/$name.n"
}

# The clock rate of a CPU reader: cpu_ns counts nanoseconds, cpu_ticks clock ticks.
clock_hz() { if [ "$1" = cpu_ns ]; then echo 1e9; else echo "$CLK_TCK"; fi; }

measure_scrapes() {  # NAME URL PID N CLOCK
  local c0
  c0=$("$5" "$3"); SCRAPE_T0=$(now)
  scrape_series "$1" "$2" "$4"
  SCRAPE_CPU=$(($("$5" "$3") - c0)); SCRAPE_T1=$(now)
  SCRAPE_N=$(cat "$WORK/$1.n")
  # shellcheck disable=SC2034  # for the caller
  SCRAPE_CPU_MS=$(cpu_ms_per "$SCRAPE_CPU" "$(clock_hz "$5")" "$SCRAPE_N")
}

# measure_tacho_scrapes N CLOCK FILTER MS_PER_COLLECTION: the background collections that ran
# during the scrapes come from tacho_collector_runs_total (lines matching FILTER), or, where it is
# missing, from the wall time over INTERVAL; each is charged MS_PER_COLLECTION.
measure_tacho_scrapes() {
  local runs0 runs1
  curl -fsS -o "$WORK/tacho-before-scrapes.prom" "$TACHO_URL"
  runs0=$(metric_sum "$WORK/tacho-before-scrapes.prom" tacho_collector_runs_total "$3")
  measure_scrapes tacho "$TACHO_URL" "$TACHO_PID" "$1" "$2"
  curl -fsS -o "$WORK/tacho-after-scrapes.prom" "$TACHO_URL"
  runs1=$(metric_sum "$WORK/tacho-after-scrapes.prom" tacho_collector_runs_total "$3")
  if [ -n "$runs0" ] && [ -n "$runs1" ]; then
    BG_RUNS=$(awk -v a="$runs0" -v b="$runs1" 'BEGIN { print b - a }')
  else
    BG_RUNS=$(awk -v a="$SCRAPE_T0" -v b="$SCRAPE_T1" -v i="$(interval_seconds "$INTERVAL")" \
      'BEGIN { printf "%d", (b - a) / i }')
  fi
  # shellcheck disable=SC2034  # for the caller
  TACHO_CPU_PER_SCRAPE=$(cpu_ms_per_scrape "$SCRAPE_CPU" "$(clock_hz "$2")" "$SCRAPE_N" "$BG_RUNS" "$4")
}

percentile() {  # FILE P
  sort -g "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
    r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR; printf "%.2f", v[r] * 1000 }'
}

mean_bytes() { awk '{ s += $2 } END { printf "%d", s / NR }' "$1"; }

interval_seconds() {  # DURATION
  awk -v i="$1" 'BEGIN { v = i + 0; if (i ~ /ms$/) v /= 1000; else if (i ~ /m$/) v *= 60; print v }'
}

# ---------------------------------------------------------------------------------------------
# Report

ratio() {  # A B
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "-" || b + 0 == 0) { print "-"; exit }
    r = a / b; if (r >= 0.1) printf "%.2f", r; else printf "%.2g", r }'
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

latency_row() {  # P TIMES_A TIMES_B
  local label="p$1"
  if [ "$1" = 100 ]; then label=max; fi
  printf 'scrape latency %s (ms)|%s|%s' "$label" "$(percentile "$2" "$1")" "$(percentile "$3" "$1")"
}

latency_rows() {  # TIMES_A TIMES_B P..
  local p
  for p in "${@:3}"; do latency_row "$p" "$1" "$2"; echo; done
}

cpu_rows() {  # DECIMALS T_COLLECTION T_SCRAPE PEER_SCRAPE
  printf 'CPU per collection (ms)|%s|%s\n' "$2" "$4"
  printf 'CPU per scrape (ms)|%s|%s\n' "$3" "$4"
  printf 'CPU, fresh data every 1 s (%% core)|%s|%s\n' \
    "$(fresh_1s_pct "$1" "$3" "$2" "$(interval_seconds "$INTERVAL")")" "$(fresh_1s_pct "$1" "$4")"
}

# print_table HEADER ROW..: a Markdown table of "cell|cell|..." lines. TABLE_COLUMNS holds the
# width of each column: the first is left-aligned, the others right-aligned, and a width ending
# in ':' marks its column right-aligned in the separator line too. In a row, an empty or missing
# 4th cell is the ratio of the 2nd and 3rd, any later one "-".
TABLE_COLUMNS=()
print_table() {
  local fmt="|" sep="|" col w row i
  local -a cells
  for ((i = 0; i < ${#TABLE_COLUMNS[@]}; i++)); do
    col=${TABLE_COLUMNS[i]}; w=${col%:}
    if [ "$i" = 0 ]; then fmt+=" %-${w}s |"; else fmt+=" %${w}s |"; fi
    if [ "$col" != "$w" ]; then sep+="$(_dashes $((w + 1))):|"; else sep+="$(_dashes $((w + 2)))|"; fi
  done
  IFS='|' read -r -a cells <<<"$1"
  # shellcheck disable=SC2059
  printf "$fmt\n" "${cells[@]}"
  echo "$sep"
  for row in "${@:2}"; do
    IFS='|' read -r -a cells <<<"$row"
    for ((i = 3; i < ${#TABLE_COLUMNS[@]}; i++)); do
      if [ -n "${cells[i]:-}" ]; then continue; fi
      if [ "$i" = 3 ]; then cells[i]=$(ratio "${cells[1]}" "${cells[2]}"); else cells[i]="-"; fi
    done
    # shellcheck disable=SC2059
    printf "$fmt\n" "${cells[@]}"
  done
}
_dashes() { printf '%*s' "$1" '' | tr ' ' -; }
