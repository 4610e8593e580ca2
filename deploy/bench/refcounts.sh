#!/usr/bin/env bash
# Which objects a running proxy retains and releases per request, by type and
# by calling function, while wrk loads it with small keep-alive GETs (uprobes
# through `perf probe` on swift_retain and swift_release, fetching each
# object's class metadata and the return address; root). Callgrind counts
# these calls per caller but not what they retain, and an LTO build has no
# line tables for them: this says "ByteBuffer storage, 3 per request, in
# ProxyServerHandler.upstream(_:read:)".
#
#   deploy/bench/refcounts.sh PORT PID [SECONDS] [PATH]
#   REFCOUNTS_CALLERS=all deploy/bench/refcounts.sh PORT PID ...   SwiftNIO's callers too
#
# PORT: where the proxy listens; PID: its process, a `switchyard serve` in
# front of running app servers (deploy/demo.sh's stack, or the one
# deploy/bench/run.sh starts), built with symbols (deploy/build-release.sh
# keeps them). The Swift runtime may be linked in (deploy/build-release.sh)
# or not. Every call is recorded (~1-3 µs each): the proxy runs ~100× slower
# meanwhile, so SECONDS (default 3) gives a few thousand requests. Place it as
# the bench does: taskset -c 1 deploy/bench/refcounts.sh 21300 PID
# Prints, per request, the calls from Switchyard's own modules (with
# REFCOUNTS_CALLERS=all, from every caller: SwiftNIO's are most of them) with a class
# instance (what the object is, who called); calls on strings and on the
# runtime's immortal objects (~10 instructions, no atomic) show as
# "not a class instance" or "(runtime object)". An instance of a generic
# class (its metadata made at run time, e.g. SwiftNIO's `ManagedAtomic<Bool>`
# in a channel's lifecycle state) shows as `_ZL21InitialAllocationPool`, the
# runtime's buffer such metadata is allocated from.
set -euo pipefail
port=${1:?usage: refcounts.sh PORT PID [SECONDS] [PATH]}
pid=${2:?usage: refcounts.sh PORT PID [SECONDS] [PATH]}
seconds=${3:-3}
path=${4:-/}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" = 0 ] || { echo "refcounts.sh: run as root (uprobes)" >&2; exit 1; }
command -v perf >/dev/null && command -v wrk >/dev/null || { echo "refcounts.sh: needs perf and wrk" >&2; exit 1; }
binary=$(readlink -f "/proc/$pid/exe")
runtime=$(awk '/libswiftCore\.so/ { print $6; exit }' "/proc/$pid/maps")
[ -n "$runtime" ] || runtime=$binary
nm "$runtime" 2>/dev/null | grep ' swift_retain$' >/dev/null || { echo "refcounts.sh: no swift_retain symbol in $runtime" >&2; exit 1; }
# Where the executable is mapped: return addresses and metadata are looked up in its symbols.
base=$(awk -v exe="$binary" '$6 == exe && $3 == "00000000" { split($1, range, "-"); print range[1]; exit }' "/proc/$pid/maps")
[ -n "$base" ] || { echo "refcounts.sh: $binary not found in /proc/$pid/maps" >&2; exit 1; }

work=$(mktemp -d)
cleanup() { perf probe -q -d 'probe_refcounts:*' 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
perf probe -q -d 'probe_refcounts:*' 2>/dev/null || true
perf probe -q -x "$runtime" -a 'probe_refcounts:retain=swift_retain obj=%di meta=+0(%di):u64 ret=+0(%sp):u64'
perf probe -q -x "$runtime" -a 'probe_refcounts:release=swift_release obj=%di meta=+0(%di):u64 ret=+0(%sp):u64'

wrk -t1 -c16 -d1s "http://127.0.0.1:$port$path" >/dev/null  # warm up: connections and pools open
perf record -q -e probe_refcounts:retain -e probe_refcounts:release -p "$pid" -o "$work/perf.data" 2>/dev/null &
record=$!
sleep 1
requests=$(wrk -t1 -c16 -d"${seconds}s" "http://127.0.0.1:$port$path" | awk '/requests in/ { print $1 }')
kill -INT "$record"
wait "$record" || true
echo "requests: $requests (wrk -t1 -c16, ${seconds}s, GET $path, recorded with a second before and after)"
perf script -i "$work/perf.data" -F event,ip,trace 2>/dev/null > "$work/calls.txt"
python3 "$here/refcounts.py" "$binary" "$base" "$work/calls.txt" "$requests" "${REFCOUNTS_CALLERS:-ours}"
