#!/usr/bin/env bash
# Splits a running proxy's CPU per small keep-alive GET into user and kernel
# time, and counts how often the processes it talks to went to sleep: the
# voluntary context switches, per 1,000 requests, of wrk, of the app servers
# and of the proxy. On loopback the kernel runs a receiver's side of each
# packet inside the sender's `write`, and when the receiver is asleep that
# `write` also wakes it (an inter-processor interrupt: a VM exit here). A
# proxy that is slower per request leaves wrk and the app servers idle more
# often, so it pays more of those wake-ups: part of its kernel time follows
# from its user time (LOG.md, "the wake-up tax").
#
#   deploy/bench/wakeups.sh PORT PID [SECONDS] [APP_PID...]
#
# PORT: where the proxy listens; PID: its process. APP_PID: the app servers'
# worker processes; by default the workers of the app nginx that
# deploy/bench/run.sh starts (its pid file in $SWITCHYARD_BENCH_DIR, default
# /tmp/switchyard-bench). Place it as the bench does, the proxy on CPU 0 and
# this script (so wrk) on CPU 1:
#   taskset -c 1 deploy/bench/wakeups.sh 21300 "$(pgrep -f 'switchyard serve')"
# Counts are per thread summed over the process (/proc/PID/task/*/status);
# CPU time from /proc/PID/stat ticks (10 ms), so run 4 s or more.
set -euo pipefail
port=${1:?usage: wakeups.sh PORT PID [SECONDS] [APP_PID...]}
pid=${2:?usage: wakeups.sh PORT PID [SECONDS] [APP_PID...]}
seconds=${3:-4}
shift $(( $# < 3 ? $# : 3 ))
apps=("$@")
state=${SWITCHYARD_BENCH_DIR:-/tmp/switchyard-bench}
if [ ${#apps[@]} = 0 ] && [ -f "$state/pids/nginx-app.pid" ]; then
  mapfile -t apps < <(pgrep -P "$(cat "$state/pids/nginx-app.pid")" || true)
fi
[ ${#apps[@]} -gt 0 ] || { echo "wakeups.sh: no app server pids (give APP_PID, or start deploy/bench/run.sh's stack)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wakeups.sh: needs wrk (apt-get install -y wrk)" >&2; exit 1; }
[ -d "/proc/$pid" ] || { echo "wakeups.sh: no process $pid" >&2; exit 1; }

# voluntary and involuntary switches over every thread of the given processes
switches() { cat $(printf '/proc/%s/task/*/status ' "$@") 2>/dev/null | awk '/^voluntary_ctxt/ { v += $2 } /^nonvoluntary_ctxt/ { n += $2 } END { print v + 0, n + 0 }'; }
ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }

wrk -t1 -c64 -d1s "http://127.0.0.1:$port/" >/dev/null  # warm up: connections and pools open
read -r a0 b0 < <(switches "${apps[@]}")
read -r p0 q0 < <(switches "$pid")
read -r u0 s0 < <(ticks "$pid")
out=$(mktemp)
wrk -t1 -c64 -d"${seconds}s" "http://127.0.0.1:$port/" > "$out" &
wrk_pid=$!
# wrk's own switches, read while it runs (from just after its start to just before its end)
sleep 0.2
read -r w0 x0 < <(switches "$wrk_pid")
sleep "$(awk -v s="$seconds" 'BEGIN { print s - 0.5 }')"
read -r w1 x1 < <(switches "$wrk_pid")
wait "$wrk_pid"
read -r u1 s1 < <(ticks "$pid")
read -r a1 b1 < <(switches "${apps[@]}")
read -r p1 q1 < <(switches "$pid")
requests=$(awk '/requests in/ { print $1 }' "$out")
rm -f "$out"
hz=$(getconf CLK_TCK)
awk -v r="$requests" -v s="$seconds" -v hz="$hz" \
    -v u=$((u1 - u0)) -v k=$((s1 - s0)) -v wv=$((w1 - w0)) -v wn=$((x1 - x0)) \
    -v av=$((a1 - a0)) -v an=$((b1 - b0)) -v pv=$((p1 - p0)) -v pn=$((q1 - q0)) 'BEGIN {
  wscale = s / (s - 0.5)   # wrk was watched for all but 0.5 s of its run
  printf "requests: %d (wrk -t1 -c64, %ss, GET /)\n", r, s
  printf "proxy CPU per request: %.2f us (user %.2f, kernel %.2f)\n", (u + k) * 1e6 / hz / r, u * 1e6 / hz / r, k * 1e6 / hz / r
  printf "context switches per 1000 requests, voluntary (went to sleep) / involuntary:\n"
  printf "  wrk          %6.1f / %6.1f\n", wv * 1000 * wscale / r, wn * 1000 * wscale / r
  printf "  app servers  %6.1f / %6.1f\n", av * 1000 / r, an * 1000 / r
  printf "  proxy        %6.1f / %6.1f\n", pv * 1000 / r, pn * 1000 / r
}'
