#!/usr/bin/env bash
# Many clients against one `gpbo serve` on a SQLite store.
#
#   bash tests/server/serve_load_test.sh <gpbo binary> <serve_load binary>
#
# Starts gpbo serve on sqlite://$tmp/load.db (loopback, ephemeral port), creates a study through
# the CLI's --server, runs serve_load with $GPBO_TEST_CLIENTS (64) threads x $GPBO_TEST_ROUNDS
# (50) ask/tell rounds, and checks (in serve_load) that the study holds exactly clients x rounds
# complete trials, ids 0..n-1, distinct params, each with its own value, M per worker. The
# study's initial design covers the whole run, so the test measures the server and the store,
# not the GP (`gpbo serve` plans each ask from the store until the engine keeps a warm model).
# Then SIGTERM must stop the server with exit 0. Prints serve_load's summary (latency, asks/s).
set -euo pipefail
GPBO=$1
LOAD=$2
CLIENTS=${GPBO_TEST_CLIENTS:-64}
ROUNDS=${GPBO_TEST_ROUNDS:-50}
TOTAL=$((CLIENTS * ROUNDS))
tmp=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "serve_load_test: FAIL: $*" >&2
  [[ -f "$tmp/server.err" ]] && tail -5 "$tmp/server.err" >&2
  exit 1
}
source "$(dirname "$0")/serve_common.sh"

cat >"$tmp/space.json" <<'JSON'
{"params": [{"name": "x", "type": "float", "low": -5.0, "high": 5.0},
            {"name": "y", "type": "float", "low": -5.0, "high": 5.0},
            {"name": "n", "type": "int", "low": 0, "high": 1000000},
            {"name": "c", "type": "categorical", "choices": ["a", "bb", "ccc"]}]}
JSON
start_server server "sqlite://$tmp/load.db" 127.0.0.1:0 --threads 16 || fail "no server"
"$GPBO" create-study --server "$SERVER_URL" --study load --space "$tmp/space.json" \
  --n-initial "$TOTAL" --seed 1 >/dev/null || fail "create-study --server exited $?"

"$LOAD" --url "$SERVER_URL" --study load --clients "$CLIENTS" --rounds "$ROUNDS" \
  --expect-total "$TOTAL" >"$tmp/summary.json" || fail "serve_load: $(cat "$tmp/summary.json")"
cat "$tmp/summary.json"

# The CLI against the server agrees with the CLI on the store.
"$GPBO" trials --server "$SERVER_URL" --study load >"$tmp/via_server.json"
stop_server "$SERVER_PID" || fail "gpbo serve did not exit 0 on SIGTERM"
SERVER_PID=""
"$GPBO" trials --storage "sqlite://$tmp/load.db" --study load >"$tmp/via_store.json"
cmp -s "$tmp/via_server.json" "$tmp/via_store.json" ||
  fail "gpbo trials --server and --storage print different trials"
echo "serve_load_test: OK: $CLIENTS clients x $ROUNDS rounds = $TOTAL complete, distinct trials"
