#!/usr/bin/env bash
# Many workers on one study: `gpbo serve` (SQLite) with a baseline binary and a candidate
# binary, one after the other in the same command, each serving bench/serve_load's clients x
# rounds of ask -> evaluate -> tell on a fresh study of 4 floats (20 initial points, then the
# model). Prints one JSON line per binary: serve_load's summary (ask latency quantiles,
# asks/s, the 0-lost / 0-duplicated check) plus the binary's label.
#
#   bash bench/serve_coalesce.sh <baseline gpbo> <candidate gpbo> <serve_load> [clients] [rounds]
#   (LABELS=candidate runs the candidate alone)
set -euo pipefail
CLIENTS=${4:-64}
ROUNDS=${5:-30}
LOAD=$3
tmp=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
source "$(dirname "$0")/../tests/server/serve_common.sh"
cat >"$tmp/space.json" <<'JSON'
{"params": [{"name": "a", "type": "float", "low": 0, "high": 1},
            {"name": "b", "type": "float", "low": 0, "high": 1},
            {"name": "c", "type": "float", "low": 0, "high": 1},
            {"name": "d", "type": "float", "low": 0, "high": 1}]}
JSON
for label in ${LABELS:-baseline candidate}; do
  if [[ $label == baseline ]]; then GPBO=$1; else GPBO=$2; fi
  rm -f "$tmp/load.db"
  start_server "$label" "sqlite://$tmp/load.db" 127.0.0.1:0 --threads 80 --request-timeout 600
  "$GPBO" create-study --server "$SERVER_URL" --study load --space "$tmp/space.json" \
    --n-initial 20 --seed 1 >/dev/null
  "$LOAD" --url "$SERVER_URL" --study load --clients "$CLIENTS" --rounds "$ROUNDS" \
    --expect-total $((CLIENTS * ROUNDS)) >"$tmp/$label.json" 2>"$tmp/$label.err" ||
    { echo "$label: serve_load failed:" >&2; tail -3 "$tmp/$label.err" >&2; }
  stop_server "$SERVER_PID" || echo "$label: gpbo serve did not stop on SIGTERM" >&2
  SERVER_PID=""
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); d['binary']=sys.argv[2]; d['load_average']=open('/proc/loadavg').read().split()[0]; print(json.dumps(d, sort_keys=True))" "$tmp/$label.json" "$label"
done
