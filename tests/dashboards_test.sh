#!/usr/bin/env bash
# Shipped dashboards: valid JSON; every panel query is valid PromQL (promtool check rules on the
# queries turned into recording rules); every metric a query names is documented in README.md or
# a collector's README.md, so a renamed metric cannot silently empty a panel.
# Usage: dashboards_test.sh REPO_ROOT
set -uo pipefail
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/check.sh"
ROOT=${1:?usage: $0 REPO_ROOT}
check_begin tacho-dash
PROMTOOL=$(tacho_promtool) || { echo "promtool missing"; exit 1; }

for dash in "$ROOT"/dashboards/grafana/*.json; do
  name=$(basename "$dash")
  if ! tacho_python - "$dash" "$WORK/rules.yml" "$WORK/metrics.txt" <<'PY'
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
    fail "$name is not a valid dashboard"; continue
  fi
  check "$name: every query is valid PromQL" "$PROMTOOL" check rules "$WORK/rules.yml"
  undocumented=""
  while read -r metric; do
    [ -z "$metric" ] && continue
    if ! grep -rqwF -- "$metric" "$ROOT/README.md" "$ROOT"/collectors/*/README.md; then
      undocumented="$undocumented $metric"
    fi
  done < "$WORK/metrics.txt"
  if [ -z "$undocumented" ]; then pass "$name: every metric it queries is documented"
  else fail "$name queries undocumented metrics:$undocumented"; fi
done
# The shipped Prometheus rule file (tacho rules export): every metric it names is documented, or
# listed in tests/pending_metrics.txt while its collector has not landed.
for rules in "$ROOT"/dashboards/prometheus/*.yml; do
  name=$(basename "$rules")
  tacho_python - "$rules" > "$WORK/rule_metrics.txt" <<'PY'
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
    pass "$name: all $count metrics its rules use are documented"
  else
    fail "$name uses undocumented metrics:$undocumented"
  fi
done

check_summary
