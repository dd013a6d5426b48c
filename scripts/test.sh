#!/usr/bin/env bash
# Builds tacho and runs its test suite (unit and integration tests, through CTest).
#
#   scripts/test.sh [--sanitize address,undefined|thread] [-L LABEL] [-LE LABEL] [-R REGEX]
#                   [-E REGEX] [--build-dir DIR] [--skip-deps] [-- CTEST_ARGS...]
#
#   --sanitize S   build with -fsanitize=S in build-asan/ (address, undefined) or build-tsan/
#                  (thread) instead of build/
#   -L / -LE       run only tests with / without a CTest label: unit, integration
#   -R / -E        run only tests whose name matches / does not match REGEX
#   --build-dir    build somewhere else than build/ (or build-asan/, build-tsan/)
#   --skip-deps    don't run scripts/install-deps.sh
#
# Works from any directory. Installs the Debian packages it needs first (install-deps.sh), so a
# clean checkout on a fresh Debian 12 machine is enough. Exits non-zero if anything fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

sanitize=""
build_dir=""
skip_deps=0
ctest_filter=()
ctest_extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) sanitize="${2:?--sanitize needs a value}"; shift 2 ;;
    --sanitize=*) sanitize="${1#*=}"; shift ;;
    -L|-LE|-R|-E|--label-regex|--label-exclude|--tests-regex|--exclude-regex)
      ctest_filter+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    --build-dir) build_dir="${2:?--build-dir needs a value}"; shift 2 ;;
    --build-dir=*) build_dir="${1#*=}"; shift ;;
    --skip-deps) skip_deps=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; ctest_extra+=("$@"); break ;;
    *) echo "test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

case "$sanitize" in
  "") default_dir=build ;;
  *thread*)
    if [[ "$sanitize" == *address* ]]; then
      echo "test.sh: thread and address sanitizers can't be combined" >&2; exit 2
    fi
    default_dir=build-tsan ;;
  address|undefined|address,undefined|undefined,address) default_dir=build-asan ;;
  *) echo "test.sh: --sanitize must be address,undefined or thread, not '$sanitize'" >&2; exit 2 ;;
esac
build_dir="${build_dir:-$default_dir}"

echo "=== tacho: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit yet'), build dir $build_dir${sanitize:+, sanitize=$sanitize}"

if [ "$skip_deps" = 0 ]; then
  bash "$ROOT/scripts/install-deps.sh"
fi

jobs="$(nproc 2>/dev/null || echo 2)"

echo "=== configure"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTACHO_SANITIZE="$sanitize" -DTACHO_BUILD_TESTS=ON

echo "=== build (-j$jobs)"
cmake --build "$build_dir" -j "$jobs"

echo "=== test"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
# Integration tests start their own servers; keep their files out of the checkout.
export TMPDIR="${TMPDIR:-/tmp}"

runner=()
if [[ "$sanitize" == *thread* ]] && command -v setarch >/dev/null 2>&1; then
  # GCC 12's ThreadSanitizer aborts ("unexpected memory mapping") when the kernel randomizes
  # mmap with more entropy than it expects; run the tests with ASLR off.
  if setarch "$(uname -m)" -R true 2>/dev/null; then runner=(setarch "$(uname -m)" -R); fi
fi

rc=0
"${runner[@]}" ctest --test-dir "$build_dir" --output-on-failure --no-tests=error -j2 \
  "${ctest_filter[@]}" "${ctest_extra[@]}" || rc=$?
exit "$rc"
