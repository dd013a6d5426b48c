# shellcheck shell=bash
# Small helpers shared by tacho's scripts. Source it; it defines functions and TACHO_ROOT only.
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

if [ -n "${_TACHO_COMMON_SH:-}" ]; then return 0; fi
_TACHO_COMMON_SH=1

# The repository root (this file lives in scripts/lib/).
TACHO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

tacho_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
tacho_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Python 3 from Debian (/usr/bin/python3) rather than whatever is first in PATH.
tacho_python() { "$(tacho_python_bin)" "$@"; }
# The interpreter tacho_python runs. Start a background python with
# `"$(tacho_python_bin)" ... &`, not `tacho_python ... &`: `$!` of a backgrounded function is
# a subshell's pid, and killing that leaves the interpreter running.
tacho_python_bin() {
  if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3; fi
}

# tacho_agent_config FILE STATE_DIR [LOG_LEVEL]: writes FILE: an [agent] section listening on
# 127.0.0.1:0 (run tacho with --listen-address-file to learn the port) with STATE_DIR and
# LOG_LEVEL (default info), then stdin (the collector and alert sections).
tacho_agent_config() {
  {
    printf '[agent]\nlisten = "127.0.0.1:0"\nstate_dir = "%s"\nlog_level = "%s"\n\n' "$2" "${3:-info}"
    cat
  } >"$1"
}

# Number of CPUs to build with.
tacho_jobs() { nproc 2>/dev/null || echo 2; }

# tacho_wait_for SECONDS CMD...: runs CMD every 0.2 s until it succeeds; 1 on timeout.
tacho_wait_for() {
  local timeout="$1"; shift
  local deadline=$((SECONDS + timeout))
  while ! "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
    sleep 0.2
  done
}

# tacho_find_binary: prints the path of the tacho binary: $TACHO_BIN, else build/agent/tacho,
# else any build-*/agent/tacho; 1 if none exists.
tacho_find_binary() {
  local c
  for c in "${TACHO_BIN:-}" "$TACHO_ROOT/build/agent/tacho" "$TACHO_ROOT"/build-*/agent/tacho; do
    if [ -n "$c" ] && [ -x "$c" ]; then printf '%s\n' "$c"; return 0; fi
  done
  return 1
}
