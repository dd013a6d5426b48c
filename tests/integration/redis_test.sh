#!/usr/bin/env bash
# Integration test of the Redis collector against real redis-server 7 (Debian's), started by
# scripts/lib/servers.sh on free loopback ports, under redis-benchmark load.
#
#   tests/integration/redis_test.sh PATH_TO_TACHO
#
# 1. --once with an ACL user (least privileges, as README.md lists them) after a load: the
#    counters equal INFO read directly; promtool accepts the exposition.
# 2. A running agent (interval 1s) with five instances:
#      acl       the ACL user: latency histogram grows with traffic, slowlog, client pools
#      badpw     a wrong password: redis_up 0, one clear log line, no busy loop
#      noconfig  a server started with rename-command CONFIG "" and requirepass, over its
#                unix socket (AUTH with a password only): the limits come from INFO
#      nopass    the same server without a password: NOAUTH, a message that says so
#      victim    a server that is restarted (reconnects) and later SIGSTOPped (times out
#                while /metrics keeps answering), then SIGCONTed (recovers)
# Ends with "N passed, M failed"; exits non-zero if anything failed.
set -uo pipefail

TACHO="${1:?usage: $0 /path/to/tacho}"
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
VICTIM_PID=""
thaw() { if [ -n "$VICTIM_PID" ]; then kill -CONT "$VICTIM_PID" 2>/dev/null || true; fi; }
check_begin tacho-redis-test thaw

info_field() {  # PORT FIELD
  redis-cli -p "$1" INFO all | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2; exit }'
}
cmdstat_calls() {  # PORT CMD
  redis-cli -p "$1" INFO commandstats | tr -d '\r' |
    sed -n "s/^cmdstat_$2:calls=\([0-9]*\),.*/\1/p"
}
PROMTOOL="$(tacho_promtool)" || { echo "promtool missing"; exit 1; }

ACL_USER=tacho
ACL_PASSWORD="tacho-acl-secret-7f3"
WRONG_PASSWORD="wrong-pw-3c9e"
# Exactly what README.md documents for tacho's ACL user.
ACL_RULES=("+info" "+client|setname" "+client|list" "+config|get" "+latency|histogram"
           "+slowlog|get" "+slowlog|len")

echo "=== servers"
tacho_start_redis --latency-tracking yes --slowlog-log-slower-than 0 --slowlog-max-len 1024 \
  --user "$ACL_USER" on ">$ACL_PASSWORD" "${ACL_RULES[@]}" || { echo "cannot start redis"; exit 1; }
A_PORT=$TACHO_REDIS_PORT
B_SOCKET="$WORK/b.sock"
B_PASSWORD="b-requirepass-91d"
tacho_start_redis --rename-command CONFIG "" --maxclients 321 --maxmemory 64mb \
    --unixsocket "$B_SOCKET" --unixsocketperm 700 --requirepass "$B_PASSWORD" ||
  { echo "cannot start redis"; exit 1; }
tacho_start_redis || { echo "cannot start redis"; exit 1; }
C_PORT=$TACHO_REDIS_PORT
C_DIR=$TACHO_REDIS_DIR
VICTIM_PID=$TACHO_REDIS_PID

echo "=== 1. --once after a load: counters equal INFO"
redis-benchmark -p "$A_PORT" -n 20000 -q -t set,get,incr -r 1000 >/dev/null 2>&1
check "redis-benchmark load ran" test "$(cmdstat_calls "$A_PORT" set)" -ge 20000
tacho_agent_config "$WORK/once.toml" "$WORK/state" <<EOF
[[collectors.redis]]
name = "acl"
address = "127.0.0.1:$A_PORT"
username = "$ACL_USER"
password_env = "TACHO_TEST_REDIS_PASSWORD"
EOF
export TACHO_TEST_REDIS_PASSWORD="$ACL_PASSWORD"
check "--check-config accepts a [[collectors.redis]] instance" "$TACHO" --check-config "$WORK/once.toml"
processed_before=$(info_field "$A_PORT" total_commands_processed)
rc=0
timeout 30 "$TACHO" --config "$WORK/once.toml" --once >"$WORK/once.prom" 2>"$WORK/once.err" || rc=$?
processed_after=$(info_field "$A_PORT" total_commands_processed)
if [ "$rc" = 0 ]; then pass "--once with the ACL user exits 0"
else fail "--once with the ACL user exits 0 (exit $rc)" "$(tail -n 20 "$WORK/once.err")"; fi
check "promtool check metrics accepts the --once exposition" bash -c "'$PROMTOOL' check metrics < '$WORK/once.prom'"
check "redis_up is 1 for the ACL user" test "$(value "$WORK/once.prom" redis_up 'target="acl"')" = 1
for cap in config latency_histogram slowlog client_list client_setname; do
  check "the documented ACL rules allow $cap" \
    test "$(value "$WORK/once.prom" tacho_redis_capability "capability=\"$cap\"")" = 1
done
for pair in keyspace_hits:redis_keyspace_hits_total keyspace_misses:redis_keyspace_misses_total \
    expired_keys:redis_expired_keys_total evicted_keys:redis_evicted_keys_total \
    rejected_connections:redis_rejected_connections_total maxclients:redis_config_maxclients \
    used_memory_peak:redis_memory_used_peak_bytes connected_slaves:redis_connected_slaves \
    master_repl_offset:redis_master_repl_offset rdb_last_save_time:redis_rdb_last_save_timestamp_seconds; do
  field=${pair%%:*}; metric=${pair#*:}
  want=$(info_field "$A_PORT" "$field")
  got=$(value "$WORK/once.prom" "$metric" 'target="acl"')
  check "$metric equals INFO $field ($want)" awk -v a="$got" -v b="$want" 'BEGIN { exit !(a != "" && a + 0 == b + 0) }'
done
for cmd in set get incr; do
  want=$(cmdstat_calls "$A_PORT" "$cmd")
  got=$(value "$WORK/once.prom" redis_commands_total "cmd=\"$cmd\"")
  check "redis_commands_total{cmd=\"$cmd\"} equals cmdstat_$cmd calls ($want)" test "$got" = "$want"
done
want=$(redis-cli -p "$A_PORT" DBSIZE)
check "redis_db_keys{db=\"db0\"} equals DBSIZE ($want)" \
  test "$(value "$WORK/once.prom" redis_db_keys 'db="db0"')" = "$want"
# tacho's own commands (AUTH, the probe, INFO) count too: its reading lies between INFO read
# just before and just after it.
got=$(value "$WORK/once.prom" redis_commands_processed_total 'target="acl"')
check "redis_commands_processed_total lies between INFO before and after ($processed_before <= $got <= $processed_after)" \
  awk -v a="$processed_before" -v x="$got" -v b="$processed_after" 'BEGIN { exit !(x != "" && a <= x && x <= b && b - a < 20) }'
check "the per-command latency histogram covers the busiest commands" \
  grep -q '^redis_commands_latency_seconds_bucket{cmd="set",.*le="+Inf"' "$WORK/once.prom"
check "the exposition never holds the password" bash -c "! grep -q -- '$ACL_PASSWORD' '$WORK/once.prom' '$WORK/once.err'"

echo "=== 2. a running agent"
tacho_agent_config "$WORK/agent.toml" "$WORK/state" <<EOF
[[collectors.redis]]
name = "acl"
interval = "1s"
address = "127.0.0.1:$A_PORT"
username = "$ACL_USER"
password = "$ACL_PASSWORD"

[[collectors.redis]]
name = "badpw"
interval = "1s"
address = "127.0.0.1:$A_PORT"
username = "$ACL_USER"
password = "$WRONG_PASSWORD"

[[collectors.redis]]
name = "noconfig"
interval = "1s"
address = "$B_SOCKET"
password = "$B_PASSWORD"

[[collectors.redis]]
name = "nopass"
interval = "1s"
address = "$B_SOCKET"

[[collectors.redis]]
name = "victim"
interval = "1s"
timeout = "700ms"
address = "127.0.0.1:$C_PORT"
EOF
start_agent agent "$WORK/agent.toml" 15
URL="$AGENT_URL/metrics"
check "all five instances finish their first collection" wait_for 15 curl -sf -o /dev/null "${URL%/metrics}/readyz"
check "redis_up 1 for the ACL user" wait_for 5 is redis_up 'target="acl"' 1
check "promtool check metrics accepts the agent's /metrics" bash -c "curl -sf '$URL' | '$PROMTOOL' check metrics"

# Wrong password: up 0, one clear line, no busy loop.
check "redis_up 0 with a wrong password" is redis_up 'target="badpw"' 0
sleep 4
n=$(grep -c "collector redis 'badpw' is down: authentication failed for user 'tacho' (WRONGPASS)" "$WORK/agent.log")
check "one clear log line for the wrong password (got $n)" test "$n" = 1
check "the log never holds a password" bash -c "! grep -q -e '$WRONG_PASSWORD' -e '$ACL_PASSWORD' -e '$B_PASSWORD' '$WORK/agent.log'"
check "/metrics never holds a password" bash -c "curl -sf '$URL' | grep -q -e '$WRONG_PASSWORD' -e '$ACL_PASSWORD' -e '$B_PASSWORD'; [ \$? = 1 ]"
check "redis_up 0 without the required password" is redis_up 'target="nopass"' 0
check "the log says a password is required" \
  grep -q "collector redis 'nopass' is down: the server requires authentication (NOAUTH): set password, password_file or password_env" "$WORK/agent.log"
errors=$(metric tacho_collector_errors_total 'target="badpw"')
auths=$(info_field "$A_PORT" errorstat_WRONGPASS | sed 's/count=//')
check "no busy loop: AUTH attempts back off ($auths WRONGPASS replies for $errors failed ticks)" \
  awk -v a="${auths:-0}" -v e="${errors:-0}" 'BEGIN { exit !(a >= 1 && a < e) }'

# rename-command CONFIG "": the limits come from INFO.
check "redis_up 1 with CONFIG renamed away, over a unix socket, AUTH with a password only" is redis_up 'target="noconfig"' 1
check "CONFIG shows as refused" is tacho_redis_capability 'capability="config",target="noconfig"' 0
check "redis_config_maxclients from INFO (321)" is redis_config_maxclients 'target="noconfig"' 321
check "redis_memory_max_bytes from INFO (64 MiB)" is redis_memory_max_bytes 'target="noconfig"' 67108864
check "redis_config_maxmemory from INFO (64 MiB)" is redis_config_maxmemory 'target="noconfig"' 67108864
check "one log line names the refusal and the fallback" \
  grep -q "redis 'noconfig': redis 7.* at $B_SOCKET: config refused (ERR unknown command 'CONFIG'.*maxmemory and maxclients come from INFO" "$WORK/agent.log"

# The latency histogram's counts grow with traffic; buckets are cumulative.
before=$(metric redis_commands_latency_seconds_count 'cmd="set",target="acl"')
redis-benchmark -p "$A_PORT" -n 5000 -q -t set >/dev/null 2>&1
sleep 2.5
after=$(metric redis_commands_latency_seconds_count 'cmd="set",target="acl"')
check "redis_commands_latency_seconds_count{cmd=\"set\"} grows by the 5000 SETs ($before -> $after)" \
  awk -v a="${before:-x}" -v b="${after:-0}" 'BEGIN { exit !(a != "x" && b - a >= 5000) }'
check "histogram buckets are cumulative and end at the count" bash -c "
  grep '^redis_commands_latency_seconds_bucket{cmd=\"set\",target=\"acl\"' '$WORK/m.prom' |
    awk '{ if (\$NF + 0 < prev) bad = 1; prev = \$NF + 0; last = \$NF } END { exit !(!bad && last == $after) }'"
# slowlog-log-slower-than 0 logs every command: 5000 SETs in one interval are more than the 128
# entries read per collection; the rest are counted as missed.
slow=$(value "$WORK/m.prom" redis_slowlog_entries_total 'cmd="set",target="acl"')
missed=$(value "$WORK/m.prom" tacho_redis_slowlog_entries_missed_total 'target="acl"')
check "slowlog entries are counted per command ($slow SET entries, $missed missed)" \
  awk -v v="${slow:-0}" -v m="${missed:-0}" 'BEGIN { exit !(v >= 100 && m >= 1000) }'
check "slowlog series hold no arguments" bash -c "! grep '^redis_slowlog' '$WORK/m.prom' | grep -q 'key:'"

# Client pools: three connections named billing-api.
"$(tacho_python_bin)" - "$A_PORT" >"$WORK/pool.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for _ in range(3):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$11\r\nbilling-api\r\n")
    s.recv(100)
    socks.append(s)
time.sleep(6)
PY
POOL_PID=$!
check "redis_client_pool_connections{client_name=\"billing-api\"} is 3" \
  wait_for 5 is redis_client_pool_connections 'client_name="billing-api",target="acl"' 3
check "tacho's own connection is named tacho" is redis_client_pool_connections 'client_name="tacho",target="acl"' 1
kill "$POOL_PID" 2>/dev/null; wait "$POOL_PID" 2>/dev/null

# Restart: same port, same arguments.
check "victim is up" is redis_up 'target="victim"' 1
conns_before=$(metric tacho_redis_connections_total 'target="victim"')
redis-cli -p "$C_PORT" SHUTDOWN NOSAVE >/dev/null 2>&1
check "redis_up 0 while the server is down" wait_for 10 is redis_up 'target="victim"' 0
sleep 2
redis-server --port "$C_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$C_DIR" \
  --daemonize yes --pidfile "$C_DIR/redis.pid" --logfile "$C_DIR/redis.log" >/dev/null 2>&1
wait_for 10 test -s "$C_DIR/redis.pid"
VICTIM_PID=$(cat "$C_DIR/redis.pid")
tacho_track_pid "$VICTIM_PID"
check "after a restart it reconnects: redis_up back to 1" wait_for 30 is redis_up 'target="victim"' 1
conns_after=$(metric tacho_redis_connections_total 'target="victim"')
check "a new connection was opened ($conns_before -> $conns_after)" \
  awk -v a="${conns_before:-0}" -v b="${conns_after:-0}" 'BEGIN { exit !(b > a) }'
check "redis_uptime_in_seconds restarted" awk -v u="$(metric redis_uptime_in_seconds 'target="victim"')" 'BEGIN { exit !(u != "" && u < 30) }'

# SIGSTOP: collections time out; /metrics keeps answering at once.
timeouts_before=$(metric tacho_collector_timeouts_total 'target="victim"')
kill -STOP "$VICTIM_PID"
sleep 4
start=$(date +%s%N)
scrape "$WORK/m.prom"
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "/metrics answers within 1 s while the server is stopped (${took_ms} ms)" test "$took_ms" -lt 1000
timeouts_after=$(value "$WORK/m.prom" tacho_collector_timeouts_total 'target="victim"')
check "collections time out ($timeouts_before -> $timeouts_after)" \
  awk -v a="${timeouts_before:-0}" -v b="${timeouts_after:-0}" 'BEGIN { exit !(b > a) }'
check "redis_up 0 while stopped" test "$(value "$WORK/m.prom" redis_up 'target="victim"')" = 0
check "the other instances stay up meanwhile" test "$(value "$WORK/m.prom" redis_up 'target="acl"')" = 1
kill -CONT "$VICTIM_PID"
check "after SIGCONT redis_up is back to 1" wait_for 30 is redis_up 'target="victim"' 1
check "the agent is still running" kill -0 "$AGENT_PID"
check "promtool check metrics at the end" bash -c "curl -sf '$URL' | '$PROMTOOL' check metrics"

check_summary
