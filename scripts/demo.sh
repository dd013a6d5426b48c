#!/usr/bin/env bash
# Runs tacho against throwaway PostgreSQL, PgBouncer and Redis servers under light load.
#
#   scripts/demo.sh            # until Ctrl-C
#
# Environment:
#   TACHO_DEMO_SECONDS=N   stop by itself after N seconds (non-interactive runs)
#   TACHO_LISTEN=H:P       address for tacho's HTTP server (default 127.0.0.1:0: any free port)
#   TACHO_BUILD_DIR=DIR    build directory (default build/)
#   TACHO_BIN=PATH         use this tacho binary instead of building one
#   TACHO_SKIP_DEPS=1      don't run scripts/install-deps.sh
#
# It installs the Debian packages it needs, builds the tacho binary, starts the servers on free
# loopback ports (files in temporary directories), puts a little load on them (pgbench at a
# limited rate, redis-benchmark in small bursts), starts tacho with its embedded default
# configuration (which watches tacho itself and local postgres, redis-server and pgbouncer
# processes), prints its URLs and then a short summary of its metrics every 5 seconds.
# Everything it started is stopped on exit, Ctrl-C or TERM.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib/servers.sh
source "$ROOT/scripts/lib/servers.sh"

BUILD_DIR="${TACHO_BUILD_DIR:-build}"
LISTEN="${TACHO_LISTEN:-127.0.0.1:0}"
DEMO_SECONDS="${TACHO_DEMO_SECONDS:-0}"
case "$DEMO_SECONDS" in ''|*[!0-9]*) tacho_die "TACHO_DEMO_SECONDS must be a number of seconds" ;; esac

# --- cleanup: load generators first, then tacho, then the servers ---------------------------
WORK=""
LOAD_GROUPS=()
TACHO_PID=""
cleaned=0
demo_cleanup() {
  if [ "$cleaned" = 1 ]; then return 0; fi
  cleaned=1
  local g
  for g in "${LOAD_GROUPS[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  if [ -n "$TACHO_PID" ]; then
    kill -TERM "$TACHO_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$TACHO_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$TACHO_PID" 2>/dev/null || true
    wait "$TACHO_PID" 2>/dev/null || true
  fi
  for g in "${LOAD_GROUPS[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
  tacho_stop_all
  if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
}
trap demo_cleanup EXIT
trap 'echo; echo "stopping..."; exit 130' INT
trap 'exit 143' TERM

# Runs a shell snippet in its own process group (so the whole load loop, children included,
# can be stopped at once) with stdio detached.
spawn_group() {
  setsid bash -c "$1" </dev/null >/dev/null 2>&1 &
  LOAD_GROUPS+=("$!")
}

# --- build --------------------------------------------------------------------------------------
if [ "${TACHO_SKIP_DEPS:-0}" != 1 ]; then bash "$ROOT/scripts/install-deps.sh"; fi
if [ -n "${TACHO_BIN:-}" ]; then
  TACHO="$TACHO_BIN"
else
  echo "=== building tacho in $BUILD_DIR/"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" --target tacho -j "$(tacho_jobs)"
  TACHO="$ROOT/$BUILD_DIR/agent/tacho"
  [[ "$BUILD_DIR" = /* ]] && TACHO="$BUILD_DIR/agent/tacho"
fi
[ -x "$TACHO" ] || tacho_die "no tacho binary at $TACHO"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tacho-demo.XXXXXX")"

# --- servers and load ---------------------------------------------------------------------------
echo "=== starting servers"
tacho_start_postgres
tacho_start_pgbouncer
tacho_start_redis

PGBENCH="$TACHO_PG_BIN/pgbench"
echo "=== pgbench -i (scale 1)"
"$PGBENCH" -i -s 1 -q -h 127.0.0.1 -p "$TACHO_PG_PORT" -U postgres tacho_test >"$WORK/pgbench-init.log" 2>&1 ||
  { cat "$WORK/pgbench-init.log" >&2; tacho_die "pgbench -i failed"; }

# ~20 transactions/s straight to PostgreSQL, ~10/s through PgBouncer, a few hundred Redis
# commands per second in bursts.
spawn_group "while :; do '$PGBENCH' -n -c 2 -j 1 -R 20 -T 60 -h 127.0.0.1 -p $TACHO_PG_PORT -U postgres tacho_test || sleep 1; done"
spawn_group "while :; do '$PGBENCH' -n -c 2 -j 1 -R 10 -T 60 -S -h 127.0.0.1 -p $TACHO_PGB_PORT -U postgres tacho_test || sleep 1; done"
spawn_group "while :; do redis-benchmark -h 127.0.0.1 -p $TACHO_REDIS_PORT -c 2 -n 400 -q -t set,get,incr,lpush || true; sleep 1; done"

# --- tacho --------------------------------------------------------------------------------------
echo "=== starting tacho (embedded default configuration) on $LISTEN"
"$TACHO" --listen "$LISTEN" --listen-address-file "$WORK/address" \
  </dev/null >"$WORK/tacho.log" 2>&1 &
TACHO_PID=$!
if ! tacho_wait_for 30 test -s "$WORK/address"; then
  echo "tacho did not report its address within 30 s; its log:" >&2
  tail -n 50 "$WORK/tacho.log" >&2
  exit 1
fi
ADDR="$(head -n 1 "$WORK/address" | tr -d '[:space:]')"
BASE="http://$ADDR"
tacho_wait_for 10 curl -fsS "$BASE/healthz" || true

cat <<EOF

$("$TACHO" --version 2>/dev/null | head -n 1) is running (pid $TACHO_PID, log $WORK/tacho.log)
  $BASE/                 overview
  $BASE/metrics          Prometheus exposition
  $BASE/api/v1/status    collectors, last runs, errors (JSON)
  $BASE/healthz          liveness

Watched servers (throwaway, with light load):
  PostgreSQL 15  127.0.0.1:$TACHO_PG_PORT   psql "$TACHO_PG_DSN"
  PgBouncer      127.0.0.1:$TACHO_PGB_PORT   psql "$TACHO_PGB_ADMIN_DSN"
  Redis          $TACHO_REDIS_ADDR   redis-cli -p $TACHO_REDIS_PORT

EOF
if [ "$DEMO_SECONDS" -gt 0 ]; then
  echo "Summary every 5 s for ${DEMO_SECONDS} s (TACHO_DEMO_SECONDS)."
else
  echo "Summary every 5 s. Ctrl-C to stop everything."
fi

# --- live summary -------------------------------------------------------------------------------
# Prints one block from a /metrics body: per group procs, CPU and resident memory; then tacho's
# own RSS and CPU. tacho collects in the background (every 15 s with the embedded default), so
# CPU % is computed between two collections, timed by tacho_collector_last_success_timestamp_seconds,
# and repeated until the next collection.
declare -A PREV_CPU=() PREV_PCT=()
PREV_COLLECTED=""
summary() {
  local body="$1" scrape_s="$2"
  local lines
  lines=$(awk '
    function label(s, k) {
      if (match(s, k "=\"[^\"]*\"")) return substr(s, RSTART + length(k) + 2, RLENGTH - length(k) - 3)
      return ""
    }
    /^#/ { next }
    /^namedprocess_namegroup_num_procs\{/ { g = label($0, "groupname"); procs[g] = $NF; seen[g] = 1 }
    /^namedprocess_namegroup_cpu_seconds_total\{/ { g = label($0, "groupname"); cpu[g] += $NF; seen[g] = 1 }
    /^namedprocess_namegroup_memory_bytes\{/ {
      if (label($0, "memtype") == "resident") { g = label($0, "groupname"); rss[g] += $NF; seen[g] = 1 }
    }
    /^tacho_collector_last_success_timestamp_seconds\{/ { if ($NF > ts) ts = $NF }
    /^tacho_collector_runs_total\{/ { runs += $NF }
    /^process_resident_memory_bytes[ {]/ { self_rss = $NF }
    /^process_cpu_seconds_total[ {]/ { self_cpu = $NF }
    END {
      for (g in seen) printf "G %s %s %s %s\n", g, procs[g] + 0, cpu[g] + 0, rss[g] + 0
      printf "S %s %s %.3f %d\n", self_rss + 0, self_cpu + 0, ts + 0, runs + 0
    }' <<<"$body")
  local kind g procs cpu rss pct collected runs
  read -r kind rss cpu collected runs < <(grep '^S ' <<<"$lines")
  local self_rss="$rss" self_cpu="$cpu" new=0
  if [ "$collected" != "$PREV_COLLECTED" ]; then new=1; fi
  printf '\n[%s] scrape %.1f ms, %d bytes; %d collections so far, last at %s\n' "$(date +%H:%M:%S)" \
    "$(awk -v s="$scrape_s" 'BEGIN { print s * 1000 }')" "${#body}" "$runs" \
    "$(date -d "@${collected%.*}" +%H:%M:%S 2>/dev/null || echo '?')"
  printf '  %-14s %6s %9s %8s %10s\n' group procs "cpu s" "cpu %" "rss MiB"
  while read -r kind g procs cpu rss; do
    [ "$kind" = G ] || continue
    if [ "$new" = 1 ] && [ -n "$PREV_COLLECTED" ] && [ -n "${PREV_CPU[$g]:-}" ]; then
      PREV_PCT[$g]=$(awk -v a="${PREV_CPU[$g]}" -v b="$cpu" -v t0="$PREV_COLLECTED" -v t1="$collected" \
        'BEGIN { d = t1 - t0; if (d <= 0) { print "-"; exit } printf "%.1f", 100 * (b - a) / d }')
    fi
    PREV_CPU[$g]="$cpu"
    pct="${PREV_PCT[$g]:--}"
    printf '  %-14s %6s %9.2f %8s %10.1f\n' "$g" "$procs" "$cpu" "$pct" \
      "$(awk -v r="$rss" 'BEGIN { print r / 1048576 }')"
  done < <(grep '^G ' <<<"$lines" | sort -k2)
  printf '  tacho itself: rss %.1f MiB, cpu %.2f s total\n' \
    "$(awk -v r="$self_rss" 'BEGIN { print r / 1048576 }')" "$self_cpu"
  PREV_COLLECTED="$collected"
}

start=$SECONDS
while :; do
  if ! kill -0 "$TACHO_PID" 2>/dev/null; then
    echo "tacho exited unexpectedly; its log:" >&2
    tail -n 50 "$WORK/tacho.log" >&2
    exit 1
  fi
  if out=$(curl -fsS --max-time 10 -w '\n%{time_total}' "$BASE/metrics" 2>&1); then
    summary "$(sed '$d' <<<"$out")" "$(tail -n 1 <<<"$out")"
  else
    echo "scrape failed: $out" >&2
  fi
  if [ "$DEMO_SECONDS" -gt 0 ] && [ $((SECONDS - start)) -ge "$DEMO_SECONDS" ]; then break; fi
  sleep 5
done
echo
echo "demo finished after $((SECONDS - start)) s; stopping everything"
