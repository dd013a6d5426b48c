#!/usr/bin/env bash
# End-to-end: the real tacho binary on port 0, scraped over HTTP, checked with promtool;
# SIGHUP with a broken config keeps the old one running; SIGTERM stops it cleanly.
# Usage: agent_e2e_test.sh /path/to/tacho
set -uo pipefail

TACHO=${1:?usage: $0 /path/to/tacho}
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
check_begin tacho-e2e
PROMTOOL=$(tacho_promtool) || { echo "promtool missing"; exit 1; }

write_config() {  # write_config extra-group-name
  tacho_agent_config "$WORK/tacho.toml" "$WORK/state" <<TOML
[[collectors.process]]
name = "self"
interval = "1s"

[[collectors.process.groups]]
name = "tacho"
self = true
TOML
  if [ -n "${1:-}" ]; then
    printf '\n[[collectors.process.groups]]\nname = "%s"\ncomm = ["bash"]\n' "$1" >> "$WORK/tacho.toml"
  fi
}

# --- command line ---------------------------------------------------------------------------
check "--version prints the version" bash -c "'$TACHO' --version | grep -Eq '^tacho [0-9]+\.[0-9]+\.[0-9]+ '"
"$TACHO" --print-sample-config > "$WORK/sample.toml"
check "--print-sample-config output passes --check-config" "$TACHO" --check-config "$WORK/sample.toml"
printf '[[collectors.process]]\nname = "x"\nintervall = "5s"\n' > "$WORK/bad.toml"
"$TACHO" --check-config "$WORK/bad.toml" > "$WORK/check.out" 2>&1
rc=$?
check "--check-config on a bad file exits 2" test "$rc" -eq 2
check "--check-config names file:line:col and suggests" \
  grep -q "bad.toml:3:1: unknown key 'intervall' in \[\[collectors.process\]\] 'x'; did you mean 'interval'?" "$WORK/check.out"
printf '[[collectors.process]]\nname = "x"\n[[collectors.process.groups]]\nname = "g"\ncmdline = "(unclosed"\n' > "$WORK/badre.toml"
"$TACHO" --check-config "$WORK/badre.toml" > "$WORK/checkre.out" 2>&1
rc=$?
check "--check-config configures collectors (bad regex exits 2 with position)" \
  bash -c "[ $rc -eq 2 ] && grep -q 'badre.toml:5:' '$WORK/checkre.out'"

write_config
"$TACHO" --config "$WORK/tacho.toml" --once > "$WORK/once.txt" 2> "$WORK/once.err"
rc=$?
check "--once exits 0 when every collector succeeds" test "$rc" -eq 0
check "--once exposition passes promtool check metrics" bash -c "'$PROMTOOL' check metrics < '$WORK/once.txt'"
check "--once exposition has the tacho group" \
  grep -Eq '^namedprocess_namegroup_num_procs\{groupname="tacho",target="self"\} 1$' "$WORK/once.txt"

# --- the server ---------------------------------------------------------------------------------
start_agent agent "$WORK/tacho.toml" 10
PID=$AGENT_PID
pass "listening on port 0 reports the bound address ($AGENT_ADDR)"
URL=$AGENT_URL

check "/healthz answers 200" http_grep "$URL/healthz" ok
check "/readyz turns 200 after the first collection" wait_for 10 curl -sf -o /dev/null "$URL/readyz"
curl -s -D "$WORK/headers" "$URL/metrics" -o "$WORK/metrics.txt"
check "/metrics has the exposition content type" \
  grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$WORK/headers"
check "/metrics passes promtool check metrics" bash -c "'$PROMTOOL' check metrics < '$WORK/metrics.txt'"
for family in tacho_build_info tacho_scrape_collector_success tacho_scrape_collector_duration_seconds \
    tacho_collector_last_success_timestamp_seconds tacho_collector_skipped_total \
    tacho_collector_errors_total tacho_config_last_reload_successful process_cpu_seconds_total \
    process_resident_memory_bytes process_open_fds process_start_time_seconds \
    namedprocess_namegroup_cpu_seconds_total tacho_host_cpus; do
  check "/metrics has $family" grep -q "^$family[{ ]" "$WORK/metrics.txt"
done
check "every family has HELP" bash -c "
  types=\$(grep -c '^# TYPE' '$WORK/metrics.txt'); helps=\$(grep -c '^# HELP' '$WORK/metrics.txt')
  [ \"\$types\" -eq \"\$helps\" ] && [ \"\$types\" -gt 10 ]"
check "/metrics is gzip-compressed when the scraper accepts it" bash -c "
  curl -s -H 'Accept-Encoding: gzip' -D '$WORK/gzheaders' '$URL/metrics' -o '$WORK/metrics.gz' &&
  grep -qi '^content-encoding: gzip' '$WORK/gzheaders' && gzip -dc '$WORK/metrics.gz' | grep -q '^tacho_build_info'"
check "/api/v1/status is JSON naming the collector" bash -c "
  curl -sf '$URL/api/v1/status' | python3 -c 'import json,sys; d=json.load(sys.stdin); \
  c=d[\"collectors\"][0]; sys.exit(0 if d[\"ready\"] and c[\"name\"]==\"self\" and c[\"state\"]==\"up\" else 1)'"
check "/ is an HTML landing page listing the collector" http_grep "$URL/" '<td>self</td>'
check "unknown path is 404" bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$URL/nope') = 404 ]"

# --- SIGHUP with a broken config keeps the old one -------------------------------------------------
printf '[[collectors.process]]\nname = "self"\ninterval = "1s"\nbogus = 1\n' > "$WORK/tacho.toml"
kill -HUP "$PID"
check "broken reload is logged with file:line:col" \
  wait_for 5 grep -q "reload failed, keeping the running configuration: .*tacho.toml:4:1: unknown key 'bogus'" "$WORK/agent.log"
check "tacho survives a broken reload" kill -0 "$PID"
check "tacho_config_last_reload_successful drops to 0" \
  http_grep "$URL/metrics" '^tacho_config_last_reload_successful 0'
check "old configuration keeps collecting" \
  http_grep "$URL/metrics" -E '^namedprocess_namegroup_num_procs\{groupname="tacho",target="self"\} 1'

# --- SIGHUP with a good config applies it ----------------------------------------------------------
write_config shells
kill -HUP "$PID"
check "good reload applies the new group" \
  wait_for 10 http_grep "$URL/metrics" 'namedprocess_namegroup_num_procs{groupname="shells"'
check "tacho_config_last_reload_successful back to 1" \
  http_grep "$URL/metrics" '^tacho_config_last_reload_successful 1'

# --- SIGTERM -------------------------------------------------------------------------------------
kill -TERM "$PID"
if wait_for 10 bash -c "! kill -0 $PID 2>/dev/null"; then
  wait "$PID"; rc=$?
  check "SIGTERM stops gracefully with exit 0" test "$rc" -eq 0
else
  fail "SIGTERM stops within 10s"
fi

if [ "$FAILED" -ne 0 ]; then
  echo "--- tacho log"; cat "$WORK/agent.log"
fi
check_summary
