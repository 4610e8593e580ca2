#!/usr/bin/env bash
# Renders the admin dashboard with headless Chromium while the demo stack runs
# with one replica lagging, to docs/dashboard.png.
#
#   deploy/dashboard-screenshot.sh        (starts the demo stack if it is not running)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state=${SWITCHYARD_DEMO_DIR:-/tmp/switchyard-demo}
base=${SWITCHYARD_DEMO_PORT_BASE:-28000}
router=$((base + 80)); admin=$((base + 90)); pg_replica=$((base + 433))
out=${1:-$here/docs/dashboard.png}

if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
if ! curl -fs "http://127.0.0.1:$admin/healthz" >/dev/null 2>&1; then
  "$here/deploy/demo.sh" >/dev/null
fi

echo "traffic and lag for the chart (about 40 s)..."
psql_replica() { psql -X -q -A -t "host=127.0.0.1 port=$pg_replica user=postgres dbname=app" -c "$1" >/dev/null; }
traffic() {  # bounded: COUNT requests, one in ten a write
  for i in $(seq 1 "$1"); do
    if [ $((i % 10)) -eq 0 ]; then curl -s -o /dev/null -X POST "http://127.0.0.1:$router/items" --data "chart $i"
    else curl -s -o /dev/null "http://127.0.0.1:$router/items"; fi
  done
}
traffic 150
psql_replica "SELECT pg_wal_replay_pause()"
end=$(( $(date +%s) + 6 )); while [ "$(date +%s)" -lt "$end" ]; do traffic 20; done    # lag builds, the replica leaves rotation
psql_replica "SELECT pg_wal_replay_resume()"
end=$(( $(date +%s) + 4 )); while [ "$(date +%s)" -lt "$end" ]; do traffic 20; done    # back in rotation
psql_replica "SELECT pg_wal_replay_pause()"
end=$(( $(date +%s) + 8 )); while [ "$(date +%s)" -lt "$end" ]; do traffic 20; done    # lagging again, out, as the picture is taken

mkdir -p "$(dirname "$out")"
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1100 \
  --virtual-time-budget=4000 --screenshot="$out" "http://127.0.0.1:$admin/" >/dev/null 2>&1
psql_replica "SELECT pg_wal_replay_resume()"
echo "wrote $out (the replica was left lagging for the picture, then resumed)"
