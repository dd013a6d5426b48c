#!/usr/bin/env bash
# Integration test of scripts/lib/servers.sh and of tacho's process collector against real
# servers from Debian packages.
#
#   tests/integration/servers_test.sh [PATH_TO_TACHO]
#
# Part 1 starts PostgreSQL 15, two Redis servers (one with a password and a renamed command)
# and two PgBouncers (trust and md5) through servers.sh and checks that each answers.
# Part 2 (only with PATH_TO_TACHO) runs `tacho --once` with a process collector whose groups
# match those servers and checks the exposition (num_procs >= 1 per group, promtool accepts it).
# Part 3 stops everything and checks that no process, temporary directory or port reservation
# is left. Ends with "N passed, M failed"; exits non-zero if anything failed.
set -euo pipefail

TACHO="${1:-}"

# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
check_begin tacho-servers-test

listening() {  # PORT: something listens on it (TIME_WAIT leftovers don't count)
  local hex
  hex=$(printf ':%04X' "$1")
  awk -v h="$hex" '$4 == "0A" && substr($2, length($2) - 4) == h { f = 1 } END { exit !f }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

alive() {  # PID: running and not a zombie
  local state
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
  state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

PSQL=(/usr/lib/postgresql/15/bin/psql -X -q -At -v ON_ERROR_STOP=1)
export PGCONNECT_TIMEOUT=5

echo "=== part 1: servers.sh starts real servers"
start_ok=1
tacho_start_postgres || start_ok=0
if [ "$start_ok" = 1 ]; then pass "tacho_start_postgres"; else fail "tacho_start_postgres"; fi
PG_PID="${TACHO_PG_PID:-}"; PG_DIR="${TACHO_PG_DIR:-}"; PG_PORT="${TACHO_PG_PORT:-}"

REDIS_PIDS=(); REDIS_DIRS=(); REDIS_PORTS=()
if tacho_start_redis; then
  pass "tacho_start_redis"
  REDIS_PIDS+=("$TACHO_REDIS_PID"); REDIS_DIRS+=("$TACHO_REDIS_DIR"); REDIS_PORTS+=("$TACHO_REDIS_PORT")
  check_output "redis answers PING" '^PONG$' redis-cli -h 127.0.0.1 -p "$TACHO_REDIS_PORT" PING
  check_output "TACHO_REDIS_ADDR is 127.0.0.1:port" "^127\.0\.0\.1:$TACHO_REDIS_PORT\$" echo "$TACHO_REDIS_ADDR"
  check_output "redis has no persistence" '^save=,appendonly=no$' bash -c \
    'printf "save=%s,appendonly=%s\n" "$(redis-cli -p "$1" CONFIG GET save | sed -n 2p)" \
       "$(redis-cli -p "$1" CONFIG GET appendonly | sed -n 2p)"' _ "$TACHO_REDIS_PORT"
  PLAIN_REDIS_PORT="$TACHO_REDIS_PORT"
else
  fail "tacho_start_redis"
fi

if tacho_start_redis --requirepass s3cret --rename-command CONFIG ""; then
  pass "tacho_start_redis with extra arguments"
  REDIS_PIDS+=("$TACHO_REDIS_PID"); REDIS_DIRS+=("$TACHO_REDIS_DIR"); REDIS_PORTS+=("$TACHO_REDIS_PORT")
  check_output "redis with requirepass refuses PING without auth" 'NOAUTH' \
    redis-cli -p "$TACHO_REDIS_PORT" PING
  check_output "redis with requirepass answers PING with auth" '^PONG$' \
    redis-cli -p "$TACHO_REDIS_PORT" -a s3cret --no-auth-warning PING
  check_output "redis rename-command CONFIG applied" 'unknown command' \
    redis-cli -p "$TACHO_REDIS_PORT" -a s3cret --no-auth-warning CONFIG GET maxmemory
  if [ -n "${PLAIN_REDIS_PORT:-}" ] && [ "$PLAIN_REDIS_PORT" != "$TACHO_REDIS_PORT" ]; then
    pass "two redis servers got different ports"
  else
    fail "two redis servers got different ports"
  fi
else
  fail "tacho_start_redis with extra arguments"
fi

PGB_PIDS=(); PGB_DIRS=(); PGB_PORTS=()
if [ "$start_ok" = 1 ]; then
  check_output "postgres answers" '^1$' "${PSQL[@]}" "$TACHO_PG_DSN" -c 'SELECT 1'
  check_output "pg_stat_statements is queryable" '^[0-9]+$' \
    "${PSQL[@]}" "$TACHO_PG_DSN" -c 'SELECT count(*) FROM pg_stat_statements'
  check_output "pg_stat_statements settings" '^10000\|all\|on\|off$' "${PSQL[@]}" "$TACHO_PG_DSN" \
    -c "SELECT current_setting('pg_stat_statements.max') || '|' ||
               current_setting('pg_stat_statements.track') || '|' ||
               current_setting('track_io_timing') || '|' || current_setting('fsync')"
  check_output "postgres listens on 127.0.0.1 only" '^127\.0\.0\.1$' \
    "${PSQL[@]}" "$TACHO_PG_DSN" -c 'SHOW listen_addresses'
  check_output "scram password user connects" '^tacho$' \
    "${PSQL[@]}" "$TACHO_PG_PASSWORD_DSN" -c 'SELECT current_user'
  check_output "md5 password user connects" '^tacho_md5$' \
    "${PSQL[@]}" "$TACHO_PG_MD5_DSN" -c 'SELECT current_user'
  check_fails "password user is refused with a wrong password" 'authentication failed' \
    "${PSQL[@]}" "host=127.0.0.1 port=$TACHO_PG_PORT user=tacho password=wrong dbname=tacho_test" \
    -c 'SELECT 1'
  check_output "postmaster pid matches TACHO_PG_PID" '^postgres$' cat "/proc/$TACHO_PG_PID/comm"

  if tacho_start_pgbouncer; then
    pass "tacho_start_pgbouncer (trust)"
    PGB_PIDS+=("$TACHO_PGB_PID"); PGB_DIRS+=("$TACHO_PGB_DIR"); PGB_PORTS+=("$TACHO_PGB_PORT")
    check_output "pgbouncer admin SHOW POOLS" 'pgbouncer' "${PSQL[@]}" "$TACHO_PGB_ADMIN_DSN" -c 'SHOW POOLS'
    check_output "query through pgbouncer" '^tacho_test$' \
      "${PSQL[@]}" "host=127.0.0.1 port=$TACHO_PGB_PORT dbname=tacho_test user=postgres" \
      -c 'SELECT current_database()'
    check_output "pgbouncer runs as postgres" '^postgres$' ps -o user= -p "$TACHO_PGB_PID"
  else
    fail "tacho_start_pgbouncer (trust)"
  fi
  if tacho_start_pgbouncer --auth md5 --pool-size 3; then
    pass "tacho_start_pgbouncer (md5, pool size 3)"
    PGB_PIDS+=("$TACHO_PGB_PID"); PGB_DIRS+=("$TACHO_PGB_DIR"); PGB_PORTS+=("$TACHO_PGB_PORT")
    check_output "pgbouncer md5 admin SHOW POOLS" 'pgbouncer' \
      "${PSQL[@]}" "$TACHO_PGB_ADMIN_DSN" -c 'SHOW POOLS'
    check_output "pgbouncer md5 stats user SHOW STATS" 'tacho_test|pgbouncer' \
      "${PSQL[@]}" "$TACHO_PGB_STATS_DSN" -c 'SHOW STATS'
    check_output "pgbouncer md5 config" 'default_pool_size\|3' \
      "${PSQL[@]}" "$TACHO_PGB_ADMIN_DSN" -c 'SHOW CONFIG'
    check_output "pgbouncer md5 pool_mode transaction" 'pool_mode\|transaction' \
      "${PSQL[@]}" "$TACHO_PGB_ADMIN_DSN" -c 'SHOW CONFIG'
    check_output "scram user through pgbouncer md5" '^tacho$' \
      "${PSQL[@]}" "$TACHO_PGB_DSN" -c 'SELECT current_user'
    check_fails "pgbouncer md5 refuses a wrong password" 'password authentication failed' \
      "${PSQL[@]}" "host=127.0.0.1 port=$TACHO_PGB_PORT dbname=pgbouncer user=tacho_admin password=wrong" \
      -c 'SHOW POOLS'
  else
    fail "tacho_start_pgbouncer (md5, pool size 3)"
  fi
fi

check_output "tacho_promtool finds promtool" 'promtool' tacho_promtool

echo "=== part 2: tacho --once sees the servers"
if [ -z "$TACHO" ]; then
  echo "SKIP: no tacho binary given (pass its path as the first argument)"
elif [ ! -x "$TACHO" ]; then
  fail "tacho binary $TACHO is executable"
else
  tacho_agent_config "$WORK/tacho.toml" "$WORK/state" warn <<EOF
[[collectors.process]]
name = "servers"
interval = "1s"

[[collectors.process.groups]]
name = "postgres"
comm = ["postgres"]

[[collectors.process.groups]]
name = "redis"
comm = ["redis-server"]

[[collectors.process.groups]]
name = "pgbouncer"
comm = ["pgbouncer"]
EOF
  check "tacho --check-config accepts the config" "$TACHO" --check-config "$WORK/tacho.toml"
  rc=0
  timeout 60 "$TACHO" --config "$WORK/tacho.toml" --once >"$WORK/once.prom" 2>"$WORK/once.err" || rc=$?
  if [ "$rc" = 0 ]; then pass "tacho --once exits 0"
  else fail "tacho --once exits 0 (exit $rc)" "$(tail -n 30 "$WORK/once.err")"; fi

  # num_procs of a group, from the exposition (labels in any order).
  group_value() {  # METRIC GROUP [EXTRA_LABEL_REGEX]
    awk -v m="$1" -v g="groupname=\"$2\"" -v x="${3:-}" '
      index($0, m "{") == 1 && index($0, g) && (x == "" || $0 ~ x) { print $NF; exit }' \
      "$WORK/once.prom"
  }
  for g in postgres redis pgbouncer; do
    v=$(group_value namedprocess_namegroup_num_procs "$g")
    if [ -n "$v" ] && awk -v v="$v" 'BEGIN { exit !(v >= 1) }'; then
      pass "namedprocess_namegroup_num_procs{groupname=\"$g\"} = $v >= 1"
    else
      fail "namedprocess_namegroup_num_procs{groupname=\"$g\"} >= 1 (got '${v}')" \
        "$(grep -E "num_procs" "$WORK/once.prom" | head -n 10)"
    fi
  done
  # Our PostgreSQL alone has a postmaster and at least 4 background processes.
  v=$(group_value namedprocess_namegroup_num_procs postgres)
  if [ -n "$v" ] && awk -v v="$v" 'BEGIN { exit !(v >= 5) }'; then
    pass "postgres group counts the background processes ($v >= 5)"
  else
    fail "postgres group counts the background processes (got '${v}', want >= 5)"
  fi
  # We started two of each (the count may be higher if other tests run in parallel).
  for g in redis:${#REDIS_PIDS[@]} pgbouncer:${#PGB_PIDS[@]}; do
    want="${g#*:}"; g="${g%%:*}"
    v=$(group_value namedprocess_namegroup_num_procs "$g")
    if [ -n "$v" ] && awk -v v="$v" -v w="$want" 'BEGIN { exit !(v >= w) }'; then
      pass "$g group counts our $want servers ($v >= $want)"
    else
      fail "$g group counts our $want servers (got '${v}', want >= $want)"
    fi
  done
  v=$(group_value namedprocess_namegroup_memory_bytes redis 'memtype="resident"')
  if [ -n "$v" ] && awk -v v="$v" 'BEGIN { exit !(v > 0) }'; then
    pass "redis resident memory reported ($v bytes)"
  else
    fail "redis resident memory reported (got '${v}')" \
      "$(grep -E "memory_bytes" "$WORK/once.prom" | head -n 10)"
  fi
  if promtool=$(tacho_promtool); then
    check "promtool check metrics accepts tacho's output" \
      bash -c '"$1" check metrics <"$2"' _ "$promtool" "$WORK/once.prom"
  else
    fail "promtool available"
  fi
fi

echo "=== part 3: tacho_stop_all leaves nothing behind"
stop_start=$SECONDS
tacho_stop_all
echo "tacho_stop_all took $((SECONDS - stop_start)) s"
all_pids=("$PG_PID" "${REDIS_PIDS[@]}" "${PGB_PIDS[@]}")
all_dirs=("$PG_DIR" "${REDIS_DIRS[@]}" "${PGB_DIRS[@]}")
all_ports=("$PG_PORT" "${REDIS_PORTS[@]}" "${PGB_PORTS[@]}")
leftover=""
for ((i = 0; i < 50; i++)); do
  leftover=""
  for p in "${all_pids[@]}"; do if [ -n "$p" ] && alive "$p"; then leftover+=" pid:$p"; fi; done
  if [ -n "$PG_DIR" ] && pgrep -f -- "$PG_DIR" >/dev/null 2>&1; then leftover+=" postgres-of:$PG_DIR"; fi
  [ -z "$leftover" ] && break
  sleep 0.1
done
if [ -z "$leftover" ]; then pass "no server process left"; else fail "no server process left:$leftover"; fi
left_dirs=""
for d in "${all_dirs[@]}"; do if [ -n "$d" ] && [ -e "$d" ]; then left_dirs+=" $d"; fi; done
if [ -z "$left_dirs" ]; then pass "no temporary directory left"; else fail "no temporary directory left:$left_dirs"; fi
left_locks=""
for p in "${all_ports[@]}"; do
  if [ -n "$p" ] && [ -e "/tmp/tacho-port-locks/$p" ]; then left_locks+=" $p"; fi
done
if [ -z "$left_locks" ]; then pass "port reservations released"; else fail "port reservations released:$left_locks"; fi
busy=""
for p in "${all_ports[@]}"; do
  if [ -n "$p" ] && listening "$p"; then busy+=" $p"; fi
done
if [ -z "$busy" ]; then pass "ports closed"; else fail "ports closed:$busy"; fi

check_summary
