#!/usr/bin/env bash
# Counts, per request, the calls a running proxy makes to malloc, swift_allocObject,
# swift_retain and swift_release while wrk loads it with small keep-alive GETs
# (uprobes through `perf probe`; root). Unlike CPU time on a shared VM these
# counts repeat closely between runs (retains and releases within ~2 of ~245
# and ~280; mallocs within ~0.4, as the number of requests in flight together
# varies), so they show what a change to the request path did even when a
# timing cannot.
#
#   deploy/bench/count_calls.sh PORT PID [SECONDS] [PATH]
#
# PORT: where the proxy listens; PID: its process (e.g. a `switchyard serve`
# in front of running app servers: deploy/demo.sh's stack, or the one
# deploy/bench/run.sh starts). Counts include whatever else the process does in
# the window (lag polling, timers): small next to the requests. The Swift
# runtime is probed where it is: libswiftCore.so, or the executable itself
# when it is linked in (deploy/build-release.sh); perf and wrk must be
# installed (apt-get install -y linux-perf wrk). Place it as the bench does, the
# proxy on CPU 0 and this script (so wrk) on CPU 1:
#   taskset -c 1 deploy/bench/count_calls.sh 21300 "$(pgrep -f 'switchyard serve')"
# Placement changes how many requests are in flight together, and with it a
# few counts (unpinned wrk: ~2.4 mallocs per small GET instead of ~1.8).
set -euo pipefail
port=${1:?usage: count_calls.sh PORT PID [SECONDS] [PATH]}
pid=${2:?usage: count_calls.sh PORT PID [SECONDS] [PATH]}
seconds=${3:-2}
path=${4:-/}
[ "$(id -u)" = 0 ] || { echo "count_calls.sh: run as root (uprobes)" >&2; exit 1; }
command -v perf >/dev/null && command -v wrk >/dev/null || { echo "count_calls.sh: needs perf and wrk" >&2; exit 1; }
runtime=$(awk '/libswiftCore\.so/ { print $6; exit }' "/proc/$pid/maps")
[ -n "$runtime" ] || runtime=$(readlink -f "/proc/$pid/exe")  # the runtime linked in
libc=$(awk '/libc\.so\.6|libc-[0-9.]*\.so/ { print $6; exit }' "/proc/$pid/maps")
nm "$runtime" 2>/dev/null | grep ' swift_retain$' >/dev/null || { echo "count_calls.sh: no swift_retain symbol in $runtime" >&2; exit 1; }

cleanup() { perf probe -q -d 'probe_count_calls:*' 2>/dev/null || true; }
trap cleanup EXIT
cleanup
# With an argument fetched, a probe needs no debug information for the
# function (the runtime linked into an executable with DWARF has none: a
# bare probe on it fails).
for function in swift_allocObject swift_retain swift_release; do
  perf probe -q -x "$runtime" -a "probe_count_calls:$function=$function first=%di"
done
perf probe -q -x "$libc" -a 'probe_count_calls:malloc=malloc'

wrk -t1 -c64 -d1s "http://127.0.0.1:$port$path" >/dev/null  # warm up: connections and pools open
out=$(mktemp)
perf stat -x, -o "$out" -p "$pid" \
  -e probe_count_calls:malloc,probe_count_calls:swift_allocObject,probe_count_calls:swift_retain,probe_count_calls:swift_release \
  -- sleep $((seconds + 1)) &
stat_pid=$!
sleep 0.3
requests=$(wrk -t1 -c64 -d"${seconds}s" "http://127.0.0.1:$port$path" | awk '/requests in/ { print $1 }')
wait "$stat_pid"
echo "requests: $requests (wrk -t1 -c64, ${seconds}s, GET $path)"
awk -F, -v requests="$requests" '$1 + 0 > 0 { split($3, name, ":"); printf "%-18s %8.2f per request\n", name[2], $1 / requests }' "$out"
rm -f "$out"
