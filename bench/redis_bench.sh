#!/usr/bin/env bash
# tacho's redis collector vs Debian's prometheus-redis-exporter, side by side, watching the same
# redis-server under the same steady load. See bench/README.md for what is measured and how.
#
#   bench/redis_bench.sh
#
# Environment (all optional):
#   TACHO_BIN=PATH            tacho binary (default: build/agent/tacho, built if missing)
#   TACHO_BUILD_DIR=DIR       where to build it if missing (default build/)
#   BENCH_SCRAPES=200         sequential scrapes per exporter
#   BENCH_IDLE_SECONDS=30     scrape-free window to measure tacho's background collections
#   BENCH_INTERVAL=1s         tacho's collection interval
#   BENCH_KEYS=100000         keys loaded before the run
#   BENCH_LOAD_RATE=5000      commands per second of the steady background load
#   BENCH_MAX_SECONDS=170     hard limit: the run is aborted (and cleaned up) after this
#   TACHO_SKIP_DEPS=1         don't run scripts/install-deps.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib/servers.sh
source "$ROOT/scripts/lib/servers.sh"

SCRAPES="${BENCH_SCRAPES:-200}"
IDLE="${BENCH_IDLE_SECONDS:-30}"
INTERVAL="${BENCH_INTERVAL:-1s}"
KEYS="${BENCH_KEYS:-100000}"
LOAD_RATE="${BENCH_LOAD_RATE:-5000}"
MAX_SECONDS="${BENCH_MAX_SECONDS:-170}"
RE_BIN=/usr/bin/prometheus-redis-exporter

# --- cleanup ------------------------------------------------------------------------------------
WORK=""
PIDS_TO_KILL=()
GROUPS_TO_KILL=()
cleaned=0
running() {  # PID: running and not a zombie
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

setsid bash -c "sleep $MAX_SECONDS; kill -TERM $$" </dev/null >/dev/null 2>&1 &
GROUPS_TO_KILL+=("$!"); disown "$!"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- prerequisites ------------------------------------------------------------------------------
if [ "${TACHO_SKIP_DEPS:-0}" != 1 ]; then bash "$ROOT/scripts/install-deps.sh" >&2; fi
[ -x "$RE_BIN" ] || tacho_die "$RE_BIN missing (Debian package prometheus-redis-exporter)"
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

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tacho-redis-bench.XXXXXX")"

# --- helpers ------------------------------------------------------------------------------------
# CPU time of every thread of PID in nanoseconds (/proc/PID/task/*/schedstat, field 1): clock
# ticks (10 ms) are too coarse for a collection that takes well under a millisecond.
cpu_ns() {
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}
threads() { ls /proc/"$1"/task | tr '\n' ' '; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
rss_anon_kib() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }
pss_kib() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }
metric_sum() {  # FILE METRIC [FILTER]
  awk -v m="$2" -v f="${3:-}" '
    (index($0, m "{") == 1 || index($0, m " ") == 1) && (f == "" || $0 ~ f) { s += $NF; n++ }
    END { if (n) printf "%.17g\n", s }' "$1"
}
info_field() {  # FIELD
  redis-cli -p "$REDIS_PORT" INFO all | tr -d '\r' | awk -F: -v f="$1" '$1 == f { v = $2 } END { print v }'
}
scrape_series() {  # NAME URL N: writes "time_total size" lines to WORK/NAME.times
  local name="$1" url="$2" n="$3" i
  : >"$WORK/$name.times"
  for ((i = 0; i < n; i++)); do
    curl -fsS --max-time 10 -o /dev/null -w '%{time_total} %{size_download}\n' "$url" \
      >>"$WORK/$name.times"
  done
}
percentile() {  # FILE P: nearest rank, first column, in ms
  sort -g "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
    r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR; printf "%.2f", v[r] * 1000 }'
}

# --- redis with data and a steady load ------------------------------------------------------------
tacho_start_redis --maxmemory 512mb --slowlog-log-slower-than 1000 >&2
REDIS_PORT=$TACHO_REDIS_PORT
log "loading $KEYS keys"
redis-benchmark -p "$REDIS_PORT" -q -n "$KEYS" -r "$KEYS" -P 50 -t set,lpush,hset,sadd,zadd >/dev/null 2>&1
# One connection (so that connections per scrape can be counted), CLIENT REPLY OFF, a mix of
# reads, writes and an occasional error, at LOAD_RATE commands per second.
tacho_python - "$REDIS_PORT" "$LOAD_RATE" "$KEYS" </dev/null >/dev/null 2>&1 <<'PY' &
import random, socket, sys, time
port, rate, keys = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
def cmd(*a):
    a = [x.encode() if isinstance(x, str) else x for x in a]
    return b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a)
s.sendall(cmd("CLIENT", "SETNAME", "bench-load") + cmd("CLIENT", "REPLY", "OFF"))
batch, tick = max(1, rate // 100), 0.01
while True:
    out = []
    for _ in range(batch):
        k = "key:%012d" % random.randrange(keys)
        r = random.random()
        if r < 0.5: out.append(cmd("GET", k))
        elif r < 0.7: out.append(cmd("SET", k, "x" * 16))
        elif r < 0.8: out.append(cmd("INCR", "counter:%d" % random.randrange(100)))
        elif r < 0.9: out.append(cmd("HSET", "h:%d" % random.randrange(1000), "f", "v"))
        elif r < 0.999: out.append(cmd("LPUSH", "l:%d" % random.randrange(1000), "v"))
        else: out.append(cmd("LPUSH", k, "v"))  # WRONGTYPE
    s.sendall(b"".join(out))
    time.sleep(tick)
PY
LOAD_PID=$!
PIDS_TO_KILL+=("$LOAD_PID"); disown "$LOAD_PID"

# --- exporters ----------------------------------------------------------------------------------
cat >"$WORK/tacho.toml" <<EOF
[agent]
listen = "127.0.0.1:0"
log_level = "warn"

[[collectors.redis]]
name = "bench"
interval = "$INTERVAL"
address = "127.0.0.1:$REDIS_PORT"
EOF
"$TACHO" --config "$WORK/tacho.toml" --listen 127.0.0.1:0 --listen-address-file "$WORK/tacho.addr" \
  </dev/null >"$WORK/tacho.log" 2>&1 &
TACHO_PID=$!
PIDS_TO_KILL+=("$TACHO_PID"); disown "$TACHO_PID"
RE_PORT="$(tacho_free_port)"
"$RE_BIN" -redis.addr "redis://127.0.0.1:$REDIS_PORT" -web.listen-address "127.0.0.1:$RE_PORT" \
  </dev/null >"$WORK/re.log" 2>&1 &
RE_PID=$!
PIDS_TO_KILL+=("$RE_PID"); disown "$RE_PID"

if ! tacho_wait_for 30 test -s "$WORK/tacho.addr"; then
  tail -n 30 "$WORK/tacho.log" >&2; tacho_die "tacho did not start"
fi
TACHO_URL="http://$(head -n 1 "$WORK/tacho.addr" | tr -d '[:space:]')/metrics"
RE_URL="http://127.0.0.1:$RE_PORT/metrics"
tacho_wait_for 30 curl -fsS -o /dev/null "$RE_URL" || { tail -n 30 "$WORK/re.log" >&2; tacho_die "redis_exporter did not start"; }
log "tacho pid $TACHO_PID ($TACHO_URL), redis_exporter pid $RE_PID ($RE_URL), redis :$REDIS_PORT"

sleep 3
for _ in 1 2 3 4 5; do curl -fsS -o /dev/null "$TACHO_URL"; curl -fsS -o /dev/null "$RE_URL"; done
sleep 1
tacho_rss_warm=$(rss_kib "$TACHO_PID"); re_rss_warm=$(rss_kib "$RE_PID")
curl -fsS -o "$WORK/tacho.prom" "$TACHO_URL"
curl -fsS -o "$WORK/re.prom" "$RE_URL"
[ "$(metric_sum "$WORK/tacho.prom" redis_up)" = 1 ] || tacho_die "tacho's redis_up is not 1"
[ "$(metric_sum "$WORK/re.prom" redis_up)" = 1 ] || tacho_die "redis_exporter's redis_up is not 1"
tacho_series=$(grep -vc '^#' "$WORK/tacho.prom" || true)
re_series=$(grep -vc '^#' "$WORK/re.prom" || true)
tacho_redis_series=$(grep -c '^redis_' "$WORK/tacho.prom" || true)
re_redis_series=$(grep -c '^redis_' "$WORK/re.prom" || true)

# --- 1. tacho's background collections, no scrapes ------------------------------------------------
log "idle window: ${IDLE}s without scrapes"
runs_before=$(metric_sum "$WORK/tacho.prom" tacho_collector_runs_total 'target="bench"')
threads0=$(threads "$TACHO_PID")
conn0=$(info_field total_connections_received)
t_cpu0=$(cpu_ns "$TACHO_PID"); r_cpu0=$(cpu_ns "$RE_PID")
sleep "$IDLE"
t_cpu1=$(cpu_ns "$TACHO_PID"); r_cpu1=$(cpu_ns "$RE_PID")
conn1=$(info_field total_connections_received)
[ "$threads0" = "$(threads "$TACHO_PID")" ] || log "warning: tacho's threads changed during the window"
curl -fsS -o "$WORK/tacho-after-idle.prom" "$TACHO_URL"
runs_after=$(metric_sum "$WORK/tacho-after-idle.prom" tacho_collector_runs_total 'target="bench"')
idle_runs=$(awk -v a="$runs_before" -v b="$runs_after" 'BEGIN { print b - a }')
tacho_cpu_per_collection=$(awk -v a="$t_cpu0" -v b="$t_cpu1" -v n="$idle_runs" \
  'BEGIN { if (n <= 0) n = 1; printf "%.3f", (b - a) / 1e6 / n }')
tacho_idle_pct=$(awk -v a="$t_cpu0" -v b="$t_cpu1" -v w="$IDLE" 'BEGIN { printf "%.3f", (b - a) / 1e9 / w * 100 }')
re_idle_pct=$(awk -v a="$r_cpu0" -v b="$r_cpu1" -v w="$IDLE" 'BEGIN { printf "%.3f", (b - a) / 1e9 / w * 100 }')
tacho_conns_per_collection=$(awk -v a="$conn0" -v b="$conn1" -v n="$idle_runs" 'BEGIN { printf "%.2f", (b - a - 2) / n }')
tacho_conns_per_collection=$(awk -v v="$tacho_conns_per_collection" 'BEGIN { printf "%.2f", v < 0 ? 0 : v }')

# --- 2. scrapes -----------------------------------------------------------------------------------
log "$SCRAPES sequential scrapes of tacho"
curl -fsS -o "$WORK/tacho-before-scrapes.prom" "$TACHO_URL"
runs_s0=$(metric_sum "$WORK/tacho-before-scrapes.prom" tacho_collector_runs_total 'target="bench"')
c0=$(cpu_ns "$TACHO_PID")
scrape_series tacho "$TACHO_URL" "$SCRAPES"
c1=$(cpu_ns "$TACHO_PID")
curl -fsS -o "$WORK/tacho-after-scrapes.prom" "$TACHO_URL"
runs_s1=$(metric_sum "$WORK/tacho-after-scrapes.prom" tacho_collector_runs_total 'target="bench"')
bg_runs=$(awk -v a="$runs_s0" -v b="$runs_s1" 'BEGIN { print b - a }')
tacho_cpu_per_scrape=$(awk -v a="$c0" -v b="$c1" -v n="$SCRAPES" -v r="$bg_runs" \
  -v per="$tacho_cpu_per_collection" 'BEGIN { v = ((b - a) / 1e6 - r * per) / n; if (v < 0) v = 0; printf "%.3f", v }')

log "$SCRAPES sequential scrapes of redis_exporter"
conn0=$(info_field total_connections_received)
c0=$(cpu_ns "$RE_PID")
scrape_series re "$RE_URL" "$SCRAPES"
c1=$(cpu_ns "$RE_PID")
conn1=$(info_field total_connections_received)
re_cpu_per_scrape=$(awk -v a="$c0" -v b="$c1" -v n="$SCRAPES" 'BEGIN { printf "%.3f", (b - a) / 1e6 / n }')
re_conns_per_collection=$(awk -v a="$conn0" -v b="$conn1" -v n="$SCRAPES" 'BEGIN { printf "%.2f", (b - a - 1) / n }')

tacho_rss_end=$(rss_kib "$TACHO_PID"); re_rss_end=$(rss_kib "$RE_PID")
tacho_anon_end=$(rss_anon_kib "$TACHO_PID"); re_anon_end=$(rss_anon_kib "$RE_PID")
tacho_pss_end=$(pss_kib "$TACHO_PID"); re_pss_end=$(pss_kib "$RE_PID")

# The same binary with no collector at all: how much of tacho's RSS is the agent and its shared
# libraries rather than the redis collector.
printf '[agent]\nlisten = "127.0.0.1:0"\nlog_level = "warn"\n' >"$WORK/empty.toml"
"$TACHO" --config "$WORK/empty.toml" </dev/null >/dev/null 2>&1 &
EMPTY_PID=$!
PIDS_TO_KILL+=("$EMPTY_PID"); disown "$EMPTY_PID"
sleep 3
empty_rss=$(rss_kib "$EMPTY_PID"); empty_anon=$(rss_anon_kib "$EMPTY_PID")
kill -TERM "$EMPTY_PID" 2>/dev/null || true

# --- report ---------------------------------------------------------------------------------------
tacho_bytes=$(awk '{ s += $2 } END { printf "%d", s / NR }' "$WORK/tacho.times")
re_bytes=$(awk '{ s += $2 } END { printf "%d", s / NR }' "$WORK/re.times")
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "-" || b + 0 == 0) { print "-"; exit }
    r = a / b; if (r >= 0.1) printf "%.2f", r; else printf "%.2g", r }'
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
interval_s=$(awk -v i="$INTERVAL" 'BEGIN { v = i + 0; if (i ~ /ms$/) v /= 1000; else if (i ~ /m$/) v *= 60; print v }')
tacho_1s_pct=$(awk -v c="$tacho_cpu_per_collection" -v s="$tacho_cpu_per_scrape" -v i="$interval_s" \
  'BEGIN { printf "%.3f", (c / i + s) / 10 }')
re_1s_pct=$(awk -v s="$re_cpu_per_scrape" 'BEGIN { printf "%.3f", s / 10 }')

rows=(
  "scrape latency p50 (ms)|$(percentile "$WORK/tacho.times" 50)|$(percentile "$WORK/re.times" 50)"
  "scrape latency p90 (ms)|$(percentile "$WORK/tacho.times" 90)|$(percentile "$WORK/re.times" 90)"
  "scrape latency p99 (ms)|$(percentile "$WORK/tacho.times" 99)|$(percentile "$WORK/re.times" 99)"
  "CPU per collection (ms)|$tacho_cpu_per_collection|$re_cpu_per_scrape"
  "CPU per scrape (ms)|$tacho_cpu_per_scrape|$re_cpu_per_scrape"
  "CPU, fresh data every 1 s (% core)|$tacho_1s_pct|$re_1s_pct"
  "CPU with no scrapes (% core)|$tacho_idle_pct|$re_idle_pct"
  "RSS after warm-up (MiB)|$(mib "$tacho_rss_warm")|$(mib "$re_rss_warm")"
  "RSS at end (MiB)|$(mib "$tacho_rss_end")|$(mib "$re_rss_end")"
  "RssAnon at end (MiB)|$(mib "$tacho_anon_end")|$(mib "$re_anon_end")"
  "PSS at end (MiB)|$(mib "$tacho_pss_end")|$(mib "$re_pss_end")"
  "Redis connections per collection|$tacho_conns_per_collection|$re_conns_per_collection"
  "body bytes|$tacho_bytes|$re_bytes"
  "samples in body (redis_*)|$tacho_series ($tacho_redis_series)|$re_series ($re_redis_series)|-"
)

echo
echo "redis collector benchmark: redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), $KEYS keys, ~$LOAD_RATE commands/s of load, $SCRAPES sequential scrapes each, $(nproc) CPUs"
echo "tacho: $("$TACHO" --version 2>/dev/null | head -n 1), interval $INTERVAL; redis_exporter $("$RE_BIN" -version 2>&1 | sed -n 's/.*Exporter \([^ ]*\).*/\1/p' | head -n 1)"
echo
printf '| %-36s | %12s | %14s | %12s |\n' "metric" "tacho" "redis_exporter" "tacho / r-e"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..38})" "$(printf -- '-%.0s' {1..13}):" \
  "$(printf -- '-%.0s' {1..15}):" "$(printf -- '-%.0s' {1..13}):"
for row in "${rows[@]}"; do
  IFS='|' read -r name a b r <<<"$row"
  printf '| %-36s | %12s | %14s | %12s |\n' "$name" "$a" "$b" "${r:-$(ratio "$a" "$b")}"
done
echo
echo "tacho collections: $idle_runs in the ${IDLE}s scrape-free window, $bg_runs during its $SCRAPES scrapes; CPU from /proc/<pid>/task/*/schedstat (ns)."
echo "tacho with no collector configured: RSS $(mib "$empty_rss") MiB (RssAnon $(mib "$empty_anon") MiB): the redis collector adds $(mib $((tacho_rss_end - empty_rss))) MiB."
echo "redis_exporter collects on every scrape (a new connection, AUTH-less here, CONFIG GET *, INFO ALL, SLOWLOG, LATENCY): its CPU per collection is its CPU per scrape."
