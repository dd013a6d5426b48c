#!/usr/bin/env bash
# Checks or fixes the formatting of tacho's C++ sources with Debian's clang-format and the
# repository's .clang-format (Google style, 100 columns).
#
#   scripts/format.sh --check [FILE...]   list every file whose formatting differs; exit 1 if any
#   scripts/format.sh --fix [FILE...]     rewrite those files in place
#
# Without FILEs: every C++ file (*.h, *.cc, *.hpp, *.cpp) under base/ config/ agent/ collectors/
# exporters/ tests/ bench/ that git tracks or would track (untracked, not ignored). FILEs may lie
# anywhere; they are formatted with this repository's .clang-format all the same. Exit status:
# 0 when nothing differs (--check) or everything was rewritten (--fix), 1 when --check found
# files to format, 2 on a usage error or a missing clang-format (Debian package clang-format).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIRS=(base config agent collectors exporters tests bench)

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

mode=""
case "${1:-}" in
  --check|--fix) mode="$1"; shift ;;
  -h|--help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

clang_format=""
for c in clang-format clang-format-14; do
  if command -v "$c" >/dev/null 2>&1; then clang_format=$(command -v "$c"); break; fi
done
if [ -z "$clang_format" ]; then
  echo "format.sh: clang-format not found (Debian package clang-format; scripts/install-deps.sh)" >&2
  exit 2
fi
style="file:$ROOT/.clang-format"

files=()
if [ $# -gt 0 ]; then
  files=("$@")
else
  cd "$ROOT"
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files --cached --others --exclude-standard -- "${DIRS[@]}" |
      grep -E '\.(h|cc|hpp|cpp)$' | sort -u)
  else
    mapfile -t files < <(find "${DIRS[@]}" -type f \( -name '*.h' -o -name '*.cc' \
      -o -name '*.hpp' -o -name '*.cpp' \) 2>/dev/null | sort)
  fi
fi

for f in "${files[@]}"; do
  [ -f "$f" ] || { echo "format.sh: no such file: $f" >&2; exit 2; }
done
# One clang-format for all files: --dry-run -Werror reports every differing spot as
# "FILE:LINE:COL: error: code should be clang-formatted".
differ=()
if [ ${#files[@]} -gt 0 ]; then
  mapfile -t differ < <("$clang_format" --style="$style" --dry-run -Werror "${files[@]}" 2>&1 |
    sed -n 's/^\(.*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u)
fi

echo "$(basename "$clang_format") $("$clang_format" --version | sed -n 's/.*version \([0-9.]*\).*/\1/p'):" \
  "${#differ[@]} of ${#files[@]} files differ from .clang-format"
if [ "$mode" = --check ]; then
  if [ ${#differ[@]} -gt 0 ]; then
    printf '  %s\n' "${differ[@]}"
    echo "run scripts/format.sh --fix to rewrite them"
    exit 1
  fi
else
  for f in "${differ[@]}"; do
    "$clang_format" --style="$style" -i "$f"
    echo "  formatted $f"
  done
fi
