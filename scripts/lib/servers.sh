# shellcheck shell=bash
# Throwaway servers from Debian 12 packages for tacho's integration tests, demo and benchmarks.
#
# Every server listens on 127.0.0.1 only, on a free port, with all its files in its own
# temporary directory under ${TMPDIR:-/tmp}. Source this file, start what you need, and make sure
# tacho_stop_all runs (tacho_servers_cleanup_on_exit installs a trap for that):
#
#   source scripts/lib/servers.sh
#   tacho_servers_cleanup_on_exit          # EXIT/INT/TERM trap, chained with any existing one
#   tacho_start_postgres                   # -> TACHO_PG_PORT, TACHO_PG_DSN, ...
#   tacho_start_redis --requirepass s3cret # -> TACHO_REDIS_PORT, TACHO_REDIS_ADDR, ...
#   tacho_start_pgbouncer --auth md5       # -> TACHO_PGB_PORT, TACHO_PGB_ADMIN_DSN, ...
#
# Call the start functions directly, never inside $(...) or a pipeline: they export variables
# and record what to stop in this shell. Each started server also gets a small detached
# watchdog that stops it and removes its directory if this shell dies without cleaning up
# (SIGKILL, CTest timeout), so nothing is left running either way. PostgreSQL and Redis
# daemonize; PgBouncer (and Prometheus) stay children of this shell, in their own session so a
# terminal's Ctrl-C doesn't reach them: wait for specific pids, never with a bare `wait`.
#
# Functions (all return non-zero with a message on stderr on failure; set -euo pipefail safe):
#   tacho_free_port               print a free TCP port on 127.0.0.1 (reserved for this shell)
#   tacho_start_postgres [K=V..]  PostgreSQL 15 + pg_stat_statements; extra postgresql.conf lines
#   tacho_start_redis [ARGS..]    redis-server 7; ARGS go to redis-server after the defaults
#   tacho_start_pgbouncer [--auth trust|md5] [--pool-size N] [--pool-mode MODE]
#   tacho_stop_pgbouncer / tacho_resume_pgbouncer   stop it, and start it again on its port
#   tacho_start_prometheus TARGET..  Prometheus scraping TARGET (host:port) every second
#   tacho_promtool                print the path of promtool
#   tacho_pg_tables_sql N         print SQL: tables t_1..t_N, four statement shapes on each
#   tacho_track_pid PID..         have tacho_stop_all kill these too (load generators, agents)
#   tacho_stop_all                stop everything this shell started; idempotent
#   tacho_servers_cleanup_on_exit install the EXIT/INT/TERM trap that calls tacho_stop_all

# Re-sourcing in the same shell keeps the state of the first sourcing.
if [ -n "${_TACHO_SERVERS_SH:-}" ]; then return 0; fi
_TACHO_SERVERS_SH=1

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TACHO_PG_BIN="${TACHO_PG_BIN:-/usr/lib/postgresql/15/bin}"
# Port reservations live in one fixed place so that parallel runs with different TMPDIRs see
# each other's.
_TACHO_PORT_LOCKS="/tmp/tacho-port-locks"
# The shell whose death means "stop everything": the script that sourced this file.
_TACHO_OWNER="${TACHO_SERVERS_OWNER_PID:-$$}"
_TACHO_SRV_DIRS=()
_TACHO_TRACKED_PIDS=()

_tacho_is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as the postgres OS user (PostgreSQL and PgBouncer refuse to run as root).
_tacho_as_pg() {
  if _tacho_is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

_tacho_pgbouncer_bin() {
  if command -v pgbouncer >/dev/null 2>&1; then command -v pgbouncer
  elif [ -x /usr/sbin/pgbouncer ]; then echo /usr/sbin/pgbouncer
  else echo "servers.sh: pgbouncer not found (Debian package pgbouncer)" >&2; return 1; fi
}

# ---------------------------------------------------------------------------------------------
# Ports

# True if nothing holds 127.0.0.1:PORT (listening or otherwise bound).
_tacho_port_is_free() {
  local port="$1"
  if [ -x /usr/bin/python3 ] || command -v python3 >/dev/null 2>&1; then
    tacho_python - "$port" <<'PY' 2>/dev/null
import socket, sys
port = int(sys.argv[1])
for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "0.0.0.0")):
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.bind((addr, port))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
PY
    return $?
  fi
  # Without Python: the port must not appear as a local port in /proc/net/tcp{,6}.
  local hex
  hex=$(printf ':%04X ' "$port")
  ! grep -qs -- "$hex" /proc/net/tcp /proc/net/tcp6
}

# Reserves PORT for this shell (atomic mkdir); 1 if another live shell holds it.
_tacho_reserve_port() {
  local port="$1" lock="$_TACHO_PORT_LOCKS/$1" owner
  mkdir -p "$_TACHO_PORT_LOCKS" 2>/dev/null || true
  chmod 1777 "$_TACHO_PORT_LOCKS" 2>/dev/null || true
  if mkdir "$lock" 2>/dev/null; then
    echo "$_TACHO_OWNER" >"$lock/owner"
    return 0
  fi
  # Held: reclaim it only if its owner is gone (atomic rename so two reclaimers can't both win).
  owner=$(cat "$lock/owner" 2>/dev/null || true)
  if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
    if mv "$lock" "$lock.stale.$$.$RANDOM" 2>/dev/null; then
      rm -rf "$lock".stale.* 2>/dev/null || true
      if mkdir "$lock" 2>/dev/null; then
        echo "$_TACHO_OWNER" >"$lock/owner"
        return 0
      fi
    fi
  fi
  return 1
}

# Releases every port reservation held by OWNER (default: this shell).
# shellcheck disable=SC2120
_tacho_release_ports() {
  local owner="${1:-$_TACHO_OWNER}" lock
  for lock in "$_TACHO_PORT_LOCKS"/*; do
    [ -f "$lock/owner" ] || continue
    if [ "$(cat "$lock/owner" 2>/dev/null)" = "$owner" ]; then rm -rf "$lock"; fi
  done
}

# Prints a free TCP port on 127.0.0.1. Ports come from below the kernel's ephemeral range (so a
# client socket can't grab one between this check and the server's bind), are checked by
# binding, and are reserved in /tmp/tacho-port-locks until tacho_stop_all so that parallel test
# runs never pick the same one.
tacho_free_port() {
  local lo=15000 hi eph_lo eph_hi port i
  read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph_lo=32768
  hi=$((eph_lo - 1))
  if [ "$hi" -le $((lo + 1000)) ]; then lo=$((eph_hi + 1)); hi=65000; fi
  for ((i = 0; i < 200; i++)); do
    port=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1)))
    if _tacho_reserve_port "$port"; then
      if _tacho_port_is_free "$port"; then
        echo "$port"
        return 0
      fi
      rm -rf "${_TACHO_PORT_LOCKS:?}/$port"
    fi
  done
  echo "tacho_free_port: no free port found in $lo-$hi" >&2
  return 1
}

# ---------------------------------------------------------------------------------------------
# Temporary directories, stop scripts, watchdogs

# Base for temporary directories: ${TMPDIR:-/tmp}, or /tmp when running as root and the
# postgres user cannot reach TMPDIR (e.g. TMPDIR under /root).
_tacho_tmp_base() {
  local base="${TMPDIR:-/tmp}"
  base="${base%/}"
  [ -n "$base" ] || base=/tmp
  if _tacho_is_root && id postgres >/dev/null 2>&1; then
    if ! runuser -u postgres -- test -x "$base" 2>/dev/null; then base=/tmp; fi
  fi
  echo "$base"
}

# _tacho_new_dir KIND: creates and registers a temp dir (owned by postgres when root), starts
# its watchdog and prints its path. Must not run in a subshell: use _TACHO_NEW_DIR.
_tacho_new_dir() {
  local kind="$1" base dir
  base=$(_tacho_tmp_base)
  dir=$(mktemp -d "$base/tacho-$kind.XXXXXX") || return 1
  chmod 0755 "$dir"
  if _tacho_is_root && id postgres >/dev/null 2>&1; then chown postgres:postgres "$dir"; fi
  printf '#!/usr/bin/env bash\n# Stops what was started in %s.\n' "$dir" >"$dir/stop.sh"
  _TACHO_SRV_DIRS+=("$dir")
  _tacho_start_watchdog "$dir"
  _TACHO_NEW_DIR="$dir"
}

# Appends a line to DIR/stop.sh.
_tacho_on_stop() {
  local dir="$1"; shift
  printf '%s\n' "$*" >>"$dir/stop.sh"
}

# A detached process that runs DIR/stop.sh and removes DIR once the owner shell has died
# without doing so. It exits by itself (within a second) once DIR is gone.
_tacho_start_watchdog() {
  local dir="$1"
  setsid bash -c '
    owner="$1"; dir="$2"; locks="$3"
    while [ -d "$dir" ] && kill -0 "$owner" 2>/dev/null; do sleep 1; done
    if [ -d "$dir" ]; then
      bash "$dir/stop.sh" >/dev/null 2>&1 || true
      rm -rf "$dir"
      for l in "$locks"/*; do
        [ "$(cat "$l/owner" 2>/dev/null)" = "$owner" ] && rm -rf "$l"
      done
    fi
  ' tacho-servers-watchdog "$_TACHO_OWNER" "$dir" "$_TACHO_PORT_LOCKS" \
    </dev/null >/dev/null 2>&1 &
  echo $! >"$dir/watchdog.pid"
}

# Shell text (for stop.sh) that kills PID if it still runs COMM, TERM first then KILL.
_tacho_kill_snippet() {
  local pid="$1" comm="$2"
  cat <<EOF
_pid=$pid
if [ "\$(cat /proc/\$_pid/comm 2>/dev/null)" = $(printf '%q' "$comm") ]; then
  kill -TERM "\$_pid" 2>/dev/null || true
  for _i in \$(seq 50); do
    # Gone, or a zombie (already dead, waiting for init to reap it).
    _st=\$(sed 's/^.*) //' /proc/\$_pid/stat 2>/dev/null | cut -d' ' -f1)
    [ -n "\$_st" ] && [ "\$_st" != Z ] || break
    sleep 0.1
  done
  kill -KILL "\$_pid" 2>/dev/null || true
fi
EOF
}

# Shell text (for stop.sh) that kills every process whose working directory is inside DIR:
# the last resort for server children orphaned by a crash.
_tacho_kill_cwd_snippet() {
  local dir="$1"
  cat <<EOF
for _cwd in \$(find /proc/[0-9]*/cwd -maxdepth 0 -lname $(printf '%q' "$dir")'/*' 2>/dev/null); do
  _p=\${_cwd#/proc/}; _p=\${_p%/cwd}
  case "\$_p" in "\$\$"|"\$PPID") continue ;; esac
  kill -KILL "\$_p" 2>/dev/null || true
done
EOF
}

# Stops what DIR's stop.sh knows about, then removes DIR.
_tacho_stop_dir() {
  local dir="$1" wpid
  [ -d "$dir" ] || return 0
  wpid=$(cat "$dir/watchdog.pid" 2>/dev/null || true)
  bash "$dir/stop.sh" >/dev/null 2>&1 || true
  # Reap servers that are this shell's own children (no zombies left behind).
  local child
  for child in $(cat "$dir/children" 2>/dev/null || true); do wait "$child" 2>/dev/null || true; done
  rm -rf "$dir"
  if [ -n "$wpid" ]; then kill "$wpid" 2>/dev/null || true; fi
}

# _tacho_dump_log FILE TITLE: prints a server log to stderr (on start-up failure).
_tacho_dump_log() {
  local file="$1" title="$2"
  {
    echo "----- $title ($file) -----"
    if [ -f "$file" ]; then tail -n 60 "$file"; else echo "(no log)"; fi
    echo "----- end of $title -----"
  } >&2
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL 15

_tacho_pg_psql() {  # PORT DB SQL
  "$TACHO_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d "$2" \
    -c "$3"
}

# tacho_start_postgres [KEY=VALUE ...]: PostgreSQL 15 with pg_stat_statements, database
# tacho_test, superuser postgres (trust on loopback), and password users tacho
# (scram-sha-256) and tacho_md5 (md5), both members of pg_monitor. Arguments are extra
# postgresql.conf lines. Exports TACHO_PG_{PORT,HOST,DSN,DATA,PID,DIR,SOCKET_DIR,LOG,USER,
# PASSWORD,PASSWORD_DSN,MD5_USER,MD5_PASSWORD,MD5_DSN}.
tacho_start_postgres() {
  local bin="$TACHO_PG_BIN" dir port attempt pid kv
  if [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
    echo "tacho_start_postgres: $bin/initdb not found (Debian package postgresql-15)" >&2
    return 1
  fi
  if _tacho_is_root && ! id postgres >/dev/null 2>&1; then
    echo "tacho_start_postgres: no postgres OS user (Debian package postgresql-15)" >&2
    return 1
  fi
  _tacho_new_dir pg || return 1
  dir="$_TACHO_NEW_DIR"
  _tacho_as_pg mkdir -p "$dir/sock" || return 1

  if ! _tacho_as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
      --no-sync --no-instructions >"$dir/initdb.log" 2>&1; then
    _tacho_dump_log "$dir/initdb.log" "initdb"
    return 1
  fi

  local as_pg=""
  if _tacho_is_root; then as_pg="runuser -u postgres --"; fi
  _tacho_on_stop "$dir" "$as_pg $(printf '%q' "$bin/pg_ctl") -D $(printf '%q' "$dir/data") -m immediate -w -t 10 stop"

  {
    echo "# --- tacho test settings ---"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$dir/sock'"
    echo "max_connections = 100"
    echo "shared_buffers = 64MB"
    echo "shared_preload_libraries = 'pg_stat_statements'"
    echo "pg_stat_statements.max = 10000"
    echo "pg_stat_statements.track = all"
    echo "track_io_timing = on"
    echo "fsync = off"
    echo "synchronous_commit = off"
    echo "full_page_writes = off"
    echo "logging_collector = off"
    echo "log_min_messages = warning"
    for kv in "$@"; do echo "$kv"; done
  } >>"$dir/data/postgresql.conf"
  cat >"$dir/data/pg_hba.conf" <<'EOF'
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       all                      trust
host    all       postgres  127.0.0.1/32   trust
host    all       all       127.0.0.1/32   md5
EOF
  if _tacho_is_root; then chown postgres:postgres "$dir/data/postgresql.conf" "$dir/data/pg_hba.conf"; fi

  for attempt in 1 2 3; do
    port=$(tacho_free_port) || return 1
    _tacho_as_pg sed -i '/^port = /d' "$dir/data/postgresql.conf"
    echo "port = $port" | _tacho_as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
    _tacho_as_pg touch "$dir/postgres.log"
    if _tacho_as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 -s start \
        </dev/null >/dev/null 2>&1; then
      break
    fi
    if [ "$attempt" -lt 3 ] && grep -q 'could not bind\|already in use' "$dir/postgres.log"; then
      continue  # lost a race for the port: try another one
    fi
    _tacho_dump_log "$dir/postgres.log" "PostgreSQL log"
    return 1
  done

  pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
  if [ -z "$pid" ]; then
    _tacho_dump_log "$dir/postgres.log" "PostgreSQL log (no postmaster.pid)"
    return 1
  fi
  _tacho_kill_snippet "$pid" postgres >>"$dir/stop.sh"
  _tacho_kill_cwd_snippet "$dir" >>"$dir/stop.sh"

  if ! tacho_wait_for 30 "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
    echo "tacho_start_postgres: not ready on port $port after 30 s" >&2
    _tacho_dump_log "$dir/postgres.log" "PostgreSQL log"
    return 1
  fi

  local user=tacho password=tacho-scram-secret md5_user=tacho_md5 md5_password=tacho-md5-secret
  if ! _tacho_pg_psql "$port" postgres "CREATE DATABASE tacho_test" >/dev/null ||
     ! _tacho_pg_psql "$port" tacho_test "CREATE EXTENSION pg_stat_statements" >/dev/null ||
     ! _tacho_pg_psql "$port" postgres "
        SET password_encryption = 'scram-sha-256';
        CREATE ROLE $user LOGIN PASSWORD '$password' IN ROLE pg_monitor;
        SET password_encryption = 'md5';
        CREATE ROLE $md5_user LOGIN PASSWORD '$md5_password' IN ROLE pg_monitor;
        GRANT ALL ON DATABASE tacho_test TO $user, $md5_user;" >/dev/null ||
     ! _tacho_pg_psql "$port" tacho_test "GRANT ALL ON SCHEMA public TO $user, $md5_user" >/dev/null
  then
    echo "tacho_start_postgres: setting up database tacho_test failed" >&2
    _tacho_dump_log "$dir/postgres.log" "PostgreSQL log"
    return 1
  fi

  export TACHO_PG_PORT="$port"
  export TACHO_PG_HOST=127.0.0.1
  export TACHO_PG_DSN="host=127.0.0.1 port=$port user=postgres dbname=tacho_test"
  export TACHO_PG_DATA="$dir/data"
  export TACHO_PG_PID="$pid"
  export TACHO_PG_DIR="$dir"
  export TACHO_PG_SOCKET_DIR="$dir/sock"
  export TACHO_PG_LOG="$dir/postgres.log"
  export TACHO_PG_USER="$user"
  export TACHO_PG_PASSWORD="$password"
  export TACHO_PG_PASSWORD_DSN="host=127.0.0.1 port=$port user=$user password=$password dbname=tacho_test"
  export TACHO_PG_MD5_USER="$md5_user"
  export TACHO_PG_MD5_PASSWORD="$md5_password"
  export TACHO_PG_MD5_DSN="host=127.0.0.1 port=$port user=$md5_user password=$md5_password dbname=tacho_test"
  tacho_log "PostgreSQL 15 on 127.0.0.1:$port (pid $pid, dir $dir)"
}

# ---------------------------------------------------------------------------------------------
# Redis 7

# Prints redis-cli's answer to PING on PORT (any answer, even NOAUTH, means it is up).
_tacho_redis_answers() {
  local out
  out=$(redis-cli -h 127.0.0.1 -p "$1" PING 2>&1) || true
  [ -n "$out" ] && ! grep -qi 'could not connect\|connection refused' <<<"$out"
}

# tacho_start_redis [ARGS ...]: redis-server on 127.0.0.1, no persistence, daemonized; ARGS are
# passed after the defaults (e.g. --requirepass s3cret, --user alice on '>pw' '~*' '+@all',
# --rename-command CONFIG ""). Exports TACHO_REDIS_{PORT,PID,ADDR,HOST,DIR,LOG}.
tacho_start_redis() {
  local dir port attempt pid=""
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "tacho_start_redis: redis-server not found (Debian package redis-server)" >&2
    return 1
  fi
  _tacho_new_dir redis || return 1
  dir="$_TACHO_NEW_DIR"
  for attempt in 1 2 3; do
    port=$(tacho_free_port) || return 1
    rm -f "$dir/redis.pid"
    : >"$dir/redis.log"
    if ! redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
        "$@" </dev/null >>"$dir/redis.stdout" 2>&1; then
      _tacho_dump_log "$dir/redis.stdout" "redis-server output"
      _tacho_dump_log "$dir/redis.log" "Redis log"
      return 1
    fi
    # Wait for the daemon's pidfile, then for an answer.
    tacho_wait_for 10 test -s "$dir/redis.pid" || true
    pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then
      _tacho_kill_snippet "$pid" redis-server >>"$dir/stop.sh"
    fi
    if tacho_wait_for 20 _tacho_redis_answers "$port"; then break; fi
    if [ "$attempt" -lt 3 ] && grep -q 'Address already in use' "$dir/redis.log"; then continue; fi
    echo "tacho_start_redis: no answer on port $port" >&2
    _tacho_dump_log "$dir/redis.log" "Redis log"
    return 1
  done
  _tacho_kill_cwd_snippet "$dir" >>"$dir/stop.sh"
  export TACHO_REDIS_PORT="$port"
  export TACHO_REDIS_PID="$pid"
  export TACHO_REDIS_HOST=127.0.0.1
  export TACHO_REDIS_ADDR="127.0.0.1:$port"
  export TACHO_REDIS_DIR="$dir"
  export TACHO_REDIS_LOG="$dir/redis.log"
  tacho_log "Redis on 127.0.0.1:$port (pid $pid, dir $dir)"
}

# ---------------------------------------------------------------------------------------------
# PgBouncer

# True once PgBouncer (PID) answers an admin command on PORT; false at once if PID has exited
# (tacho_wait_for then keeps polling until its timeout, so check PID afterwards).
_tacho_pgbouncer_answers() {  # PID PORT USER PASSWORD
  kill -0 "$1" 2>/dev/null || return 1
  PGPASSWORD="$4" PGCONNECT_TIMEOUT=2 "$TACHO_PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$2" \
    -U "$3" -d pgbouncer -c "SHOW VERSION" >/dev/null 2>&1
}

# _tacho_launch_pgbouncer BIN DIR: starts PgBouncer with DIR/pgbouncer.ini and sets
# _TACHO_PGB_LAUNCHED to its pid. In the foreground (pgbouncer -d leaves a zombie of its double
# fork behind, which process counts would see), in its own session, as the postgres user:
# setsid and setpriv both exec, so $! is pgbouncer's pid. DIR/stop.sh kills it;
# _tacho_stop_dir reaps it.
_tacho_launch_pgbouncer() {
  local bin="$1" dir="$2"
  rm -f "$dir/pgbouncer.pid"
  if _tacho_is_root; then
    setsid setpriv --reuid=postgres --regid=postgres --init-groups -- \
      "$bin" -q "$dir/pgbouncer.ini" </dev/null >>"$dir/start.log" 2>&1 &
  else
    setsid "$bin" -q "$dir/pgbouncer.ini" </dev/null >>"$dir/start.log" 2>&1 &
  fi
  _TACHO_PGB_LAUNCHED=$!
  echo "$_TACHO_PGB_LAUNCHED" >>"$dir/children"
  _tacho_kill_snippet "$_TACHO_PGB_LAUNCHED" pgbouncer >>"$dir/stop.sh"
}

# tacho_start_pgbouncer [--auth trust|md5] [--pool-size N] [--pool-mode MODE]: PgBouncer in
# front of the PostgreSQL started by tacho_start_postgres (which must run first), as the
# postgres OS user. Defaults from TACHO_PGB_AUTH_TYPE (trust), TACHO_PGB_POOL_SIZE (5),
# TACHO_PGB_POOL_MODE (transaction). Users in its userlist (with passwords for md5):
# postgres/postgres-secret, tacho and tacho_md5 (as in PostgreSQL), tacho_admin (admin_users)
# and tacho_stats (stats_users). Exports TACHO_PGB_{PORT,PID,DIR,LOG,AUTH_TYPE,ADMIN_USER,
# ADMIN_PASSWORD,ADMIN_DSN,STATS_USER,STATS_PASSWORD,STATS_DSN,DSN}.
tacho_start_pgbouncer() {
  local auth="${TACHO_PGB_AUTH_TYPE:-trust}" pool_size="${TACHO_PGB_POOL_SIZE:-5}"
  local pool_mode="${TACHO_PGB_POOL_MODE:-transaction}"
  while [ $# -gt 0 ]; do
    case "$1" in
      --auth) auth="$2"; shift 2 ;;
      --auth=*) auth="${1#*=}"; shift ;;
      --pool-size) pool_size="$2"; shift 2 ;;
      --pool-size=*) pool_size="${1#*=}"; shift ;;
      --pool-mode) pool_mode="$2"; shift 2 ;;
      --pool-mode=*) pool_mode="${1#*=}"; shift ;;
      *) echo "tacho_start_pgbouncer: unknown argument $1" >&2; return 1 ;;
    esac
  done
  case "$auth" in trust|md5|scram-sha-256|plain) ;; *)
    echo "tacho_start_pgbouncer: --auth must be trust or md5, not $auth" >&2; return 1 ;;
  esac
  if [ -z "${TACHO_PG_PORT:-}" ]; then
    echo "tacho_start_pgbouncer: start PostgreSQL first (tacho_start_postgres)" >&2
    return 1
  fi
  local bin dir port attempt pid=""
  bin=$(_tacho_pgbouncer_bin) || return 1
  _tacho_new_dir pgbouncer || return 1
  dir="$_TACHO_NEW_DIR"

  local admin_user=tacho_admin admin_password=tacho-admin-secret
  local stats_user=tacho_stats stats_password=tacho-stats-secret
  cat >"$dir/userlist.txt" <<EOF
"postgres" "postgres-secret"
"${TACHO_PG_USER:-tacho}" "${TACHO_PG_PASSWORD:-tacho-scram-secret}"
"${TACHO_PG_MD5_USER:-tacho_md5}" "${TACHO_PG_MD5_PASSWORD:-tacho-md5-secret}"
"$admin_user" "$admin_password"
"$stats_user" "$stats_password"
EOF
  for attempt in 1 2 3; do
    port=$(tacho_free_port) || return 1
    cat >"$dir/pgbouncer.ini" <<EOF
[databases]
tacho_test = host=127.0.0.1 port=$TACHO_PG_PORT dbname=tacho_test
postgres = host=127.0.0.1 port=$TACHO_PG_PORT dbname=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = $auth
auth_file = $dir/userlist.txt
admin_users = $admin_user, postgres
stats_users = $stats_user
pool_mode = $pool_mode
default_pool_size = $pool_size
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF
    if _tacho_is_root; then chown -R postgres:postgres "$dir"; fi
    chmod 0600 "$dir/userlist.txt"
    _tacho_launch_pgbouncer "$bin" "$dir"
    pid=$_TACHO_PGB_LAUNCHED
    if tacho_wait_for 20 _tacho_pgbouncer_answers "$pid" "$port" "$admin_user" "$admin_password"; then
      break
    fi
    if [ "$attempt" -lt 3 ] && grep -qs 'already in use' "$dir/pgbouncer.log" "$dir/start.log"; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      continue
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "tacho_start_pgbouncer: pgbouncer exited" >&2
      _tacho_dump_log "$dir/start.log" "PgBouncer start-up output"
      _tacho_dump_log "$dir/pgbouncer.log" "PgBouncer log"
      return 1
    fi
    echo "tacho_start_pgbouncer: no answer on port $port" >&2
    _tacho_dump_log "$dir/pgbouncer.log" "PgBouncer log"
    return 1
  done

  local pw_admin="" pw_stats=""
  if [ "$auth" != trust ]; then
    pw_admin=" password=$admin_password"
    pw_stats=" password=$stats_password"
  fi
  export TACHO_PGB_PORT="$port"
  export TACHO_PGB_PID="$pid"
  export TACHO_PGB_DIR="$dir"
  export TACHO_PGB_LOG="$dir/pgbouncer.log"
  export TACHO_PGB_AUTH_TYPE="$auth"
  export TACHO_PGB_ADMIN_USER="$admin_user"
  export TACHO_PGB_ADMIN_PASSWORD="$admin_password"
  export TACHO_PGB_ADMIN_DSN="host=127.0.0.1 port=$port dbname=pgbouncer user=$admin_user$pw_admin"
  export TACHO_PGB_STATS_USER="$stats_user"
  export TACHO_PGB_STATS_PASSWORD="$stats_password"
  export TACHO_PGB_STATS_DSN="host=127.0.0.1 port=$port dbname=pgbouncer user=$stats_user$pw_stats"
  export TACHO_PGB_DSN="host=127.0.0.1 port=$port dbname=tacho_test user=${TACHO_PG_USER:-tacho} password=${TACHO_PG_PASSWORD:-tacho-scram-secret}"
  tacho_log "PgBouncer on 127.0.0.1:$port (pid $pid, auth $auth, pool $pool_mode/$pool_size)"
}

# tacho_stop_pgbouncer: stops the PgBouncer of tacho_start_pgbouncer (SIGTERM: immediate
# shutdown), keeping its directory and port for tacho_resume_pgbouncer.
tacho_stop_pgbouncer() {
  local pid="${TACHO_PGB_PID:?tacho_stop_pgbouncer: no PgBouncer started}"
  kill -TERM "$pid" 2>/dev/null || true
  tacho_wait_for 10 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# tacho_resume_pgbouncer: starts PgBouncer again with the configuration and port of the latest
# tacho_start_pgbouncer (after tacho_stop_pgbouncer). Updates TACHO_PGB_PID.
tacho_resume_pgbouncer() {
  local dir="${TACHO_PGB_DIR:?tacho_resume_pgbouncer: no PgBouncer started}" bin pid
  bin=$(_tacho_pgbouncer_bin) || return 1
  _tacho_launch_pgbouncer "$bin" "$dir"
  pid=$_TACHO_PGB_LAUNCHED
  export TACHO_PGB_PID="$pid"
  if ! tacho_wait_for 20 _tacho_pgbouncer_answers "$pid" "$TACHO_PGB_PORT" \
      "$TACHO_PGB_ADMIN_USER" "$TACHO_PGB_ADMIN_PASSWORD"; then
    echo "tacho_resume_pgbouncer: no answer on port $TACHO_PGB_PORT" >&2
    _tacho_dump_log "$dir/pgbouncer.log" "PgBouncer log"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------
# Prometheus

# tacho_pg_tables_sql N: prints SQL that creates tables t_1..t_N of 10 rows and runs four
# statement shapes on each: 4 N distinct statements for pg_stat_statements, besides the DDL.
tacho_pg_tables_sql() {
  local i
  for ((i = 1; i <= $1; i++)); do
    echo "CREATE TABLE t_$i (id int PRIMARY KEY, v int);"
    echo "INSERT INTO t_$i SELECT g, g FROM generate_series(1, 10) g;"
    echo "SELECT v FROM t_$i WHERE id = 1;"
    echo "SELECT count(*) FROM t_$i;"
    echo "UPDATE t_$i SET v = v + 1 WHERE id = 2;"
    echo "SELECT max(v), min(id) FROM t_$i;"
  done
}

# Prints the path of promtool (Debian package prometheus).
tacho_promtool() {
  if command -v promtool >/dev/null 2>&1; then command -v promtool
  elif [ -x /usr/bin/promtool ]; then echo /usr/bin/promtool
  else echo "tacho_promtool: promtool not found (Debian package prometheus)" >&2; return 1; fi
}

# tacho_start_prometheus TARGET...: a Prometheus server scraping each host:port TARGET's
# /metrics every second (job "tacho"). Exports TACHO_PROM_{PORT,PID,URL,DIR,LOG}.
tacho_start_prometheus() {
  local bin dir port attempt pid="" t targets=""
  bin=$(command -v prometheus 2>/dev/null || echo /usr/bin/prometheus)
  if [ ! -x "$bin" ]; then
    echo "tacho_start_prometheus: prometheus not found (Debian package prometheus)" >&2
    return 1
  fi
  for t in "$@"; do targets+="${targets:+, }'$t'"; done
  _tacho_new_dir prometheus || return 1
  dir="$_TACHO_NEW_DIR"
  cat >"$dir/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: tacho
    static_configs:
      - targets: [$targets]
EOF
  for attempt in 1 2 3; do
    port=$(tacho_free_port) || return 1
    "$bin" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
      --web.listen-address="127.0.0.1:$port" --log.level=warn \
      </dev/null >>"$dir/prometheus.log" 2>&1 &
    pid=$!
    _tacho_kill_snippet "$pid" prometheus >>"$dir/stop.sh"
    if tacho_wait_for 30 curl -fsS "http://127.0.0.1:$port/-/ready"; then break; fi
    if [ "$attempt" -lt 3 ] && grep -q 'address already in use' "$dir/prometheus.log"; then continue; fi
    echo "tacho_start_prometheus: not ready on port $port" >&2
    _tacho_dump_log "$dir/prometheus.log" "Prometheus log"
    return 1
  done
  export TACHO_PROM_PORT="$port"
  export TACHO_PROM_PID="$pid"
  export TACHO_PROM_URL="http://127.0.0.1:$port"
  export TACHO_PROM_DIR="$dir"
  export TACHO_PROM_LOG="$dir/prometheus.log"
  tacho_log "Prometheus on 127.0.0.1:$port (pid $pid) scraping ${*:-nothing}"
}

# ---------------------------------------------------------------------------------------------
# Stopping

# tacho_track_pid PID...: tacho_stop_all also stops these (TERM, then KILL after 5 s).
tacho_track_pid() {
  local p
  for p in "$@"; do _TACHO_TRACKED_PIDS+=("$p"); done
}

# Stops everything this shell started (tracked pids first, then servers newest first: PgBouncer
# before the PostgreSQL behind it), removes their directories and releases reserved ports.
# Idempotent, never fails.
tacho_stop_all() {
  local i p
  if [ "${#_TACHO_TRACKED_PIDS[@]}" -gt 0 ]; then
    for p in "${_TACHO_TRACKED_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for ((i = 0; i < 50; i++)); do
      local alive=0
      for p in "${_TACHO_TRACKED_PIDS[@]}"; do
        if kill -0 "$p" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" != Z ]; then
          alive=1
        fi
      done
      [ "$alive" = 1 ] || break
      sleep 0.1
    done
    for p in "${_TACHO_TRACKED_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${_TACHO_TRACKED_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    _TACHO_TRACKED_PIDS=()
  fi
  for ((i = ${#_TACHO_SRV_DIRS[@]} - 1; i >= 0; i--)); do
    _tacho_stop_dir "${_TACHO_SRV_DIRS[$i]}"
  done
  _TACHO_SRV_DIRS=()
  _tacho_release_ports
  return 0
}

# Prints the command of the current trap for SIGNAL (empty if none).
_tacho_trap_cmd() {
  local t
  t=$(trap -p "$1")
  [ -n "$t" ] || return 0
  eval "set -- $t"
  printf '%s' "$3"
}

# Installs traps so that tacho_stop_all runs on EXIT, INT and TERM, before whatever trap was
# already set for them (which still runs). INT and TERM then exit with 130 / 143.
tacho_servers_cleanup_on_exit() {
  if [ -n "${_TACHO_TRAPS_INSTALLED:-}" ]; then return 0; fi
  _TACHO_TRAPS_INSTALLED=1
  local prev
  prev=$(_tacho_trap_cmd EXIT)
  # shellcheck disable=SC2064
  trap "tacho_stop_all${prev:+; $prev}" EXIT
  prev=$(_tacho_trap_cmd INT)
  # shellcheck disable=SC2064
  trap "tacho_stop_all${prev:+; $prev}; exit 130" INT
  prev=$(_tacho_trap_cmd TERM)
  # shellcheck disable=SC2064
  trap "tacho_stop_all${prev:+; $prev}; exit 143" TERM
}
