#!/usr/bin/env bash
# Rewrites the files generated from the configuration declarations: config/tacho.example.toml,
# each collectors/<folder>/sample.toml, and the key table between the
# "<!-- BEGIN GENERATED CONFIG: <kind> -->" and "<!-- END GENERATED CONFIG -->" lines of each
# collector README. The tests config.example_matches_print_sample_config,
# config.sample_matches_declarations.* and config.readme_table_matches_declarations.* fail until
# they are rewritten after a declaration changed.
#
#   scripts/update-generated-config.sh [path/to/tacho]    # default: build/agent/tacho
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tacho="${1:-$root/build/agent/tacho}"

"$tacho" --print-sample-config > "$root/config/tacho.example.toml"

# folder: the kinds its sample.toml holds, in order.
declare -A folder_kinds=([postgres]="postgres" [redis]="redis" [pool]="pgbouncer app_pool"
                         [process]="process")
for folder in "${!folder_kinds[@]}"; do
  # shellcheck disable=SC2086
  "$tacho" --print-sample-config ${folder_kinds[$folder]} > "$root/collectors/$folder/sample.toml"
  readme="$root/collectors/$folder/README.md"
  for kind in ${folder_kinds[$folder]}; do
    table="$(mktemp)"
    "$tacho" --print-config-reference "$kind" > "$table"
    grep -q "^<!-- BEGIN GENERATED CONFIG: $kind -->\$" "$readme" ||
      { echo "$readme has no '<!-- BEGIN GENERATED CONFIG: $kind -->' line" >&2; exit 1; }
    awk -v begin="<!-- BEGIN GENERATED CONFIG: $kind -->" -v table="$table" '
      $0 == begin { while ((getline line < table) > 0) print line; skipping = 1; next }
      skipping && $0 == "<!-- END GENERATED CONFIG -->" { skipping = 0; next }
      !skipping { print }' "$readme" > "$readme.new"
    mv "$readme.new" "$readme"
    rm -f "$table"
  done
done
