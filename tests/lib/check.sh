# shellcheck shell=bash
# The one library of tacho's shell tests (tests/e2e/, tests/integration/, tests/dashboards_test.sh):
# named checks with a pass/fail tally, polling, sample lookups in an exposition, and starting
# tacho and the fake HTTP peers of tests/fakes/. Sourcing it also sources scripts/lib/servers.sh
# (the tacho_start_* servers, and common.sh: tacho_python_bin, tacho_agent_config, ...) and sets
# ROOT to the repository root. A test reads:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
#   TACHO=${1:?usage: $0 /path/to/tacho}
#   check_begin tacho-pool-test          # WORK, and the EXIT trap that cleans up
#   tacho_agent_config "$WORK/tacho.toml" "$WORK/state" <<EOF ... EOF
#   start_agent agent "$WORK/tacho.toml"  # -> AGENT_PID, AGENT_URL
#   check "pg_up is 1" wait_for 30 is pg_up 'target="main"' 1
#   ...
#   check_summary                        # "N passed, M failed"; non-zero if anything failed
#
# Every check prints one line naming what it checked ("ok   - NAME" or "FAIL - NAME" with the
# command's output indented below), so the CTest log shows what ran.

if [ -n "${_TACHO_CHECK_SH:-}" ]; then return 0; fi
_TACHO_CHECK_SH=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/lib/servers.sh
source "$ROOT/scripts/lib/servers.sh"

PASSED=0
FAILED=0

# ---------------------------------------------------------------------------------------------
# Set-up

# check_begin PREFIX [CLEANUP]: WORK = a new directory ${TMPDIR:-/tmp}/PREFIX.XXXXXX. On exit
# every server and tracked pid is stopped first (tacho_stop_all), then the function named
# CLEANUP runs, then WORK is removed. Call it directly in the test's shell (not in $(...)) and
# before any other EXIT trap is set.
check_begin() {
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  _CHECK_CLEANUP="${2:-}"
  trap '${_CHECK_CLEANUP:+$_CHECK_CLEANUP}; rm -rf "$WORK"' EXIT
  tacho_servers_cleanup_on_exit  # chained before the trap above
}

# ---------------------------------------------------------------------------------------------
# Results

# pass NAME: counts a success and prints "ok   - NAME".
pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
# fail NAME [DETAIL]: counts a failure and prints "FAIL - NAME", then DETAIL indented.
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; if [ -n "${2:-}" ]; then sed 's/^/    /' <<<"$2"; fi; }
# check NAME CMD...: runs CMD in a subshell (its variable assignments are lost); pass if it
# exits 0, else fail with its stdout and stderr.
check() {
  local name="$1" out; shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}
# check_output NAME ERE CMD...: pass if CMD exits 0 and a line of its output matches ERE.
check_output() {
  local name="$1" want="$2" out; shift 2
  if out=$("$@" 2>&1) && grep -Eq -- "$want" <<<"$out"; then pass "$name"
  else fail "$name" "expected /$want/, got: $out"; fi
}
# check_fails NAME ERE CMD...: pass if CMD exits non-zero and a line of its output matches ERE.
check_fails() {
  local name="$1" want="$2" out; shift 2
  if out=$("$@" 2>&1); then fail "$name" "expected failure, got success: $out"
  elif grep -Eq -- "$want" <<<"$out"; then pass "$name"
  else fail "$name" "expected /$want/, got: $out"; fi
}
# check_summary: prints "N passed, M failed"; returns 1 if any check failed.
check_summary() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
}

# ---------------------------------------------------------------------------------------------
# Polling and HTTP

# wait_for SECONDS CMD...: runs CMD (output discarded) every 0.2 s until it exits 0; returns 1
# if SECONDS pass first.
wait_for() { tacho_wait_for "$@"; }

# http_grep URL GREP_ARGS...: the body of URL (curl -f: an HTTP error fails) has a line
# `grep -q GREP_ARGS` accepts. The body is read in full before grep runs: under pipefail,
# `curl | grep -q` fails whenever grep matches and exits before curl has written the rest.
http_grep() {
  local body
  body=$(curl -fsS --max-time 5 "$1") && grep -q "${@:2}" <<<"$body"
}

# ---------------------------------------------------------------------------------------------
# Expositions

# value FILE METRIC [LABEL_REGEX]: prints the value of METRIC's first sample whose line matches
# LABEL_REGEX (an awk ERE); nothing if there is none.
value() {
  awk -v m="$2" -v re="${3:-}" '
    (index($0, m "{") == 1 || index($0, m " ") == 1) && (re == "" || $0 ~ re) { print $NF; exit }' "$1"
}
# scrape FILE: writes a fresh /metrics of the agent start_agent started last to FILE.
scrape() { curl -sf --max-time 5 "$AGENT_URL/metrics" >"$1"; }
# metric METRIC [LABEL_REGEX]: value of a fresh scrape, which is kept in $WORK/m.prom.
metric() { scrape "$WORK/m.prom" && value "$WORK/m.prom" "$1" "${2:-}"; }
# is METRIC LABEL_REGEX VALUE: a fresh scrape has that value, compared as text ("1" is not "1.0").
is() { [ "$(metric "$1" "$2")" = "$3" ]; }
# above METRIC LABEL_REGEX THRESHOLD: a fresh scrape has a value numerically above THRESHOLD.
above() { awk -v v="$(metric "$1" "$2")" -v t="$3" 'BEGIN { exit !(v != "" && v + 0 > t) }'; }

# ---------------------------------------------------------------------------------------------
# Processes

# start_agent NAME CONFIG [SECONDS]: starts $TACHO --config CONFIG in the background, output
# appended to $WORK/NAME.log, its address in $WORK/NAME.addr, tracked by tacho_stop_all; waits
# up to SECONDS (default 20) for the address, else prints the log's tail and exits the test
# with 1. Sets AGENT_PID (a child of this shell: `wait "$AGENT_PID"` gives its exit code),
# AGENT_ADDR (host:port) and AGENT_URL (http://host:port). Environment for tacho goes before
# the call: `TACHO_TEST_PASSWORD=x start_agent ...`. Call it directly, not in $(...).
start_agent() {
  rm -f "$WORK/$1.addr"
  "$TACHO" --config "$2" --listen-address-file "$WORK/$1.addr" >>"$WORK/$1.log" 2>&1 &
  AGENT_PID=$!
  tacho_track_pid "$AGENT_PID"
  if ! wait_for "${3:-20}" test -s "$WORK/$1.addr"; then
    echo "tacho $1 did not start"; tail -n 30 "$WORK/$1.log"; exit 1
  fi
  AGENT_ADDR=$(head -n 1 "$WORK/$1.addr")
  AGENT_URL="http://$AGENT_ADDR"
}

# start_fake NAME SCRIPT [ARGS...]: starts tests/fakes/SCRIPT (python) with --port-file
# $WORK/NAME.port and ARGS in the background, output in $WORK/NAME.out, tracked by
# tacho_stop_all; waits up to 10 s for the port, else prints the output and exits the test
# with 1. Sets FAKE_PID (the interpreter's own pid) and FAKE_PORT. Call it directly.
start_fake() {
  local name="$1" script="$2"; shift 2
  rm -f "$WORK/$name.port"
  "$(tacho_python_bin)" "$ROOT/tests/fakes/$script" --port-file "$WORK/$name.port" "$@" \
    >>"$WORK/$name.out" 2>&1 &
  FAKE_PID=$!
  tacho_track_pid "$FAKE_PID"
  if ! wait_for 10 test -s "$WORK/$name.port"; then
    echo "$script ($name) did not start"; cat "$WORK/$name.out"; exit 1
  fi
  # shellcheck disable=SC2034  # for the caller
  FAKE_PORT=$(cat "$WORK/$name.port")
}
