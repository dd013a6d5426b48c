#!/usr/bin/env bash
# Differential test of tacho's PromQL subset: a real Prometheus (Debian's) scrapes a fixture
# exposition (tests/fakes/exposition_server.py) every second; after ~75 s the raw samples are
# read back from Prometheus and handed to `tacho rules eval`, and every expression below must
# give the same result (label sets and values) as Prometheus' /api/v1/query at the same instant.
# Usage: promql_diff_test.sh /path/to/tacho
set -uo pipefail

TACHO=${1:?usage: $0 /path/to/tacho}
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
check_begin tacho-promql-diff

start_fake fixture exposition_server.py
tacho_start_prometheus "127.0.0.1:$FAKE_PORT" || exit 1

EXPRS=(
  'fx_conns'
  'fx_conns{state="idle"}'
  'fx_conns{state!="idle"}'
  'fx_conns{state=~"id.*"}'
  'fx_conns{state!~"id.*",db=~"x|y"}'
  'rate(fx_requests_total[1m])'
  'increase(fx_requests_total[30s])'
  'rate(fx_requests_total{handler="/b"}[1m])'
  'increase(fx_requests_total{handler="/b"}[45s])'
  'avg_over_time(fx_temp[1m])'
  'max_over_time(fx_temp[30s])'
  'min_over_time(fx_conns[1m])'
  'sum by (db) (fx_conns)'
  'sum without (state) (fx_conns)'
  'avg(fx_conns)'
  'min by (state) (fx_conns)'
  'max(fx_conns) by (db)'
  'count by (db) (fx_conns)'
  'count(fx_conns)'
  'sum by (db, job, instance) (fx_conns) / fx_max_conns'
  'sum by (db) (fx_conns) / on (db) fx_max_conns'
  'fx_conns / ignoring (state) group_left fx_max_conns'
  'fx_max_conns / ignoring (state) group_right fx_conns'
  '(fx_conns > 4) / on (db) group_left fx_max_conns'
  'fx_conns > 5'
  'fx_conns > bool 5'
  '5 < fx_conns'
  'fx_conns == 3'
  'fx_conns != 3'
  'fx_conns <= 4'
  'fx_conns >= 4'
  'fx_conns * 2 + 1'
  '-fx_conns'
  'fx_conns % 3'
  '2 ^ fx_conns'
  'fx_conns - fx_conns'
  'fx_conns and fx_conns{state="idle"}'
  'fx_conns unless on (db) fx_max_conns{db="y"}'
  'fx_max_conns or fx_conns'
  'sum by (handler) (rate(fx_requests_total[1m]))'
  'rate(fx_requests_total{code="500"}[1m]) / ignoring (code) rate(fx_requests_total{code="200"}[1m])'
  'fx_up == 0'
  'sum by (db) (fx_conns) / on (db) fx_max_conns > 0.5'
  '1 + 2 * 3'
  '2 ^ 3 ^ 2'
  'fx_temp / 0'
)

echo "letting Prometheus scrape for 75 s"
sleep 75
T=$(tacho_python -c 'import time; print("%.3f" % (time.time() - 1.5))')
curl -fsS --get "$TACHO_PROM_URL/api/v1/query" --data-urlencode 'query={__name__=~"fx_.*"}[10m]' \
  --data-urlencode "time=$T" >"$WORK/samples.json" || { echo "cannot read samples"; exit 1; }
"$TACHO" rules eval --samples "$WORK/samples.json" --time "$T" "${EXPRS[@]}" >"$WORK/tacho.out"
for e in "${EXPRS[@]}"; do
  curl -fsS --get "$TACHO_PROM_URL/api/v1/query" --data-urlencode "query=$e" \
    --data-urlencode "time=$T" || echo '{"status":"error","error":"curl failed"}'
  echo
done >"$WORK/prom.out"

# One line per expression: "ok<TAB>EXPR (RESULT)" or "FAIL<TAB>EXPR<TAB>TACHO<TAB>PROMETHEUS".
tacho_python - "$WORK/tacho.out" "$WORK/prom.out" "${EXPRS[@]}" >"$WORK/compared.tsv" <<'PY'
import json, math, sys
tacho = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
prom = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
exprs = sys.argv[3:]

def same(a, b):
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))

def norm(r):
    if r["status"] != "success":
        return ("error", None)
    d = r["data"]
    if d["resultType"] == "scalar":
        return ("scalar", d["result"][1])
    return ("vector", {json.dumps(s["metric"], sort_keys=True): s["value"][1] for s in d["result"]})

for i, e in enumerate(exprs):
    t = norm(tacho[i]) if i < len(tacho) else ("missing", None)
    p = norm(prom[i]) if i < len(prom) else ("missing", None)
    ok = t[0] == p[0]
    if ok and t[0] == "scalar":
        ok = same(t[1], p[1])
    elif ok and t[0] == "vector":
        ok = t[1].keys() == p[1].keys() and all(same(t[1][k], p[1][k]) for k in t[1])
    if ok:
        print("ok\t%s (%s)" % (e, "%d series" % len(t[1]) if t[0] == "vector" else t[0]))
    else:
        print("FAIL\t%s\t%s\t%s" % (e, json.dumps(tacho[i] if i < len(tacho) else None)[:600],
                                    json.dumps(prom[i] if i < len(prom) else None)[:600]))
PY
compared=0
while IFS=$'\t' read -r verdict name tacho_result prom_result; do
  compared=$((compared + 1))
  if [ "$verdict" = ok ]; then pass "$name"
  else fail "$name" "$(printf 'tacho:      %s\nprometheus: %s' "$tacho_result" "$prom_result")"; fi
done <"$WORK/compared.tsv"
check "every expression was compared (${#EXPRS[@]})" test "$compared" -eq "${#EXPRS[@]}"
check_summary
