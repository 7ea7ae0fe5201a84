#!/usr/bin/env bash
# `gpbo serve` killed with SIGKILL under load and restarted on the same store and port.
#
#   bash tests/server/serve_fault_test.sh <gpbo binary> <serve_load binary>
#
# A "holder" worker asks for a trial through the CLI and keeps it running. serve_load then runs
# 16 clients x 250 ask/tell rounds with retries on (a request without a reply is sent again) and
# logs every acknowledged tell (enough rounds to outlast both kills: the server coalesces asks,
# so the rounds go fast). After 1.5 s the server is SIGKILLed, and restarted 1 s later on the
# same SQLite file and port; this happens twice. Checks: serve_load finishes and its check passes
# (every acknowledged tell is stored with its value, every client holds exactly 250 complete
# trials with distinct params and its own values, so an ask whose reply was lost in the crash
# was handed back to its retrying worker rather than left running), it needed retries (the kill
# hit it under load), the holder's ask after the restarts returns its same running trial, the
# study holds 16 x 250 + 1 trials, and the last server stops with exit 0 on SIGTERM.
set -euo pipefail
GPBO=$1
LOAD=$2
CLIENTS=16
ROUNDS=250
TOTAL=$((CLIENTS * ROUNDS + 1))
tmp=$(mktemp -d)
SERVER_PID=""
LOAD_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null || true
  [[ -n "$LOAD_PID" ]] && kill -9 "$LOAD_PID" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "serve_fault_test: FAIL: $*" >&2
  exit 1
}
source "$(dirname "$0")/serve_common.sh"

STORE="sqlite://$tmp/fault.db"
cat >"$tmp/space.json" <<'JSON'
{"params": [{"name": "x", "type": "float", "low": -5.0, "high": 5.0},
            {"name": "n", "type": "int", "low": 0, "high": 1000000}]}
JSON
start_server server0 "$STORE" 127.0.0.1:0 || fail "no server"
LISTEN=${SERVER_URL#http://}
"$GPBO" create-study --server "$SERVER_URL" --study fault --space "$tmp/space.json" \
  --n-initial "$TOTAL" --seed 2 >/dev/null || fail "create-study exited $?"
held=$("$GPBO" ask --server "$SERVER_URL" --study fault --worker-id holder |
  python3 -c 'import json,sys; t=json.load(sys.stdin)["trials"]; print(t[0]["id"])')

"$LOAD" --url "$SERVER_URL" --study fault --clients "$CLIENTS" --rounds "$ROUNDS" \
  --retry-seconds 120 --acks "$tmp/acks.txt" --expect-total "$TOTAL" \
  >"$tmp/summary.json" 2>"$tmp/load.err" &
LOAD_PID=$!

for round in 1 2; do
  sleep 1.5
  kill -0 "$LOAD_PID" 2>/dev/null || fail "serve_load finished before kill $round: too little load"
  acked=$(wc -l <"$tmp/acks.txt" 2>/dev/null || echo 0)
  kill -9 "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  echo "killed the server with SIGKILL after $acked acknowledged tells"
  sleep 1
  start_server "server$round" "$STORE" "$LISTEN" || fail "restart $round failed"
done

rc=0
wait "$LOAD_PID" || rc=$?
LOAD_PID=""
cat "$tmp/summary.json"
[[ $rc -eq 0 ]] || fail "serve_load exited $rc: $(cat "$tmp/load.err")"
python3 - "$tmp/summary.json" <<'PY' || fail "serve_load did not need retries: the kills missed it"
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["retries"] > 0 and s["acknowledged_tells_checked"] == s["asks"] else 1)
PY

again=$("$GPBO" ask --server "$SERVER_URL" --study fault --worker-id holder |
  python3 -c 'import json,sys; t=json.load(sys.stdin)["trials"]; print(t[0]["id"], t[0]["state"])')
[[ "$again" == "$held running" ]] ||
  fail "the holder's running trial $held was not handed back after the restarts (got $again)"
"$GPBO" tell --server "$SERVER_URL" --study fault --trial "$held" --value 1.0 >/dev/null
n=$("$GPBO" trials --server "$SERVER_URL" --study fault |
  python3 -c 'import json,sys; t=json.load(sys.stdin)["trials"]; print(len(t), sum(x["state"] == "complete" for x in t))')
[[ "$n" == "$TOTAL $TOTAL" ]] || fail "expected $TOTAL trials, all complete; got (count complete) $n"
stop_server "$SERVER_PID" || fail "gpbo serve did not exit 0 on SIGTERM"
SERVER_PID=""
echo "serve_fault_test: OK: 2 SIGKILLs under load; $TOTAL trials complete, acknowledged tells kept, running trial recovered"
