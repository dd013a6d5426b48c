#!/usr/bin/env bash
# Integration test of the PostgreSQL collector against a real PostgreSQL 15 (Debian's), started
# by scripts/lib/servers.sh on a free loopback port, with pgbench load and ~2,000 distinct
# statements over 320 tables.
#
#   tests/integration/postgres_test.sh PATH_TO_TACHO
#
# One agent (interval 1s) runs four instances:
#   main     superuser, databases = ["*"] over 7 databases with max_connections = 3
#   monitor  a pg_monitor user created with the SQL of collectors/postgres/README.md, its
#            password from password_env
#   noext    a database without the pg_stat_statements extension
#   nopreload  a second server where the extension is installed but not preloaded
# and the test checks: counters equal pg_stat_statements and pg_stat_database read directly;
# pg_stat_statements_reset() gives no negative or spiking delta; a table under an
# AccessExclusiveLock is skipped without waiting; a restart takes pg_up to 0 and back to 1; a
# SIGSTOPped server makes collections time out while /metrics answers promptly, and SIGCONT
# recovers; without pg_stat_statements the rest works and one log line gives the fix; tacho's
# connections (counted in pg_stat_activity) never exceed the cap; promtool
# accepts the exposition. Ends with "N passed, M failed"; exits non-zero if anything failed.
set -uo pipefail

TACHO="${1:?usage: $0 /path/to/tacho}"
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
STOPPED_PIDS=""
# Never leave a frozen server behind.
thaw() { if [ -n "$STOPPED_PIDS" ]; then kill -CONT $STOPPED_PIDS 2>/dev/null || true; fi; }
check_begin tacho-pg-test thaw

PROMTOOL="$(tacho_promtool)" || { echo "promtool missing"; exit 1; }

echo "=== servers and workload"
# A server where pg_stat_statements is installed but not in shared_preload_libraries.
tacho_start_postgres "shared_preload_libraries = ''" || { echo "cannot start PostgreSQL"; exit 1; }
NOPRELOAD_PORT=$TACHO_PG_PORT
# The main server (its TACHO_PG_* variables are the ones used below).
tacho_start_postgres || { echo "cannot start PostgreSQL"; exit 1; }
PORT=$TACHO_PG_PORT
PGBIN=$TACHO_PG_BIN
psql_() {  # psql_ DB SQL: as the superuser
  "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d "$1" -c "$2"
}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

for db in db1 db2 db3 db4 nopgss; do psql_ postgres "CREATE DATABASE $db" || exit 1; done

# 320 tables and four statement shapes on each: 1,280 distinct statements, plus the DDL.
{
  tacho_pg_tables_sql 320
  echo "INSERT INTO t_5 SELECT g, g FROM generate_series(11, 5000) g;"
  echo "ANALYZE;"
} >"$WORK/workload.sql"
"$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d tacho_test -f "$WORK/workload.sql" \
  >/dev/null || { echo "workload failed"; exit 1; }
"$PGBIN/pgbench" -q -i -s 2 -h 127.0.0.1 -p "$PORT" -U postgres tacho_test \
  >"$WORK/pgbench-init.log" 2>&1 || { cat "$WORK/pgbench-init.log"; exit 1; }
STATEMENTS=$(psql_ tacho_test "SELECT count(*) FROM pg_stat_statements")
echo "# $STATEMENTS statements in pg_stat_statements"
check "at least 1,000 distinct statements" test "$STATEMENTS" -ge 1000

# The pg_monitor user, exactly as README.md creates it.
MON_PASSWORD="mon-secret-$RANDOM$RANDOM"
sed -n '/^-- tacho-monitor-user-begin/,/^-- tacho-monitor-user-end/p' \
  "$ROOT/collectors/postgres/README.md" | sed "s/CHANGE-ME/$MON_PASSWORD/" >"$WORK/monitor.sql"
check "README.md holds the monitoring user's SQL" grep -q "GRANT pg_monitor" "$WORK/monitor.sql"
PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d tacho_test \
  -f "$WORK/monitor.sql" >/dev/null || { echo "monitor user SQL failed"; exit 1; }

echo "=== agent"
tacho_agent_config "$WORK/tacho.toml" "$WORK/state" <<EOF
[[collectors.postgres]]
name = "main"
interval = "1s"
dsn = "host=127.0.0.1 port=$PORT user=postgres dbname=tacho_test"
databases = ["*"]
max_connections = 3
statements.top_k = 100
relations_interval = "1s"   # tables on every collection: the DDL check needs fresh reads

[[collectors.postgres]]
name = "monitor"
interval = "1s"
dsn = "postgresql://tacho_monitor@127.0.0.1:$PORT/tacho_test"
password_env = "TACHO_TEST_MON_PASSWORD"
databases = ["tacho_test"]

[[collectors.postgres]]
name = "nopreload"
interval = "1s"
dsn = "host=127.0.0.1 port=$NOPRELOAD_PORT user=postgres dbname=tacho_test"

[[collectors.postgres]]
name = "noext"
interval = "1s"
dsn = "host=127.0.0.1 port=$PORT user=$TACHO_PG_USER dbname=nopgss"
password_env = "TACHO_TEST_PG_PASSWORD"
EOF
TACHO_TEST_MON_PASSWORD="$MON_PASSWORD" TACHO_TEST_PG_PASSWORD="$TACHO_PG_PASSWORD" \
  start_agent agent "$WORK/tacho.toml"
AGENT=$AGENT_PID
URL="$AGENT_URL/metrics"
up_is() { [ "$(metric pg_up "target=\"$1\"")" = "$2" ]; }
last_success() {
  metric tacho_collector_last_success_timestamp_seconds "target=\"$1\""
}
succeeded_after() {  # succeeded_after INSTANCE UNIX_TIME
  awk -v a="$(last_success "$1")" -v b="$2" 'BEGIN { exit !(a > b) }'
}
# Waits until instance $1 finished a successful collection that started after now (its end is
# more than one interval, 1 s, after now).
fresh_collection() {
  wait_for 20 succeeded_after "$1" "$(awk -v t="$(date +%s.%N)" 'BEGIN { printf "%.3f", t + 1.05 }')"
}

# Counts tacho's sessions of the main instance (user postgres) now and then, whatever happens.
(
  max=0
  while kill -0 "$AGENT" 2>/dev/null; do
    if [ ! -e "$WORK/pause-sampler" ]; then
      n=$(PGCONNECT_TIMEOUT=2 timeout 3 "$PGBIN/psql" -X -At -h 127.0.0.1 -p "$PORT" -U postgres \
            -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tacho'
                            AND usename = 'postgres'" 2>/dev/null || echo 0)
      if [ "${n:-0}" -gt "$max" ]; then max=$n; echo "$max" >"$WORK/max-connections"; fi
    fi
    sleep 0.25
  done
) &
SAMPLER=$!
tacho_track_pid "$SAMPLER"

for t in main monitor noext nopreload; do
  check "pg_up{target=$t} is 1" wait_for 30 up_is "$t" 1
done

echo "=== load"
"$PGBIN/pgbench" -c 4 -j 2 -T 12 -h 127.0.0.1 -p "$PORT" -U postgres tacho_test \
  >"$WORK/pgbench.log" 2>&1
check "pgbench ran" grep -q "number of transactions actually processed" "$WORK/pgbench.log"
fresh_collection main

scrape "$WORK/after-load.txt"
check "promtool check metrics accepts /metrics" bash -c "'$PROMTOOL' check metrics < '$WORK/after-load.txt'"
exported=$(grep -c '^pg_stat_statements_calls_total{.*target="main"' "$WORK/after-load.txt")
dropped=$(value "$WORK/after-load.txt" tacho_pg_statements_dropped 'target="main"')
echo "# main exports $exported statements, the cap left out $dropped"
check "statements are capped at top_k (plus sticky, at most 2 x top_k)" \
  bash -c "[ $exported -ge 100 ] && [ $exported -le 200 ]"
check "tacho_pg_statements_dropped counts the rest" bash -c "[ ${dropped%.*} -ge $((STATEMENTS - 200)) ]"
query_texts_ok() {
  tacho_python - "$WORK/after-load.txt" <<'PY'
import re, sys
texts = [m[1].replace('\\"', '"').replace('\\\\', '\\')
         for m in re.finditer(r'^pg_stat_statements_query_id\{queryid="-?\d+",query="((?:[^"\\]|\\.)*)",'
                              r'target="main"\} 1$', open(sys.argv[1]).read(), re.M)]
if len(texts) < 50:
    sys.exit(f"only {len(texts)} query texts")
for t in texts:
    if len(t) > 120 or "  " in t or "\n" in t or t != t.strip():
        sys.exit(f"not normalised: {t!r}")
print(f"{len(texts)} texts")
PY
}
check "query texts: one info series per exported queryid, normalised" query_texts_ok

# Per-statement counters equal pg_stat_statements (pgbench has finished, so its statements are
# quiet; every exported pgbench statement must match exactly).
psql_ tacho_test "SELECT r.rolname, d.datname, s.queryid, sum(s.calls), sum(s.total_exec_time) / 1000
  FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid
  WHERE s.query LIKE '%pgbench_%' GROUP BY 1, 2, 3" >"$WORK/direct-statements.txt"
compare_statements() {
  tacho_python - "$WORK/after-load.txt" "$WORK/direct-statements.txt" <<'PY'
import re, sys
exported = {}
for line in open(sys.argv[1]):
    m = re.match(r'pg_stat_statements_(calls|seconds)_total\{user="([^"]*)",datname="([^"]*)",'
                 r'queryid="(-?\d+)",target="main"\} (\S+)', line)
    if m:
        exported.setdefault((m[2], m[3], m[4]), {})[m[1]] = float(m[5])
matched = 0
for line in open(sys.argv[2]):
    user, db, qid, calls, secs = line.rstrip("\n").split("|")
    e = exported.get((user, db, qid))
    if e is None:
        continue
    matched += 1
    if e["calls"] != float(calls) or abs(e["seconds"] - float(secs)) > 1e-6 * max(1, float(secs)):
        sys.exit(f"queryid {qid}: tacho {e} vs pg_stat_statements calls={calls} seconds={secs}")
if matched < 3:
    sys.exit(f"only {matched} pgbench statements exported")
print(f"{matched} statements match")
PY
}
check "exported statement counters equal pg_stat_statements" compare_statements

# Totals that keep moving: direct read D1 <= tacho T <= direct read D2.
between() {  # between NAME DIRECT_SQL METRIC LABEL_REGEX
  local d1 t d2
  d1=$(psql_ tacho_test "$2")
  fresh_collection main || return 1
  t=$(metric "$3" "$4")
  d2=$(psql_ tacho_test "$2")
  echo "$1: $d1 <= $t <= $d2"
  awk -v a="$d1" -v b="$t" -v c="$d2" 'BEGIN { exit !(a <= b + 1e-9 && b <= c + 1e-9) }'
}
check "pg_stat_statements_database_calls_total is exact (all statements)" between calls \
  "SELECT sum(calls) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'tacho_test'" \
  pg_stat_statements_database_calls_total 'datname="tacho_test",target="main"'
check "pg_stat_database_xact_commit equals pg_stat_database" between commits \
  "SELECT xact_commit FROM pg_stat_database WHERE datname = 'tacho_test'" \
  pg_stat_database_xact_commit 'datname="tacho_test",target="main"'
check "pg_stat_database_tup_inserted equals pg_stat_database" between inserts \
  "SELECT tup_inserted FROM pg_stat_database WHERE datname = 'tacho_test'" \
  pg_stat_database_tup_inserted 'datname="tacho_test",target="main"'

check "health families are present" bash -c "
  for m in pg_static pg_postmaster_start_time_seconds pg_replication_is_replica \
           pg_settings_max_connections pg_settings_superuser_reserved_connections \
           pg_stat_activity_connections pg_stat_activity_max_tx_duration pg_locks \
           pg_stat_bgwriter_checkpoints_timed_total pg_stat_wal_bytes_total pg_database_size_bytes \
           pg_stat_activity_application_connections pg_stat_statements_entries \
           pg_stat_statements_dealloc_total pg_stat_user_tables_n_live_tup pg_index_size_bytes \
           pg_index_properties pg_stat_user_indexes_idx_scans_total; do
    grep -q \"^\$m{.*target=\\\"main\\\"\" '$WORK/after-load.txt' || { echo \"missing \$m\"; exit 1; }
  done"
check "pgbench's connection pool shows up per application" \
  bash -c "grep -q '^pg_stat_activity_application_connections{application_name=\"tacho\",state=\"active\",target=\"main\"}' '$WORK/after-load.txt'"
check "tables beyond tables.top_k are counted" bash -c "
  v=\$(awk '/^tacho_pg_tables_dropped\\{datname=\"tacho_test\",target=\"main\"\\}/ {print \$NF}' '$WORK/after-load.txt')
  [ \"\${v%.*}\" -ge 60 ]"
check "databases beyond max_connections are skipped and counted" \
  bash -c "[ \"\$(awk '/^tacho_pg_databases_skipped\\{target=\"main\"\\}/ {print \$NF}' '$WORK/after-load.txt')\" = 4 ]"

echo "=== pg_stat_statements_reset()"
scrape "$WORK/before-reset.txt"
psql_ tacho_test "SELECT pg_stat_statements_reset()" >/dev/null
"$PGBIN/pgbench" -c 2 -T 3 -h 127.0.0.1 -p "$PORT" -U postgres tacho_test >/dev/null 2>&1
fresh_collection main
fresh_collection main
scrape "$WORK/after-reset.txt"
psql_ tacho_test "SELECT sum(calls) FROM pg_stat_statements" >"$WORK/calls-since-reset.txt"
no_negative_or_spike() {
  tacho_python - "$WORK/before-reset.txt" "$WORK/after-reset.txt" \
    "$(cat "$WORK/calls-since-reset.txt")" <<'PY'
import re, sys
def load(path):
    out = {}
    for line in open(path):
        m = re.match(r'(pg_stat_statements_(?:database_)?\w+_total)\{(.*)\} (\S+)', line)
        if m and 'target="main"' in m[2]:
            out[(m[1], m[2])] = float(m[3])
    return out
before, after = load(sys.argv[1]), load(sys.argv[2])
since = float(sys.argv[3])
common = [k for k in before if k in after]
if len(common) < 100:
    sys.exit(f"only {len(common)} series in common")
for k in common:
    if after[k] < before[k]:
        sys.exit(f"{k} went backwards: {before[k]} -> {after[k]}")
    if k[0].endswith("calls_total") and after[k] - before[k] > since + 1000:
        sys.exit(f"{k} spiked by {after[k] - before[k]} (only {since} calls since the reset)")
print(f"{len(common)} series, none decreased or spiked")
PY
}
check "no counter decreases or spikes across pg_stat_statements_reset()" no_negative_or_spike

echo "=== DDL: a table under AccessExclusiveLock is skipped, nothing waits"
errors_before=$(metric tacho_pg_query_errors_total 'query="tables",target="main"')
"$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d tacho_test \
  -c "BEGIN; LOCK TABLE t_5 IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;" >/dev/null &
LOCKER=$!
sleep 1
fresh_collection main
scrape "$WORK/locked.txt"
check "the locked table is left out while the others are exported" bash -c "
  ! grep -q 'relname=\"t_5\",target=\"main\"' '$WORK/locked.txt' &&
  grep -q '^pg_stat_user_tables_n_live_tup{datname=\"tacho_test\",schemaname=\"public\",relname=\"pgbench_accounts\",target=\"main\"}' '$WORK/locked.txt'"
check "collections under DDL finish without query errors" bash -c "
  [ \"\$(awk '/^pg_up\\{target=\"main\"\\}/ {print \$NF}' '$WORK/locked.txt')\" = 1 ] &&
  [ \"\$(awk '/^tacho_pg_query_errors_total\\{query=\"tables\",target=\"main\"\\}/ {print \$NF}' '$WORK/locked.txt')\" = '${errors_before}' ]"
wait "$LOCKER"
fresh_collection main
check "the table is back once the lock is released" \
  bash -c "curl -sf '$URL' | grep -q 'pg_stat_user_tables_n_live_tup{datname=\"tacho_test\",schemaname=\"public\",relname=\"t_5\",target=\"main\"}'"

echo "=== pg_monitor user and a database without the extension"
scrape "$WORK/instances.txt"
check "monitor: statistics readable by a pg_monitor user" bash -c "
  [ \"\$(awk '/^tacho_pg_stat_statements_available\\{target=\"monitor\"\\}/ {print \$NF}' '$WORK/instances.txt')\" = 1 ] &&
  [ \"\$(awk '/^tacho_pg_statements_hidden\\{target=\"monitor\"\\}/ {print \$NF}' '$WORK/instances.txt')\" = 0 ] &&
  grep -q '^pg_stat_statements_calls_total{user=\"postgres\",datname=\"tacho_test\",.*target=\"monitor\"}' '$WORK/instances.txt' &&
  grep -q '^pg_stat_user_tables_seq_scan{.*target=\"monitor\"}' '$WORK/instances.txt' &&
  grep -q '^pg_database_size_bytes{datname=\"tacho_test\",target=\"monitor\"}' '$WORK/instances.txt'"
check "noext: up, says pg_stat_statements is unavailable, the rest works" bash -c "
  [ \"\$(awk '/^pg_up\\{target=\"noext\"\\}/ {print \$NF}' '$WORK/instances.txt')\" = 1 ] &&
  [ \"\$(awk '/^tacho_pg_stat_statements_available\\{target=\"noext\"\\}/ {print \$NF}' '$WORK/instances.txt')\" = 0 ] &&
  ! grep -q '^pg_stat_statements_calls_total{.*target=\"noext\"' '$WORK/instances.txt' &&
  grep -q '^pg_stat_database_xact_commit{datid=\"[0-9]*\",datname=\"nopgss\",target=\"noext\"}' '$WORK/instances.txt'"
check "nopreload: up, says pg_stat_statements is unavailable, one log line gives the fix" bash -c "
  [ \"\$(awk '/^tacho_pg_stat_statements_available\\{target=\"nopreload\"\\}/ {print \$NF}' '$WORK/instances.txt')\" = 0 ] &&
  grep -q '^pg_stat_database_xact_commit{.*target=\"nopreload\"}' '$WORK/instances.txt' &&
  [ \$(grep -c 'pg_stat_statements is installed but not loaded.*shared_preload_libraries' '$WORK/agent.log') = 1 ]"
check "noext: one log line gives the fix" bash -c "
  [ \$(grep -c 'not installed in database \"nopgss\".*CREATE EXTENSION pg_stat_statements' '$WORK/agent.log') = 1 ]"
check "no password in the log, /metrics or /api/v1/status" bash -c "
  ! grep -q -e '$MON_PASSWORD' -e '$TACHO_PG_PASSWORD' '$WORK/agent.log' '$WORK/instances.txt' &&
  ! curl -sf '$AGENT_URL/api/v1/status' | grep -q -e '$MON_PASSWORD' -e '$TACHO_PG_PASSWORD'"

echo "=== restart"
errors_before=$(metric tacho_collector_errors_total 'target="main"')
as_pg "$PGBIN/pg_ctl" -D "$TACHO_PG_DATA" -m fast -w -t 60 stop >/dev/null
check "pg_up drops to 0 while the server is down" wait_for 15 up_is main 0
sleep 2
as_pg "$PGBIN/pg_ctl" -D "$TACHO_PG_DATA" -l "$TACHO_PG_LOG" -w -t 60 start >/dev/null
check "pg_up returns to 1 after the restart" wait_for 30 up_is main 1
check "the agent is still running" kill -0 "$AGENT"
check "the failure was counted" bash -c "
  awk -v a=\"\$(curl -sf '$URL' | awk '/^tacho_collector_errors_total\\{collector=\"postgres\",target=\"main\"\\}/ {print \$NF}')\" -v b='$errors_before' 'BEGIN { exit !(a > b) }'"

echo "=== SIGSTOP"
touch "$WORK/pause-sampler"
sleep 0.5
POSTMASTER=$(head -n 1 "$TACHO_PG_DATA/postmaster.pid")
STOPPED_PIDS="$POSTMASTER $(pgrep -P "$POSTMASTER" | tr '\n' ' ')"
timeouts_before=$(metric tacho_collector_timeouts_total 'target="main"')
kill -STOP $STOPPED_PIDS
sleep 3
slow=0
for _ in 1 2 3 4 5; do
  t=$(curl -s -o /dev/null -w '%{time_total}' --max-time 2 "$URL" || echo 9)
  awk -v t="$t" 'BEGIN { exit !(t < 0.5) }' || slow=$((slow + 1))
  sleep 0.4
done
check "/metrics answers promptly while the server is frozen" test "$slow" -eq 0
check "collections time out while the server is frozen" bash -c "
  awk -v a=\"\$(curl -sf '$URL' | awk '/^tacho_collector_timeouts_total\\{collector=\"postgres\",target=\"main\"\\}/ {print \$NF}')\" -v b='$timeouts_before' 'BEGIN { exit !(a > b) }'"
check "pg_up is 0 while the server is frozen" up_is main 0
kill -CONT $STOPPED_PIDS
STOPPED_PIDS=""
rm -f "$WORK/pause-sampler"
check "pg_up returns to 1 after SIGCONT" wait_for 40 up_is main 1
check "the other instances recover too" bash -c "
  for t in monitor noext; do
    for i in \$(seq 60); do
      curl -sf '$URL' | grep -q \"^pg_up{target=\\\"\$t\\\"} 1\" && continue 2
      sleep 0.5
    done
    echo \"\$t did not recover\"; exit 1
  done"

echo "=== the end"
fresh_collection main
echo "# most tacho sessions of the main instance seen in pg_stat_activity: $(cat "$WORK/max-connections" 2>/dev/null || echo 0)"
check "tacho never held more than max_connections sessions (pg_stat_activity)" \
  bash -c "n=\$(cat '$WORK/max-connections' 2>/dev/null || echo 0); echo \"max seen: \$n\"; [ \$n -ge 1 ] && [ \$n -le 3 ]"
check "tacho_pg_connections_open stays within the cap" \
  bash -c "[ \"\$(curl -sf '$URL' | awk '/^tacho_pg_connections_open\\{target=\"main\"\\}/ {print \$NF}')\" -le 3 ]"
scrape "$WORK/final.txt"
check "promtool check metrics accepts the final /metrics" bash -c "'$PROMTOOL' check metrics < '$WORK/final.txt'"
check "the agent exits cleanly on SIGTERM" bash -c "kill -TERM $AGENT; for i in \$(seq 50); do kill -0 $AGENT 2>/dev/null || exit 0; sleep 0.2; done; exit 1"

if [ "$FAILED" -gt 0 ]; then
  echo "--- agent log (last 40 lines)"
  tail -n 40 "$WORK/agent.log"
fi
check_summary
