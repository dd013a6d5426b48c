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
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

SCRAPES="${BENCH_SCRAPES:-200}"
SCRAPE_SECONDS=""  # no time cap: all SCRAPES
SCRAPE_TIMEOUT=10
IDLE="${BENCH_IDLE_SECONDS:-30}"
INTERVAL="${BENCH_INTERVAL:-1s}"
KEYS="${BENCH_KEYS:-100000}"
LOAD_RATE="${BENCH_LOAD_RATE:-5000}"
MAX_SECONDS="${BENCH_MAX_SECONDS:-170}"
RE_BIN=/usr/bin/prometheus-redis-exporter

bench_cleanup_on_exit
bench_time_limit "$MAX_SECONDS"

# --- prerequisites ------------------------------------------------------------------------------
bench_install_deps
require_bin "$RE_BIN" prometheus-redis-exporter
find_tacho
bench_workdir tacho-redis-bench

# --- helpers ------------------------------------------------------------------------------------
info_field() {  # FIELD
  redis-cli -p "$REDIS_PORT" INFO all | tr -d '\r' | awk -F: -v f="$1" '$1 == f { v = $2 } END { print v }'
}

# --- redis with data and a steady load ------------------------------------------------------------
tacho_start_redis --maxmemory 512mb --slowlog-log-slower-than 1000 >&2
REDIS_PORT=$TACHO_REDIS_PORT
log "loading $KEYS keys"
redis-benchmark -p "$REDIS_PORT" -q -n "$KEYS" -r "$KEYS" -P 50 -t set,lpush,hset,sadd,zadd >/dev/null 2>&1
# One connection (so that connections per scrape can be counted), CLIENT REPLY OFF, a mix of
# reads, writes and an occasional error, at LOAD_RATE commands per second.
"$(tacho_python_bin)" - "$REDIS_PORT" "$LOAD_RATE" "$KEYS" </dev/null >/dev/null 2>&1 <<'PY' &
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
track_pid "$LOAD_PID"

# --- exporters ----------------------------------------------------------------------------------
tacho_agent_config "$WORK/tacho.toml" "$WORK/state" warn <<EOF
[[collectors.redis]]
name = "bench"
interval = "$INTERVAL"
address = "127.0.0.1:$REDIS_PORT"
EOF
start_tacho "$WORK/tacho.toml" "$WORK/tacho.log" --listen 127.0.0.1:0
RE_PORT="$(tacho_free_port)"
"$RE_BIN" -redis.addr "redis://127.0.0.1:$REDIS_PORT" -web.listen-address "127.0.0.1:$RE_PORT" \
  </dev/null >"$WORK/re.log" 2>&1 &
RE_PID=$!
track_pid "$RE_PID"
RE_URL="http://127.0.0.1:$RE_PORT/metrics"
wait_for_exporter "$RE_URL" "$WORK/re.log" redis_exporter
log "tacho pid $TACHO_PID ($TACHO_URL), redis_exporter pid $RE_PID ($RE_URL), redis :$REDIS_PORT"

warm_up 5 "$TACHO_URL" "$RE_URL"
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
tacho_cpu_per_collection=$(cpu_ms_per $((t_cpu1 - t_cpu0)) 1e9 "$idle_runs")
tacho_idle_pct=$(cpu_pct $((t_cpu1 - t_cpu0)) 1e9 "$IDLE" 3)
re_idle_pct=$(cpu_pct $((r_cpu1 - r_cpu0)) 1e9 "$IDLE" 3)
tacho_conns_per_collection=$(awk -v a="$conn0" -v b="$conn1" -v n="$idle_runs" 'BEGIN { printf "%.2f", (b - a - 2) / n }')
tacho_conns_per_collection=$(awk -v v="$tacho_conns_per_collection" 'BEGIN { printf "%.2f", v < 0 ? 0 : v }')

# --- 2. scrapes -----------------------------------------------------------------------------------
log "$SCRAPES sequential scrapes of tacho"
measure_tacho_scrapes "$SCRAPES" cpu_ns 'target="bench"' "$tacho_cpu_per_collection"
bg_runs=$BG_RUNS; tacho_cpu_per_scrape=$TACHO_CPU_PER_SCRAPE

log "$SCRAPES sequential scrapes of redis_exporter"
conn0=$(info_field total_connections_received)
measure_scrapes re "$RE_URL" "$RE_PID" "$SCRAPES" cpu_ns
conn1=$(info_field total_connections_received)
re_cpu_per_scrape=$SCRAPE_CPU_MS
re_conns_per_collection=$(awk -v a="$conn0" -v b="$conn1" -v n="$SCRAPES" 'BEGIN { printf "%.2f", (b - a - 1) / n }')

tacho_rss_end=$(rss_kib "$TACHO_PID"); re_rss_end=$(rss_kib "$RE_PID")
tacho_anon_end=$(rss_anon_kib "$TACHO_PID"); re_anon_end=$(rss_anon_kib "$RE_PID")
tacho_pss_end=$(pss_kib "$TACHO_PID"); re_pss_end=$(pss_kib "$RE_PID")

# The part of tacho's RSS that is the agent and its shared libraries rather than the redis collector.
bare_tacho_rss

# --- report ---------------------------------------------------------------------------------------
tacho_bytes=$(mean_bytes "$WORK/tacho.times")
re_bytes=$(mean_bytes "$WORK/re.times")

mapfile -t latency < <(latency_rows "$WORK/tacho.times" "$WORK/re.times" 50 90 99)
mapfile -t cpu < <(cpu_rows 3 "$tacho_cpu_per_collection" "$tacho_cpu_per_scrape" "$re_cpu_per_scrape")
rows=(
  "${latency[@]}"
  "${cpu[@]}"
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
TABLE_COLUMNS=(36 12: 14: 12:)
print_table "metric|tacho|redis_exporter|tacho / r-e" "${rows[@]}"
echo
echo "tacho collections: $idle_runs in the ${IDLE}s scrape-free window, $bg_runs during its $SCRAPES scrapes; CPU from /proc/<pid>/task/*/schedstat (ns)."
echo "tacho with no collector configured: RSS $(mib "$BARE_RSS") MiB (RssAnon $(mib "$BARE_ANON") MiB): the redis collector adds $(mib $((tacho_rss_end - BARE_RSS))) MiB."
echo "redis_exporter collects on every scrape (a new connection, AUTH-less here, CONFIG GET *, INFO ALL, SLOWLOG, LATENCY): its CPU per collection is its CPU per scrape."
