#!/usr/bin/env bash
# Installs every Debian 12 package tacho needs to build, test, benchmark and run its demo.
# Idempotent: safe to run on every invocation of test.sh and demo.sh.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates
  clang-format
  # libraries (Boost 1.81 explicitly: the unversioned libboost-dev is 1.74)
  libboost1.81-dev libboost-json1.81-dev
  prometheus-cpp-dev libpqxx-dev libpq-dev libhiredis-dev
  libspdlog-dev libfmt-dev libtomlplusplus-dev
  googletest libgtest-dev libgmock-dev
  libssl-dev libcrypt-dev zlib1g-dev
  # real servers for integration tests and the demo
  postgresql-15 redis-server pgbouncer prometheus
  # peers measured by bench/
  prometheus-process-exporter prometheus-redis-exporter prometheus-postgres-exporter
  prometheus-pgbouncer-exporter
  # tools used by tests, the demo and benchmarks
  curl openssl procps python3 util-linux
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packaged daemons (postgresql, redis, pgbouncer, prometheus) must not start system-wide
# services on install: tacho's scripts start their own on free loopback ports.
policy_created=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  policy_created=1
fi
cleanup() { if [ "$policy_created" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT

$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
