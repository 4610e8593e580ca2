#!/usr/bin/env bash
# The reliability suite (issue #7), long form, in one command:
#
#   deploy/reliability/run.sh                 long form: 300 clients, 2,000 slowloris, 10,000 idle
#                                             connections, 30 s SIGSTOP, 30 reloads, 30-minute soak
#   deploy/reliability/run.sh --short         the short form CI runs (same tests, small counts)
#   deploy/reliability/run.sh --soak-seconds 300   long form with a 5-minute soak
#   deploy/reliability/run.sh --only SoakTests      one suite (figures in results/latest-SoakTests.md)
#
# Installs what is missing (Debian 12, as root), builds, runs the ReliabilityTests target serially
# and writes the counted figures to deploy/reliability/results/latest.md (and latest.jsonl, the
# raw lines the tests wrote through SWITCHYARD_RELIABILITY_REPORT). Everything runs on loopback;
# every load loop is bounded in count and time. Exit status: the tests'.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
results=${SWITCHYARD_RELIABILITY_RESULTS:-$here/results}
form=long
soak=""
only=""

command="deploy/reliability/run.sh $*"
command=${command% }
while [ $# -gt 0 ]; do
  case "$1" in
    --short) form=short ;;
    --soak-seconds) soak="$2"; shift ;;
    --only) only="$2"; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

need=()
dpkg -s libpq-dev >/dev/null 2>&1 || need+=(libpq-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "swift is not on PATH (Swift 6.x toolchain needed)" >&2; exit 1; }

# 10,000 idle connections plus the load need more than 1,024 descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "descriptor limit: $(ulimit -n)"

cd "$repo"
swift build --build-tests
mkdir -p "$results"
name=latest${only:+-$only}
raw="$results/$name.jsonl"
: > "$raw"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
status=0
env SWITCHYARD_RELIABILITY=$form \
  SWITCHYARD_RELIABILITY_REPORT="$raw" \
  SWITCHYARD_BIN_DIR="$repo/.build/debug" \
  ${soak:+SWITCHYARD_SOAK_SECONDS=$soak} \
  swift test --skip-build --no-parallel --filter "ReliabilityTests${only:+.$only}" 2>&1 | tee "$results/$name.log" || status=$?
finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)

python3 "$here/table.py" "$raw" --form "$form" --started "$started" --finished "$finished" \
  --command "$command" \
  --machine "$(nproc) cores, $(uname -sr), $(swift --version 2>/dev/null | head -1)" > "$results/$name.md"
echo "figures: $results/$name.md (test exit status $status)"
exit "$status"
