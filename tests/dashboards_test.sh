#!/usr/bin/env bash
# Shipped dashboards: valid JSON; every panel query is valid PromQL (promtool check rules on the
# queries turned into recording rules); every metric a query names is documented in README.md or
# a collector's README.md, so a renamed metric cannot silently empty a panel.
# Usage: dashboards_test.sh REPO_ROOT
set -uo pipefail
ROOT=${1:?usage: $0 REPO_ROOT}
PROMTOOL=$(command -v promtool || echo /usr/bin/promtool)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tacho-dash.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0

for dash in "$ROOT"/dashboards/grafana/*.json; do
  name=$(basename "$dash")
  if ! python3 - "$dash" "$WORK/rules.yml" "$WORK/metrics.txt" <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
exprs = []
def walk(panels):
    for p in panels:
        for t in p.get("targets", []):
            if t.get("expr"):
                exprs.append((p.get("title", "?"), t["expr"]))
        walk(p.get("panels", []))
walk(dash["panels"])
assert exprs, "no queries"
with open(sys.argv[2], "w") as out:
    out.write("groups:\n- name: dashboard\n  rules:\n")
    for i, (title, e) in enumerate(exprs):
        e = re.sub(r"\$\{?\w+\}?", ".*", e)
        out.write("  - record: dashboard:q%d\n    expr: %s\n" % (i, json.dumps(e)))
names = set()
keywords = {"sum", "by", "rate", "count", "max", "min", "avg", "or", "vector", "time", "and",
            "without", "on", "ignoring", "bool", "unless", "increase", "histogram_quantile",
            "irate", "delta", "label_values", "le", "group_left", "group_right", "offset"}
for _, e in exprs:
    e = re.sub(r'"[^"]*"', '""', e)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    for tok in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        if tok not in keywords and not re.match(r"^\d", tok) and "_" in tok:
            names.add(tok)
open(sys.argv[3], "w").write("\n".join(sorted(names)) + "\n")
print(f"{len(exprs)} queries, {len(names)} metric names")
PY
  then
    echo "FAIL - $name is not a valid dashboard"; failed=$((failed + 1)); continue
  fi
  if "$PROMTOOL" check rules "$WORK/rules.yml" > "$WORK/promtool.out" 2>&1; then
    echo "ok   - $name: every query is valid PromQL"; passed=$((passed + 1))
  else
    echo "FAIL - $name: promtool rejects a query"; cat "$WORK/promtool.out"; failed=$((failed + 1))
  fi
  undocumented=""
  while read -r metric; do
    [ -z "$metric" ] && continue
    if ! grep -rqwF -- "$metric" "$ROOT/README.md" "$ROOT"/collectors/*/README.md; then
      undocumented="$undocumented $metric"
    fi
  done < "$WORK/metrics.txt"
  if [ -z "$undocumented" ]; then
    echo "ok   - $name: every metric it queries is documented"; passed=$((passed + 1))
  else
    echo "FAIL - $name queries undocumented metrics:$undocumented"; failed=$((failed + 1))
  fi
done
# The shipped Prometheus rule file (tacho rules export): every metric it names is documented, or
# listed in tests/pending_metrics.txt while its collector has not landed.
for rules in "$ROOT"/dashboards/prometheus/*.yml; do
  name=$(basename "$rules")
  python3 - "$rules" > "$WORK/rule_metrics.txt" <<'PY'
import json, re, sys
names = set()
keywords = {"by", "on", "ignoring", "without", "group_left", "group_right", "bool", "and", "or",
            "unless", "sum", "avg", "min", "max", "count", "rate", "increase", "avg_over_time",
            "max_over_time", "min_over_time"}
for line in open(sys.argv[1]):
    m = re.match(r'\s*expr:\s*(".*")\s*$', line)
    if not m:
        continue
    e = json.loads(m.group(1))
    e = re.sub(r'"[^"]*"', '""', e)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    for tok in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
        if tok not in keywords and "_" in tok:
            names.add(tok)
print("\n".join(sorted(names)))
PY
  undocumented=""
  while read -r metric; do
    [ -z "$metric" ] && continue
    grep -qxF -- "$metric" "$ROOT/tests/pending_metrics.txt" && continue
    if ! grep -rqwF -- "$metric" "$ROOT/README.md" "$ROOT"/collectors/*/README.md; then
      undocumented="$undocumented $metric"
    fi
  done < "$WORK/rule_metrics.txt"
  count=$(grep -c . "$WORK/rule_metrics.txt")
  if [ -z "$undocumented" ] && [ "$count" -gt 0 ]; then
    echo "ok   - $name: all $count metrics its rules use are documented"; passed=$((passed + 1))
  else
    echo "FAIL - $name uses undocumented metrics:$undocumented"; failed=$((failed + 1))
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
