#!/usr/bin/env bash
# Switchyard vs nginx vs HAProxy, doing the same job on loopback; plus the
# micro-benchmarks of Switchyard's decision path. One command:
#
#   deploy/bench/run.sh                       3 passes x 10 s, proxies pinned to CPU 0, then the micro-benchmarks
#   deploy/bench/run.sh --passes 2 --duration 5 --no-micro     a quick look
#   deploy/bench/run.sh --callgrind           instructions per request of each proxy (valgrind), no timing
#   deploy/bench/run.sh --help                every option
#
# Results: deploy/bench/results/latest.{md,json,csv} (see deploy/bench/README.md).
# It stops everything it started (by pid), also on Ctrl-C or an error.
# State (configs, logs, PostgreSQL data, raw wrk output) lives in
# $SWITCHYARD_BENCH_DIR (default /tmp/switchyard-bench); ports are
# $SWITCHYARD_BENCH_PORT_BASE (default 21000) + 1..433, outside the ephemeral range.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
state=${SWITCHYARD_BENCH_DIR:-/tmp/switchyard-bench}
results=${SWITCHYARD_BENCH_RESULTS:-$here/results}
switchyard_bin=${SWITCHYARD_BIN:-$repo/.build/release/switchyard}
base=${SWITCHYARD_BENCH_PORT_BASE:-21000}

passes=3
duration=10
warmup=1
connections=64
many_connections=512
threads=1
modes=pinned
scenarios="get mix 64k upload close idle"
targets="switchyard switchyard-nolog nginx nginx-log haproxy haproxy-log"
idle_count=10000
max_load=1.5
load_wait=120
max_others=10
redo=2
run_macro=1
run_micro=1
floor=0
callgrind=0
post_pct=10
pin_pct=20
pin_ttl=10   # seconds: pin.ttl in switchyard.yaml, Max-Age in nginx-proxy.conf and haproxy.cfg

usage() {
  cat <<USAGE
usage: deploy/bench/run.sh [options]
  --passes N          measured passes, interleaved over targets (default $passes)
  --duration S        seconds per measured wrk run (default $duration)
  --warmup S          seconds of unrecorded wrk load before each run (default $warmup; 0 = none)
  --connections N     wrk -c (default $connections); wrk runs with -t$threads
  --unpinned          run nothing pinned (every proxy still runs one worker: event_loops: 1)
  --both              a pinned run, then an unpinned one
  --scenarios LIST    comma-separated subset of: get,mix,64k,upload,close,idle (default: all), or
                      many: small GETs from --many-connections clients (not in the default set)
  --many-connections N  wrk -c of the many scenario (default $many_connections): more requests in
                      flight than upstream.keepalive / nginx's keepalive covers
  --targets LIST      comma-separated subset of: switchyard,switchyard-nolog,nginx,nginx-log,haproxy,haproxy-log
                      (default: all). nginx-log and haproxy-log write an access line per request, as
                      Switchyard writes its decision line; they run the get, mix and many scenarios only
  --floor             also measure nio-floor: a bare SwiftNIO byte relay (deploy/bench/floor, built
                      here), small GETs and 64 KiB only: what any NIO proxy pays before doing HTTP
  --idle-count N      connections held open in the idle scenario (default $idle_count)
  --post-pct N        writes in the mix scenario, % of requests (default $post_pct)
  --pin-pct N         reads carrying the pin cookie in the mix scenario, % of reads (default $pin_pct)
  --max-load X        before measuring, wait for the 1-minute load average to drop below X ... (default $max_load)
  --load-wait S       ... for at most S seconds, then go on and note it (default $load_wait)
  --max-others P      pinned: a run during which other processes kept the proxy's CPU busy more than
                      P % of the time is discarded and measured again ... (default $max_others)
  --redo N            ... at most N times, then kept and flagged (default $redo; 0 = keep every run)
  --no-micro          skip the micro-benchmarks (deploy/bench/micro)
  --micro-only        only the micro-benchmarks (the last macro results are kept in latest.md)
  --callgrind         instead of timed runs: each proxy alone under valgrind --tool=callgrind, small
                      GETs for --duration seconds, pinned; instructions (and Swift's retains, releases
                      and exclusivity checks) per request, in results/callgrind.{md,json}. Counts that
                      do not move with the machine's load: they see a change of a few percent
Environment: SWITCHYARD_BIN (default .build/release/switchyard, never built here),
SWITCHYARD_BENCH_DIR, SWITCHYARD_BENCH_RESULTS, SWITCHYARD_BENCH_PORT_BASE.
USAGE
}

# As given (the results name it), before the options are consumed.
command_line="deploy/bench/run.sh $*"
while [ $# -gt 0 ]; do
  case "$1" in
    --passes) passes=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --many-connections) many_connections=$2; shift 2 ;;
    --unpinned) modes=unpinned; shift ;;
    --both) modes="pinned unpinned"; shift ;;
    --scenarios) scenarios=${2//,/ }; shift 2 ;;
    --targets) targets=${2//,/ }; shift 2 ;;
    --idle-count) idle_count=$2; shift 2 ;;
    --post-pct) post_pct=$2; shift 2 ;;
    --pin-pct) pin_pct=$2; shift 2 ;;
    --max-load) max_load=$2; shift 2 ;;
    --load-wait) load_wait=$2; shift 2 ;;
    --max-others) max_others=$2; shift 2 ;;
    --redo) redo=$2; shift 2 ;;
    --floor) floor=1; shift ;;
    --no-micro) run_micro=0; shift ;;
    --micro-only) run_macro=0; run_micro=1; shift ;;
    --callgrind) callgrind=1; run_micro=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$passes" "$duration" "$warmup" "$connections" "$many_connections" "$idle_count" "$post_pct" "$pin_pct" "$load_wait" "$max_others" "$redo"; do
  case "$n" in ''|*[!0-9]*) echo "run.sh: not a whole number: $n" >&2; exit 2 ;; esac
done
[ "$passes" -ge 1 ] && [ "$duration" -ge 1 ] || { echo "run.sh: --passes and --duration must be at least 1" >&2; exit 2; }
for s in $scenarios; do case "$s" in get|mix|64k|upload|close|idle|many) ;; *) echo "run.sh: unknown scenario $s" >&2; exit 2 ;; esac; done
for t in $targets; do case "$t" in switchyard|switchyard-nolog|nginx|nginx-log|haproxy|haproxy-log|nio-floor) ;; *) echo "run.sh: unknown target $t" >&2; exit 2 ;; esac; done
[ "$floor" = 1 ] && [[ " $targets " != *" nio-floor "* ]] && targets="$targets nio-floor"
# Under callgrind only the instruction counts matter: pinned, small GETs, no micro-benchmarks.
[ "$callgrind" = 1 ] && { modes=pinned; scenarios=get; }

app_p1=$((base + 1)); app_p2=$((base + 2)); app_r1=$((base + 11)); app_r2=$((base + 12))
port_nginx=$((base + 100)); port_haproxy=$((base + 200)); port_nginx_log=$((base + 110)); port_haproxy_log=$((base + 210))
port_sy=$((base + 300)); port_sy_nolog=$((base + 301)); admin_sy=$((base + 390)); admin_sy_nolog=$((base + 391))
pg_primary=$((base + 432)); pg_replica=$((base + 433)); port_floor=$((base + 500))
small_body="switchyard bench: a fixed small response body, about as big as a short JSON answer, 100 bytes."

say()  { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
warn() { printf '   \033[33m! %s\033[0m\n' "$*"; [ -d "$state" ] && printf '%s\n' "$*" >> "$state/notes.txt"; return 0; }
info() { note "$*"; [ -d "$state" ] && printf '%s\n' "$*" >> "$state/notes.txt"; return 0; }
die()  { printf '\033[31mrun.sh: %s\033[0m\n' "$*" >&2; exit 1; }

pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
as_postgres() { runuser -u postgres -- "$@"; }

# ------------------------------------------------------------------ stopping

stop_pidfile() {  # FILE: TERM, up to 5 s, then KILL; only that pid
  local pidfile=$1 pid
  [ -e "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop_services() {
  [ -d "$state/pids" ] || return 0
  local pidfile
  for pidfile in "$state"/pids/*.pid; do
    [ -e "$pidfile" ] && stop_pidfile "$pidfile"
  done
  return 0
}

stop_all() {
  stop_services
  local bin dir; bin=$(pgbin)
  for dir in "$state/pg/replica" "$state/pg/primary"; do
    if [ -f "$dir/postmaster.pid" ] && [ -n "$bin" ]; then
      as_postgres "$bin/pg_ctl" -D "$dir" stop -m fast -w >/dev/null 2>&1 || true
    fi
  done
  return 0
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$run_macro" = 1 ]; then
    echo
    echo "stopping everything run.sh started ..."
    stop_all
  fi
  exit "$status"
}

# ------------------------------------------------------------------ micro-benchmarks

micro_benchmarks() {
  say "Micro-benchmarks of the decision path (deploy/bench/micro, ordo-one/benchmark)"
  command -v swift >/dev/null 2>&1 || { warn "swift not found: micro-benchmarks skipped"; return 0; }
  local micro="$here/micro" out="$state/micro.txt" log="$state/logs/micro-build.log"
  mkdir -p "$state/logs"
  note "building (release, scratch path deploy/bench/micro/.build-micro; the first build takes minutes) ..."
  if ! (cd "$micro" && swift build -c release --scratch-path .build-micro --product DecisionPath > "$log" 2>&1); then
    tail -n 30 "$log" >&2
    warn "micro-benchmarks did not build (log: $log)"
    return 0
  fi
  echo "the work tree at $(date -u +%Y-%m-%dT%H:%M:%SZ): HEAD $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
    "$(git -C "$repo" status --porcelain --untracked-files=no -- Sources 2>/dev/null | wc -l | tr -d ' ') file(s) under Sources/ modified" \
    > "$state/micro-source.txt"
  local pin=""
  [ "$modes" != unpinned ] && pin="taskset -c 0"
  note "running${pin:+ on CPU 0} ..."
  if ! (cd "$micro" && $pin swift package --scratch-path .build-micro benchmark --no-progress \
        --format text > "$out.full" 2> "$state/logs/micro-run.err"); then
    tail -n 30 "$state/logs/micro-run.err" >&2
    warn "micro-benchmarks failed (log: $state/logs/micro-run.err)"
    return 0
  fi
  # Keep the tables, drop the build chatter.
  sed -n '/^Benchmark results$/,$p' "$out.full" | sed -e 's/\x1b\[[0-9;]*m//g' > "$out"
  [ -s "$out" ] || cp "$out.full" "$out"
  cat "$out"
}

if [ "$run_macro" = 0 ]; then
  mkdir -p "$state" "$results"
  micro_benchmarks
  python3 "$here/bench.py" report --state "$state/none" --results "$results" --micro "$state/micro.txt" >/dev/null \
    || warn "could not rewrite $results/latest.md (run the macro benchmark once first)"
  echo "micro-benchmark output: $state/micro.txt (and in $results/latest.md)"
  exit 0
fi

# ------------------------------------------------------------------ setup

trap cleanup EXIT
trap 'exit 130' INT TERM

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts PostgreSQL as the postgres user)"
[ -x "$switchyard_bin" ] || die "no Switchyard binary at $switchyard_bin: build it first with 'deploy/build-release.sh --product switchyard' (run.sh never builds the main package), or set SWITCHYARD_BIN"

say "1. Installing what is missing (Debian packages)"
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
command -v python3 >/dev/null 2>&1 || need+=(python3)
[ -n "$(pgbin)" ] || need+=(postgresql)
if [ "$callgrind" = 1 ]; then
  command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
  command -v strip >/dev/null 2>&1 || need+=(binutils)
fi
if [ ${#need[@]} -gt 0 ]; then
  note "apt-get install -y ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
else
  note "nginx, haproxy, wrk, curl, taskset, python3 and PostgreSQL are there"
fi
PATH=$PATH:/usr/sbin
pg=$(pgbin)

# Descriptors: 10,000 idle client connections need more than the usual 1024.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile=$(ulimit -n)
[ "$nofile" -ge $((idle_count + 2000)) ] || warn "open-files limit $nofile is low for $idle_count idle connections"

stop_all  # a previous run's leftovers, by its pid files
rm -rf "$state"
mkdir -p "$state"/{pids,logs,conf,run,tmp,raw,www,bin,pg}
: > "$state/notes.txt"

for port in $app_p1 $app_p2 $app_r1 $app_r2 $port_nginx $port_haproxy $port_nginx_log $port_haproxy_log $port_sy $port_sy_nolog $admin_sy $admin_sy_nolog $pg_primary $pg_replica $port_floor; do
  if ss -Htln "sport = :$port" 2>/dev/null | grep -q .; then die "port $port is taken (set SWITCHYARD_BENCH_PORT_BASE)"; fi
done

# The binary under test is copied, so a rebuild in the work tree cannot swap it mid-run.
cp "$switchyard_bin" "$state/bin/switchyard"
sy="$state/bin/switchyard"
sy_sha=$(sha256sum "$sy" | cut -c1-12)
sy_mtime=$(date -u -r "$switchyard_bin" +%Y-%m-%dT%H:%M:%SZ)
sy_version=$("$sy" --version 2>/dev/null | awk 'NR == 1' || echo unknown)
git_head=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
floor_bin=""
if [[ " $targets " == *" nio-floor "* ]]; then
  note "building the NIO floor relay (deploy/bench/floor, release) ..."
  # Built as Switchyard's release build is (README, Performance: build flags).
  ("$repo/deploy/build-release.sh" --package-path "$here/floor" > "$state/logs/floor-build.log" 2>&1) \
    || { tail -n 20 "$state/logs/floor-build.log" >&2; die "deploy/bench/floor did not build (log: $state/logs/floor-build.log)"; }
  cp "$here/floor/.build/release/nio-relay" "$state/bin/nio-relay"
  floor_bin="$state/bin/nio-relay"
fi
git_dirty=$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null | wc -l | tr -d ' ')

fill() {  # TEMPLATE OUTPUT KEY=VALUE...
  local template=$1 output=$2; shift 2
  local args=() pair
  for pair in "$@"; do args+=(-e "s|@${pair%%=*}@|${pair#*=}|g"); done
  sed "${args[@]}" "$template" > "$output"
  if grep -v '^[[:space:]]*#' "$output" | grep -q '@[A-Z_0-9]*@'; then
    die "unfilled placeholder in $output: $(grep -v '^[[:space:]]*#' "$output" | grep -o '@[A-Z_0-9]*@' | head -n 1)"
  fi
}
common=(STATE="$state" NOFILE="$nofile" APP_P1=$app_p1 APP_P2=$app_p2 APP_R1=$app_r1 APP_R2=$app_r2)
fill "$here/nginx-app.conf" "$state/conf/nginx-app.conf" "${common[@]}" SMALL_BODY="$small_body"
fill "$here/nginx-proxy.conf" "$state/conf/nginx-proxy.conf" "${common[@]}" NGINX_PORT=$port_nginx NAME=nginx-proxy \
  ACCESS_LOG=off
# The same buffering as Switchyard's log writer: 256 KiB, or every 10 ms.
fill "$here/nginx-proxy.conf" "$state/conf/nginx-proxy-log.conf" "${common[@]}" NGINX_PORT=$port_nginx_log NAME=nginx-proxy-log \
  ACCESS_LOG="$state/logs/nginx-log.access.log switchyard buffer=256k flush=10ms"
fill "$here/haproxy.cfg" "$state/conf/haproxy.cfg" "${common[@]}" HAPROXY_PORT=$port_haproxy NAME=haproxy LOGGED=0
fill "$here/haproxy.cfg" "$state/conf/haproxy-log.cfg" "${common[@]}" HAPROXY_PORT=$port_haproxy_log NAME=haproxy-log LOGGED=1
fill "$here/switchyard.yaml" "$state/conf/switchyard.yaml" "${common[@]}" PORT=$port_sy ADMIN_PORT=$admin_sy DECISIONS=true \
  PG_PRIMARY=$pg_primary PG_REPLICA=$pg_replica
fill "$here/switchyard.yaml" "$state/conf/switchyard-nolog.yaml" "${common[@]}" PORT=$port_sy_nolog ADMIN_PORT=$admin_sy_nolog \
  DECISIONS=false PG_PRIMARY=$pg_primary PG_REPLICA=$pg_replica
head -c 49152 /dev/urandom | base64 -w 0 > "$state/www/64k"  # exactly 65,536 bytes
echo "the static file behind POST /upload (see nginx-app.conf)" > "$state/www/upload"
nginx -t -q -c "$state/conf/nginx-app.conf" -e "$state/logs/nginx-app.stderr.log" || die "nginx-app.conf does not validate"
for name in nginx-proxy nginx-proxy-log; do
  nginx -t -q -c "$state/conf/$name.conf" -e "$state/logs/$name.stderr.log" || die "$name.conf does not validate"
done
for name in haproxy haproxy-log; do
  haproxy -c -q -f "$state/conf/$name.cfg" || die "$name.cfg does not validate"
done
"$sy" check --config "$state/conf/switchyard.yaml" | sed 's/^/   /' || die "switchyard.yaml does not validate"
"$sy" check --config "$state/conf/switchyard-nolog.yaml" >/dev/null || die "switchyard-nolog.yaml does not validate"

say "2. A PostgreSQL primary (port $pg_primary) and a streaming replica (port $pg_replica), so Switchyard's replica is in rotation"
chown postgres "$state/pg"
as_postgres "$pg/initdb" -D "$state/pg/primary" -U postgres --auth=trust -N >/dev/null
cat >> "$state/pg/primary/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_primary
unix_socket_directories = '$state/pg'
fsync = off
wal_level = replica
max_wal_senders = 5
hot_standby = on
wal_receiver_status_interval = 1s
CONF
# The databases live with the app servers: on CPU 1 when pinned.
pg_cpu=""; [ "$modes" != unpinned ] && pg_cpu="taskset -c 1"
$pg_cpu runuser -u postgres -- "$pg/pg_ctl" -D "$state/pg/primary" -l "$state/pg/primary.log" -w start >/dev/null
as_postgres "$pg/pg_basebackup" -D "$state/pg/replica" -R -X stream -C -S bench_replica -N \
  -d "host=127.0.0.1 port=$pg_primary user=postgres application_name=replica-a" >/dev/null
echo "port = $pg_replica" >> "$state/pg/replica/postgresql.conf"
$pg_cpu runuser -u postgres -- "$pg/pg_ctl" -D "$state/pg/replica" -l "$state/pg/replica.log" -w start >/dev/null
for _ in $(seq 1 50); do
  streaming=$(psql -X -q -A -t "host=127.0.0.1 port=$pg_primary user=postgres dbname=postgres" \
    -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null || echo 0)
  [ "$streaming" = 1 ] && break
  sleep 0.2
done
[ "$streaming" = 1 ] || die "the replica is not streaming (see $state/pg/replica.log)"
note "primary up, replica streaming"

# ------------------------------------------------------------------ services

cpu0=""; cpu1=""
pid_of() { cat "$state/pids/$1.pid"; }

wait_http() {  # PORT [TRIES]: any HTTP answer, up to TRIES x 0.1 s (default 10 s)
  for _ in $(seq 1 "${2:-100}"); do
    curl -s -o /dev/null -m 1 "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  return 1
}

worker_of() {  # nginx MASTER_PID -> its one worker's pid (up to 5 s)
  local children=""
  for _ in $(seq 1 50); do
    children=$(cat "/proc/$1/task/$1/children" 2>/dev/null || true)
    [ -n "$children" ] && break
    sleep 0.1
  done
  set -- $children
  echo "${1:-}"
}

start_app() {
  $cpu1 nginx -c "$state/conf/nginx-app.conf" -e "$state/logs/nginx-app.stderr.log" -g 'daemon off;' \
    >> "$state/logs/nginx-app.out" 2>&1 &
  echo $! > "$state/pids/nginx-app.pid"
  for port in $app_p1 $app_p2 $app_r1 $app_r2; do wait_http "$port" || die "app stand-in on $port did not start"; done
}

start_target() {  # TARGET [callgrind]: started (with callgrind: under valgrind, one process, slower to come up)
  local run=() nginx_globals='daemon off;' sy_bin=$sy relay_bin=$floor_bin tries=100
  if [ "${2:-}" = callgrind ]; then
    mkdir -p "$state/callgrind"
    rm -f "$state/callgrind/$1.out" "$state/callgrind/$1.out".*
    # Each instruction's address kept: `callgrind.py lines` maps them to source lines.
    run=(valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file="$state/callgrind/$1.out")
    # nginx as one process: the worker's work, without a master to follow.
    nginx_globals='daemon off; master_process off;'
    case "$1" in
      switchyard|switchyard-nolog) sy_bin=$(nodebug "$sy") ;;
      nio-floor) relay_bin=$(nodebug "$floor_bin") ;;
    esac
    tries=600
  fi
  case "$1" in
    nginx|nginx-log)
      local name=nginx-proxy; [ "$1" = nginx-log ] && name=nginx-proxy-log
      $cpu0 "${run[@]}" nginx -c "$state/conf/$name.conf" -e "$state/logs/$name.stderr.log" -g "$nginx_globals" \
        >> "$state/logs/$name.out" 2>&1 &
      echo $! > "$state/pids/$1.pid"
      if [ ${#run[@]} -gt 0 ]; then
        pid_of "$1" > "$state/run/$1.measure"
      else
        local worker; worker=$(worker_of "$(pid_of "$1")")
        [ -n "$worker" ] || die "$1 started no worker"
        echo "$worker" > "$state/run/$1.measure"
      fi
      ;;
    haproxy|haproxy-log)
      # haproxy-log writes its access lines to stdout: this file.
      $cpu0 "${run[@]}" haproxy -db -f "$state/conf/$1.cfg" >> "$state/logs/$1.log" 2>&1 &
      echo $! > "$state/pids/$1.pid"
      pid_of "$1" > "$state/run/$1.measure"
      ;;
    nio-floor)
      # Relays each client connection to its own keep-alive connection to a replica stand-in.
      $cpu0 "${run[@]}" "$relay_bin" "$port_floor" "$app_r1" "$app_r2" >> "$state/logs/nio-floor.log" 2>&1 &
      echo $! > "$state/pids/nio-floor.pid"
      pid_of nio-floor > "$state/run/nio-floor.measure"
      ;;
    switchyard|switchyard-nolog)
      local config=switchyard.yaml; [ "$1" = switchyard-nolog ] && config=switchyard-nolog.yaml
      # Appending (>>) lets run.sh empty the decision log between runs.
      SWITCHYARD_PIN_SECRET=$pin_secret $cpu0 "${run[@]}" "$sy_bin" serve --config "$state/conf/$config" \
        >> "$state/logs/$1.log" 2>&1 &
      echo $! > "$state/pids/$1.pid"
      pid_of "$1" > "$state/run/$1.measure"
      ;;
  esac
  wait_http "$(port_of "$1")" "$tries" || die "$1 did not start (logs in $state/logs)"
}

empty_logs() {  # TARGET: its decision or access log emptied (they are kept small)
  case "$1" in
    switchyard|switchyard-nolog|haproxy-log) : > "$state/logs/$1.log" ;;
    nginx-log) : > "$state/logs/nginx-log.access.log" ;;  # nginx appends (O_APPEND): no reopen needed
  esac
}

port_of() {
  case "$1" in
    nginx) echo "$port_nginx" ;; haproxy) echo "$port_haproxy" ;;
    nginx-log) echo "$port_nginx_log" ;; haproxy-log) echo "$port_haproxy_log" ;;
    switchyard) echo "$port_sy" ;; switchyard-nolog) echo "$port_sy_nolog" ;;
    nio-floor) echo "$port_floor" ;;
  esac
}
measured_pid() { cat "$state/run/$1.measure"; }

header() {  # NAME: from headers on stdin
  tr -d '\r' | awk -v name="$(echo "$1" | tr 'A-Z' 'a-z')" -F': ' 'tolower($1) == name && !found { print $2; found = 1 }'
}

fresh_cookie() {  # PORT -> "switchyard_pin=VALUE" from a POST's Set-Cookie
  curl -s -m 5 -o /dev/null -D - -X POST --data 'name=bench' "http://127.0.0.1:$1/items" \
    | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(switchyard_pin=[^;]*\).*/\1/p' | awk 'NR == 1'
}

wait_replica() {  # TARGET [TRIES]: until a GET reaches a replica stand-in (TRIES x 0.2 s, default 10 s), or die
  local target=$1 port pool
  port=$(port_of "$target")
  # The replica may need a few polls to enter Switchyard's rotation (readmit_after).
  for _ in $(seq 1 "${2:-50}"); do
    pool=$(curl -s -m 5 -o /dev/null -D - "http://127.0.0.1:$port/items/1" | header x-pool) || true
    [ "$pool" = replica ] && return 0
    sleep 0.2
  done
  die "$target: a GET reached '${pool:-nothing}', not a replica stand-in"
}

check_routing() {  # TARGET: the proxy routes as intended, or die
  local target=$1 port pool cookie size
  port=$(port_of "$target")
  wait_replica "$target"
  if [ "$target" = nio-floor ]; then
    # A byte relay: it routes nothing, it only has to deliver.
    size=$(curl -s -m 5 -o /dev/null -w '%{size_download}' "http://127.0.0.1:$port/64k")
    [ "$size" = 65536 ] || die "$target: GET /64k returned $size bytes"
    note "$target: GET -> replica stand-in, 64 KiB ok (relays bytes, no routing)"
    return 0
  fi
  pool=$(curl -s -m 5 -o /dev/null -D - -X POST --data 'name=bench' "http://127.0.0.1:$port/items" | header x-pool)
  [ "$pool" = primary ] || die "$target: a POST reached '${pool:-nothing}', not a primary stand-in"
  cookie=$(fresh_cookie "$port")
  [ -n "$cookie" ] || die "$target: a POST got no switchyard_pin cookie"
  pool=$(curl -s -m 5 -o /dev/null -D - -H "Cookie: $cookie" "http://127.0.0.1:$port/items/1" | header x-pool)
  [ "$pool" = primary ] || die "$target: a GET with the pin cookie reached '${pool:-nothing}', not a primary stand-in"
  size=$(curl -s -m 5 -o /dev/null -w '%{size_download}' "http://127.0.0.1:$port/64k")
  [ "$size" = 65536 ] || die "$target: GET /64k returned $size bytes"
  pool=$(head -c 1048576 /dev/zero | curl -s -m 10 -o /dev/null -D - -X POST --data-binary @- \
    -H 'Content-Type: application/octet-stream' "http://127.0.0.1:$port/upload" | header x-pool)
  [ "$pool" = primary ] || die "$target: a 1 MiB POST reached '${pool:-nothing}', not a primary stand-in"
  note "$target: GET -> replica, POST -> primary + $(echo "$cookie" | cut -c1-40)..., pinned GET -> primary, 64 KiB and 1 MiB ok"
}

wait_for_low_load() {  # [quiet]: between runs (our own load counts too: wait at most 30 s, say nothing)
  local waited=0 load limit=$load_wait threshold=$max_load
  if [ "${1:-}" = quiet ]; then
    limit=$(( load_wait < 30 ? load_wait : 30 ))
    threshold=$(awk -v m="$max_load" 'BEGIN { print m + 1 }')  # wrk + proxy alone keep it near 1-2
  fi
  load=$(cut -d' ' -f1 /proc/loadavg)
  while awk -v l="$load" -v m="$threshold" 'BEGIN { exit !(l >= m) }' && [ "$waited" -lt "$limit" ]; do
    [ "$waited" = 0 ] && [ "${1:-}" != quiet ] && note "load average $load >= $threshold (others compiling?): waiting up to ${limit}s ..."
    sleep 5; waited=$((waited + 5))
    load=$(cut -d' ' -f1 /proc/loadavg)
  done
  [ "${1:-}" = quiet ] && return 0
  if awk -v l="$load" -v m="$threshold" 'BEGIN { exit !(l >= m) }'; then
    warn "started measuring at load average $load (>= $threshold after waiting ${waited}s): expect noise"
  fi
  echo "${waited}s, load average then $load" > "$state/load_wait.txt"
}

run_wrk() {  # MODE PASS SCENARIO TARGET: one measurement, measured again while disturbed (pinned, up to --redo times)
  local attempt status
  for attempt in $(seq 0 "$redo"); do
    status=0
    measure_wrk "$@" "$attempt" || status=$?
    [ "$status" = 3 ] || return 0
    wait_for_low_load quiet
  done
}

measure_wrk() {  # MODE PASS SCENARIO TARGET ATTEMPT; status 3: disturbed, discarded
  local mode=$1 pass=$2 scenario=$3 target=$4 attempt=$5 port pid url raw
  port=$(port_of "$target"); pid=$(measured_pid "$target")
  local args=(-t"$threads" -c"$connections" --latency) env=()
  case "$scenario" in
    get) url=/ ;;
    many) url=/; args=(-t"$threads" -c"$many_connections" --latency) ;;
    mix) url=/; args+=(-s "$here/lua/mix.lua")
         env=(BENCH_POST_PCT="$post_pct" BENCH_PIN_PCT="$pin_pct") ;;
    64k) url=/64k ;;
    upload) url=/upload; args+=(-s "$here/lua/upload.lua") ;;
    close) url=/; args+=(-H "Connection: close") ;;
  esac
  if [ "$warmup" -gt 0 ]; then
    [ "$scenario" = mix ] && env+=(BENCH_PIN_COOKIE="$(fresh_cookie "$port")")
    env "${env[@]}" $cpu1 timeout $((warmup + 30)) wrk "${args[@]}" -d"${warmup}s" "http://127.0.0.1:$port$url" >/dev/null 2>&1 || true
  fi
  # A fresh cookie for the measured run. Switchyard's carries its issue time
  # and is valid for pin.ttl (10 s): when a run could outlive it, wrk takes the
  # newest pin from the write responses instead (it then parses every response).
  if [ "$scenario" = mix ]; then
    env+=(BENCH_PIN_COOKIE="$(fresh_cookie "$port")")
    [ "$duration" -ge "$pin_ttl" ] && env+=(BENCH_REFRESH_PIN=1)
  fi
  raw="$state/raw/$mode-pass$pass-$scenario-$target-try$attempt.txt"
  python3 "$here/bench.py" snap "$pid" --apps "$(pgrep -d, -P "$(pid_of nginx-app)" || true)" > "$state/run/before.json"
  env "${env[@]}" $cpu1 timeout $((duration + 60)) wrk "${args[@]}" -d"${duration}s" "http://127.0.0.1:$port$url" > "$raw" 2>&1 \
    || warn "$mode pass $pass $scenario $target: wrk exited non-zero (see $raw)"
  printf '   %-5s pass %s  %-7s %-17s ' "$mode" "$pass" "$scenario" "$target"
  local check=() status=0
  if [ "$mode" = pinned ]; then
    check=(--proxy-cpu 0 --max-others "$max_others")
    [ "$attempt" -lt "$redo" ] && check+=(--discard-disturbed)
  fi
  python3 "$here/bench.py" record --before "$state/run/before.json" --pid "$pid" --wrk "$raw" --runs "$state/runs.jsonl" \
    "${check[@]}" mode="$mode" pass="$pass" scenario="$scenario" target="$target" attempt="$attempt" || status=$?
  if [ "$target" = switchyard ] && [ "$scenario" = mix ]; then
    # The decision log tells whether the pinned reads really carried a valid pin.
    local bad; bad=$(grep -c '"pin":"expired"\|"pin":"invalid"' "$state/logs/$target.log" || true)
    [ "$bad" -gt 0 ] && warn "$mode pass $pass mix switchyard: $bad requests carried an expired or invalid pin"
    if [ "$pass" = 1 ]; then
      info "[$mode] mix, Switchyard's decision log: $(grep -o '"reason":"[a-z:-]*"' "$state/logs/$target.log" | sort | uniq -c \
        | awk '{ gsub(/"reason":|"/, "", $2); printf "%s%s %s", sep, $2, $1; sep = ", " }')"
    fi
  fi
  empty_logs "$target"
  sleep 1
  return "$status"
}

run_idle() {  # MODE PASS TARGET
  local mode=$1 pass=$2 target=$3 out
  # A freshly started proxy, so that what the load scenarios left in its heap
  # does not hide (or inflate) what the idle connections cost.
  stop_pidfile "$state/pids/$target.pid"
  start_target "$target"
  wait_replica "$target"
  out=$($cpu1 timeout 300 python3 "$here/idle_conns.py" --port "$(port_of "$target")" --pid "$(measured_pid "$target")" \
    --count "$idle_count") || warn "$mode pass $pass idle $target: not every connection stayed open: $out"
  [ -n "$out" ] || { warn "$mode pass $pass idle $target: no result"; return 0; }
  python3 - "$out" "$mode" "$pass" "$target" "$state/idle.jsonl" <<'PY'
import json, sys
row = json.loads(sys.argv[1])
row.update(mode=sys.argv[2], target=sys.argv[4])
row["pass"] = int(sys.argv[3])
with open(sys.argv[5], "a") as handle:
    handle.write(json.dumps(row) + "\n")
print(f"   {sys.argv[2]:5} pass {sys.argv[3]}  idle    {sys.argv[4]:17} {row['still_open']:,}/{row['count']:,} open  "
      f"RSS {row['rss_before_kib']/1024:.1f} -> {row['rss_open_kib']/1024:.1f} MiB  "
      f"{(row['bytes_per_connection'] or 0)/1024:.2f} KiB/connection")
PY
  # Fresh again, so that the next pass's RSS figures do not carry 10,000 connections' worth of heap.
  stop_pidfile "$state/pids/$target.pid"
  empty_logs "$target"
  start_target "$target"
  wait_replica "$target"
  sleep 1
}

runs_scenario() {  # TARGET SCENARIO: whether TARGET is measured in SCENARIO
  case "$1" in
    # The floor relay has no routing (mix, uploads), opens an upstream connection per client
    # connection (close, many: nothing like a keep-alive pool) and would hold 10,000 upstream
    # ones (idle): small GETs and 64 KiB only.
    nio-floor) case "$2" in get|64k) return 0 ;; *) return 1 ;; esac ;;
    # The logging nginx and HAProxy: where a log line is a visible part of each request's cost.
    nginx-log|haproxy-log) case "$2" in get|mix|many) return 0 ;; *) return 1 ;; esac ;;
    *) return 0 ;;
  esac
}

warmup_callgrind=$(( warmup > 2 ? warmup : 2 ))
callgrind_target() {  # TARGET: the proxy alone under callgrind (the normal instance, checked, is stopped first)
  local target=$1 port pid dump raw
  port=$(port_of "$target")
  stop_pidfile "$state/pids/$target.pid"
  start_target "$target" callgrind
  pid=$(pid_of "$target")
  dump="$state/callgrind/$target.out"
  # Slower under valgrind: the replica may take longer to enter Switchyard's rotation.
  wait_replica "$target" 300
  $cpu1 timeout $((warmup_callgrind + 30)) wrk -t"$threads" -c"$connections" -d"${warmup_callgrind}s" "http://127.0.0.1:$port/" >/dev/null 2>&1 || true
  callgrind_control -z "$pid" >/dev/null 2>&1 || die "callgrind_control -z $pid failed"
  raw="$state/raw/callgrind-$target.txt"
  $cpu1 timeout $((duration + 60)) wrk -t"$threads" -c"$connections" -d"${duration}s" "http://127.0.0.1:$port/" > "$raw" 2>&1 \
    || warn "callgrind $target: wrk exited non-zero (see $raw)"
  callgrind_control -d "$pid" >/dev/null 2>&1 || die "callgrind_control -d $pid failed"
  stop_pidfile "$state/pids/$target.pid"
  [ -s "$dump.1" ] || die "callgrind $target: no dump at $dump.1"
  python3 "$here/callgrind.py" record --dump "$dump.1" --wrk "$raw" --target "$target" --out "$state/callgrind.jsonl"
  empty_logs "$target"
}

nodebug() {  # BINARY -> a copy without DWARF (valgrind 3.19 cannot read Swift's DWARF 5); symbols kept
  [ -e "$1.nodebug" ] || strip --strip-debug -o "$1.nodebug" "$1" || die "strip --strip-debug $1 failed"
  echo "$1.nodebug"
}

pin_secret=$(head -c 32 /dev/urandom | base64)
loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)
compilers=$(pgrep -c swift-frontend 2>/dev/null || true)
step=3
for mode in $modes; do
  if [ "$mode" = pinned ]; then cpu0="taskset -c 0"; cpu1="taskset -c 1"; else cpu0=""; cpu1=""; fi
  say "$step. [$mode] Starting the app stand-ins and the proxies${cpu0:+ (proxies on CPU 0, app servers and wrk on CPU 1)}"
  step=$((step + 1))
  start_app
  for target in $targets; do start_target "$target"; done
  for target in $targets; do check_routing "$target"; done
  for target in $targets; do
    case "$target" in
      switchyard|switchyard-nolog)
        loops=$(cat /proc/"$(measured_pid "$target")"/task/*/comm 2>/dev/null | grep -c '^NIO-ELT' || true)
        info "[$mode] $target runs $loops event loop(s) (NIO-ELT threads), affinity $(taskset -pc "$(measured_pid "$target")" | sed 's/.*: //')" ;;
    esac
  done

  if [ "$callgrind" = 1 ]; then
    say "$step. [$mode] Instructions per request: each proxy alone under callgrind, small GETs, ${duration}s, wrk -t$threads -c$connections"
    step=$((step + 1))
    : > "$state/callgrind.jsonl"
    for target in $targets; do callgrind_target "$target"; done
    stop_services
    continue
  fi

  say "$step. [$mode] Measuring: $passes pass(es) x ${duration}s per run, wrk -t$threads -c$connections, targets interleaved"
  step=$((step + 1))
  wait_for_low_load
  target_list=($targets)
  for pass in $(seq 1 "$passes"); do
    # Rotate the order every pass so that no target always runs first or last.
    shift_by=$(( (pass - 1) % ${#target_list[@]} ))
    ordered=("${target_list[@]:$shift_by}" "${target_list[@]:0:$shift_by}")
    for scenario in $scenarios; do
      [ "$scenario" = idle ] && continue
      for target in "${ordered[@]}"; do
        runs_scenario "$target" "$scenario" || continue
        run_wrk "$mode" "$pass" "$scenario" "$target"
      done
    done
    if [[ " $scenarios " == *" idle "* ]]; then
      for target in "${ordered[@]}"; do
        if runs_scenario "$target" idle; then run_idle "$mode" "$pass" "$target"; fi
      done
    fi
  done
  stop_services
done

finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if [ "$callgrind" = 1 ]; then
  python3 - "$state/callgrind-meta.json" <<PY
import json, sys
json.dump({
    "command": """$command_line""".strip(), "started": "$started", "finished": "$finished",
    "valgrind": "$(valgrind --version 2>/dev/null || echo valgrind)",
    "switchyard_binary": "$switchyard_bin (built $sy_mtime, sha256 $sy_sha…)",
    "git": "HEAD $git_head, $git_dirty tracked file(s) modified in the work tree",
    "wrk_settings": "-t$threads -c$connections, ${duration} s after ${warmup_callgrind} s of warm-up",
}, open(sys.argv[1], "w"), indent=1)
PY
  say "Results"
  python3 "$here/callgrind.py" report --state "$state" --results "$results"
  echo
  echo "written: $results/callgrind.md, $results/callgrind.json (dumps: $state/callgrind/)"
  exit 0
fi
python3 - "$state/meta.json" <<PY
import json, platform, subprocess, sys
def out(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip() or subprocess.run(cmd, capture_output=True, text=True, timeout=10).stderr.strip()
    except Exception as error:
        return f"unknown ({error})"
cpu_model = "unknown"
with open("/proc/cpuinfo") as handle:
    for line in handle:
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip(); break
notes = [line.strip() for line in open("$state/notes.txt") if line.strip()]
meta = {
    "command": """$command_line""".strip(),
    "started": "$started", "finished": "$finished",
    "cpu_model": cpu_model, "cpus": "$(nproc)", "kernel": platform.release(),
    "loadavg_start": "$loadavg_start", "loadavg_end": " ".join(open("/proc/loadavg").read().split()[0:3]),
    "other_compilers": "${compilers:-0}",
    "load_wait": open("$state/load_wait.txt").read().strip() if __import__("os").path.exists("$state/load_wait.txt") else "-",
    "switchyard_binary": "$switchyard_bin (built $sy_mtime, sha256 $sy_sha…)",
    "switchyard_version": "$sy_version",
    "git": "HEAD $git_head, $git_dirty tracked file(s) modified in the work tree",
    "nginx_version": out("nginx", "-v").replace("nginx version: ", ""),
    "haproxy_version": out("haproxy", "-v").splitlines()[0],
    "wrk_version": out("wrk", "-v").splitlines()[0].split(" [")[0] if out("wrk", "-v") else "?",
    "postgres_version": out("$pg/postgres", "--version"),
    "passes": $passes, "duration_s": $duration, "warmup_s": $warmup,
    "wrk_settings": "-t$threads -c$connections --latency" + (" (many: -c$many_connections)" if "many" in "$scenarios".split() else ""),
    "mix": "$post_pct % POST /items, $pin_pct % of the GETs carry the proxy's pin cookie (fetched with curl before each run" + (", refreshed from the write responses since a run lasts at least the 10 s pin TTL)" if $duration >= $pin_ttl else ")"),
    "idle_connections": $idle_count,
    "disturbance": "pinned runs during which other processes kept CPU 0 busy more than $max_others % of the time were measured again, up to $redo times",
    "modes": "$modes",
    "notes": notes,
}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PY

if [ "$run_micro" = 1 ]; then
  stop_all
  micro_benchmarks
fi

say "Results"
micro_arg=(); [ -s "$state/micro.txt" ] && micro_arg=(--micro "$state/micro.txt")
python3 "$here/bench.py" report --state "$state" --results "$results" "${micro_arg[@]}"
echo
echo "written: $results/latest.md, $results/latest.json, $results/latest.csv (raw wrk output: $state/raw/)"
