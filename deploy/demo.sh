#!/usr/bin/env bash
# Switchyard demo: a PostgreSQL primary + streaming replica on loopback, two
# primary-backed and two replica-backed demo app servers, and Switchyard in
# front of them; then a narrated scenario with real requests and the decision
# log lines they produced.
#
#   deploy/demo.sh          set up (installs what is missing, builds), run the scenario, leave the stack up
#   deploy/demo.sh stop     stop exactly what the demo started (by pid) and remove nothing else
#
# State lives in $SWITCHYARD_DEMO_DIR (default /tmp/switchyard-demo); ports start at
# $SWITCHYARD_DEMO_PORT_BASE (default 28000, outside Linux's ephemeral range).
# With $SWITCHYARD_BIN_DIR set, the binaries there are used and nothing is built
# (the test suite runs the demo this way with its debug build).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
state=${SWITCHYARD_DEMO_DIR:-/tmp/switchyard-demo}
base=${SWITCHYARD_DEMO_PORT_BASE:-28000}
pg_primary=$((base + 432)); pg_replica=$((base + 433))
app_p1=$((base + 1)); app_p2=$((base + 2)); app_r1=$((base + 11)); app_r2=$((base + 12))
router=$((base + 80)); admin=$((base + 90))

say()  { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }

pgbin() {
  if [ -n "${SWITCHYARD_PG_BINDIR:-}" ]; then echo "$SWITCHYARD_PG_BINDIR"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_postgres() { runuser -u postgres -- "$@"; }

stop_all() {
  [ -d "$state" ] || return 0
  for pidfile in "$state"/pids/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for pidfile in "$state"/pids/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  local bin; bin=$(pgbin)
  for dir in "$state/pg/replica" "$state/pg/primary"; do
    if [ -f "$dir/postmaster.pid" ] && [ -n "$bin" ]; then
      as_postgres "$bin/pg_ctl" -D "$dir" stop -m fast -w >/dev/null 2>&1 || true
    fi
  done
}

if [ "${1:-}" = "stop" ]; then
  stop_all
  echo "demo stopped (state kept in $state; remove it with: rm -rf $state)"
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: deploy/demo.sh [stop]" >&2; exit 2; }

started=$(date +%s)
# A second run starts from a clean slate.
stop_all
rm -rf "$state"
mkdir -p "$state/pids" "$state/logs" "$state/pg"

say "1. Installing what is missing and building (release)"
need=()
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v pg_config >/dev/null 2>&1 || need+=(libpq-dev)
[ -n "$(pgbin)" ] || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  note "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
bin=$(pgbin)
if [ -n "${SWITCHYARD_BIN_DIR:-}" ]; then
  release=$SWITCHYARD_BIN_DIR
  note "using the binaries in $release"
else
  (cd "$here" && deploy/build-release.sh --product switchyard >/dev/null \
    && deploy/build-release.sh --product switchyard-demo-app >/dev/null)
  release="$here/.build/release"
  note "built $release/switchyard and $release/switchyard-demo-app"
fi

say "2. Starting a PostgreSQL primary (port $pg_primary) and a streaming replica (port $pg_replica)"
chown postgres "$state/pg"
as_postgres "$bin/initdb" -D "$state/pg/primary" -U postgres --auth=trust -N >/dev/null
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
as_postgres "$bin/pg_ctl" -D "$state/pg/primary" -l "$state/pg/primary.log" -w start >/dev/null
as_postgres "$bin/pg_basebackup" -D "$state/pg/replica" -R -X stream -C -S demo_replica -N \
  -d "host=127.0.0.1 port=$pg_primary user=postgres application_name=replica-a" >/dev/null
cat >> "$state/pg/replica/postgresql.conf" <<CONF
port = $pg_replica
CONF
as_postgres "$bin/pg_ctl" -D "$state/pg/replica" -l "$state/pg/replica.log" -w start >/dev/null
psql_primary() { psql -X -q -A -t -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$pg_primary user=postgres dbname=${2:-app}" -c "$1"; }
psql_replica() { psql -X -q -A -t -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$pg_replica user=postgres dbname=app" -c "$1"; }
psql -X -q -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$pg_primary user=postgres dbname=postgres" -c "CREATE DATABASE app" >/dev/null
note "primary and replica up; replica streaming: $(psql_primary "SELECT state FROM pg_stat_replication" postgres)"

say "3. Applying migrations/ on the primary (the replica gets them by replication)"
monitor_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
psql -X -q -v ON_ERROR_STOP=1 -v monitor_password="$monitor_password" \
  "host=127.0.0.1 port=$pg_primary user=postgres dbname=postgres" -f "$here/migrations/001_monitoring_role.sql" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$pg_primary user=postgres dbname=app" -f "$here/migrations/002_demo_schema.sql" >/dev/null
note "001_monitoring_role.sql: role switchyard_monitor (LOGIN, pg_monitor) with a fresh password"
note "002_demo_schema.sql: table items"

say "4. Starting four demo app servers"
start_app() {  # name port dbport
  "$release/switchyard-demo-app" --name "$1" --listen "127.0.0.1:$2" \
    --database "host=127.0.0.1 port=$3 dbname=app user=postgres" > "$state/logs/$1.log" 2>&1 &
  echo $! > "$state/pids/$1.pid"
}
start_app app-p1 "$app_p1" "$pg_primary"; start_app app-p2 "$app_p2" "$pg_primary"
start_app app-r1 "$app_r1" "$pg_replica"; start_app app-r2 "$app_r2" "$pg_replica"
for port in $app_p1 $app_p2 $app_r1 $app_r2; do
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
done
note "app-p1 :$app_p1, app-p2 :$app_p2 -> primary;  app-r1 :$app_r1, app-r2 :$app_r2 -> replica"

say "5. Starting Switchyard on 127.0.0.1:$router"
sed -e "s/@ROUTER_PORT@/$router/; s/@ADMIN_PORT@/$admin/; s/@PG_PRIMARY_PORT@/$pg_primary/; s/@PG_REPLICA_PORT@/$pg_replica/" \
    -e "s/@APP_P1_PORT@/$app_p1/; s/@APP_P2_PORT@/$app_p2/; s/@APP_R1_PORT@/$app_r1/; s/@APP_R2_PORT@/$app_r2/" \
    -e "s/@MONITOR_PASSWORD@/$monitor_password/g" \
    "$here/deploy/demo/switchyard.yaml.in" > "$state/switchyard.yaml"
chmod 600 "$state/switchyard.yaml"
"$release/switchyard" check --config "$state/switchyard.yaml" | sed 's/^/   /'
SWITCHYARD_PIN_SECRET=$(head -c 32 /dev/urandom | base64) \
  "$release/switchyard" serve --config "$state/switchyard.yaml" > "$state/logs/switchyard.log" 2>&1 &
echo $! > "$state/pids/switchyard.pid"
for _ in $(seq 1 100); do grep -q '"switchyard listening"' "$state/logs/switchyard.log" 2>/dev/null && break; sleep 0.1; done
grep -q '"switchyard listening"' "$state/logs/switchyard.log" || { echo "switchyard did not start:"; cat "$state/logs/switchyard.log"; exit 1; }

jar="$state/cookies.txt"
req() {  # METHOD PATH [curl args...]: prints status, app server, db role, then the decision log line
  local method=$1 path=$2; shift 2
  local before; before=$(grep -c '"msg":"route"' "$state/logs/switchyard.log" || true)
  local out; out=$(curl -s -o "$state/body" -D - -X "$method" "http://127.0.0.1:$router$path" "$@" | tr -d '\r')
  local status server role pin
  status=$(printf '%s\n' "$out" | head -n 1 | cut -d' ' -f2)
  server=$(printf '%s\n' "$out" | grep -i '^x-app-server:' | cut -d' ' -f2)
  role=$(printf '%s\n' "$out" | grep -i '^x-db-role:' | cut -d' ' -f2)
  pin=$(printf '%s\n' "$out" | grep -qi '^set-cookie: switchyard_pin=' && echo " +pin cookie" || true)
  printf '   %-5s %-12s -> %s from %s (%s)%s\n' "$method" "$path" "$status" "${server:-switchyard}" "${role:-no db}" "$pin"
  for _ in $(seq 1 50); do
    [ "$(grep -c '"msg":"route"' "$state/logs/switchyard.log" || true)" -gt "$before" ] && break; sleep 0.02
  done
  grep '"msg":"route"' "$state/logs/switchyard.log" | tail -n 1 | sed 's/^/     log: /'
}
wait_log() {  # PATTERN TIMEOUT_S
  for _ in $(seq 1 $(( $2 * 10 ))); do grep -q "$1" "$state/logs/switchyard.log" && return 0; sleep 0.1; done
  echo "   (timed out waiting for $1)"; return 1
}

say "6. Reads go to the replica-backed app servers"
req GET /items
req GET /items

say "7. A write goes to the primary and pins this client (cookie jar: $jar)"
psql_replica "SELECT pg_wal_replay_pause()" >/dev/null
note "(replay paused on the replica first, so the pin has something to wait for)"
req POST /items -c "$jar" -b "$jar" --data "first item"
id=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$state/body")

say "8. The pinned read goes to the primary: the replica has not replayed the write"
req GET "/items/$id" -b "$jar"
note "the same read without the cookie reads the stale replica:"
req GET "/items/$id"

say "9. Replay resumes; the pinned read moves back to the replica (pin-caught-up), well before the 30 s TTL"
resumed_ms=$(date +%s%3N)
psql_replica "SELECT pg_wal_replay_resume()" >/dev/null
for _ in $(seq 1 200); do
  line=$(curl -s -o /dev/null -D - -b "$jar" "http://127.0.0.1:$router/items/$id" | tr -d '\r' | grep -i '^x-db-role:' || true)
  case "$line" in *replica*) break ;; esac
  sleep 0.02
done
note "the pinned read was back on the replica $(( $(date +%s%3N) - resumed_ms )) ms after replay resumed"
req GET "/items/$id" -b "$jar"

say "10. Replay paused under writes: the replica leaves rotation (max_lag 2s) and reads fall back to the primary"
psql_replica "SELECT pg_wal_replay_pause()" >/dev/null
for i in $(seq 1 20); do curl -s -o /dev/null -X POST "http://127.0.0.1:$router/items" --data "load $i"; done
wait_log '"replica out of rotation"' 10 && grep '"replica out of rotation"' "$state/logs/switchyard.log" | tail -n 1 | sed 's/^/     log: /'
req GET /items

say "11. Replay resumes; after readmit_after (3) good polls the replica is back in rotation"
psql_replica "SELECT pg_wal_replay_resume()" >/dev/null
wait_log '"replica back in rotation"' 10 && grep '"replica back in rotation"' "$state/logs/switchyard.log" | tail -n 1 | sed 's/^/     log: /'
req GET /items

say "Done in $(( $(date +%s) - started ))s. The stack is still running:"
note "router:    http://127.0.0.1:$router/   (try: curl -i http://127.0.0.1:$router/items)"
note "dashboard: http://127.0.0.1:$admin/   status: curl http://127.0.0.1:$admin/status   metrics: /metrics"
note "lag:       $release/switchyard lag --config $state/switchyard.yaml"
note "logs:      $state/logs/ (switchyard.log has every decision)"
note "stop it:   deploy/demo.sh stop"
