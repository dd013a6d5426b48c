# Shared helpers of the shell integration tests: named checks with a pass/fail tally, polling
# and sample lookups in an exposition. Source it once near the top of a test:
#
#   source "$ROOT/tests/lib/check.sh"
#   check "pg_up is 1" wait_for 30 up_is main 1
#   ...
#   check_summary   # prints "N passed, M failed"; returns non-zero if anything failed
#
#   pass NAME / fail NAME [DETAIL]   record a result ("ok   - NAME" / "FAIL - NAME")
#   check NAME CMD...                run CMD; pass if it succeeds, else fail with its output
#   wait_for SECONDS CMD...          poll CMD every 0.2 s until it succeeds or time runs out
#   value FILE METRIC [LABEL_REGEX]  the value of METRIC's first sample matching the regex

PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; if [ -n "${2:-}" ]; then sed 's/^/    /' <<<"$2"; fi; }
check() {
  local name="$1" out; shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}
value() {
  awk -v m="$2" -v re="${3:-}" '
    (index($0, m "{") == 1 || index($0, m " ") == 1) && (re == "" || $0 ~ re) { print $NF; exit }' "$1"
}
check_summary() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ]
}
