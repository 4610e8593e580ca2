#!/usr/bin/env bash
# Runs the whole test suite (pure, in-process and real-PostgreSQL levels) on a
# fresh Debian 12 machine as root: installs what is missing, builds, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v pg_config >/dev/null 2>&1 || need+=(libpq-dev)
[ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
dpkg -s libpq-dev >/dev/null 2>&1 || need+=(libpq-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "swift is not on PATH (Swift 6.x toolchain needed)" >&2; exit 1; }

swift build --build-tests
# Serially, one test at a time: the most conservative schedule for CI. Plain
# `swift test` passes too (the tests that load the whole machine, the PostgreSQL
# clusters, the demo, the load generators and the 256 MiB transfers, take turns
# through the .heavyLoad trait; see README "Tests"). The reliability suite runs
# in its short form here; its long form is deploy/reliability/run.sh.
swift test --no-parallel
