#!/usr/bin/env bash
# Two `gpbo serve` processes on one PostgreSQL database, 32 clients each, one study.
#
#   GPBO_TEST_POSTGRES_URL=postgresql://user@host/db \
#     bash tests/server/serve_postgres_test.sh <gpbo binary> <serve_load binary>
#
# Skips (exit 77) without GPBO_TEST_POSTGRES_URL (or the ctest fixture's URL file). Creates a study with a fresh name, runs
# serve_load with 32 clients x $GPBO_TEST_ROUNDS (20) rounds against each server at the same
# time (worker ids a0.. and b0..), and checks: both drivers pass their own checks (every client
# holds exactly its rounds, complete, with its own values), and the study holds exactly
# 2 x 32 x rounds trials with ids 0..n-1, all complete, no two with the same params: the two
# servers never handed out the same trial. Deletes the study at the end.
set -euo pipefail
GPBO=$1
LOAD=$2
# Under ctest the URL comes from the "postgres" fixture's server (tests/storage/postgres_server.sh).
if [[ -z "${GPBO_TEST_POSTGRES_URL:-}" && -n "${GPBO_TEST_POSTGRES_DIR:-}" &&
  -s "$GPBO_TEST_POSTGRES_DIR/url" ]]; then
  GPBO_TEST_POSTGRES_URL=$(head -n 1 "$GPBO_TEST_POSTGRES_DIR/url")
fi
if [[ -z "${GPBO_TEST_POSTGRES_URL:-}" ]]; then
  echo "serve_postgres_test: SKIP: no PostgreSQL (set GPBO_TEST_POSTGRES_URL=postgresql://...)"
  exit 77
fi
STORE=$GPBO_TEST_POSTGRES_URL
CLIENTS=32
ROUNDS=${GPBO_TEST_ROUNDS:-20}
TOTAL=$((2 * CLIENTS * ROUNDS))
STUDY="serve_pg_$$_$RANDOM"
tmp=$(mktemp -d)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  "$GPBO" delete-study --storage "$STORE" --study "$STUDY" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "serve_postgres_test: FAIL: $*" >&2
  exit 1
}
source "$(dirname "$0")/serve_common.sh"

cat >"$tmp/space.json" <<'JSON'
{"params": [{"name": "x", "type": "float", "low": -5.0, "high": 5.0},
            {"name": "n", "type": "int", "low": 0, "high": 1000000}]}
JSON
"$GPBO" create-study --storage "$STORE" --study "$STUDY" --space "$tmp/space.json" \
  --n-initial "$TOTAL" --seed 3 >/dev/null || fail "create-study on $STORE exited $?"
start_server a "$STORE" 127.0.0.1:0 || fail "server a did not start"
URL_A=$SERVER_URL
PIDS+=("$SERVER_PID")
start_server b "$STORE" 127.0.0.1:0 || fail "server b did not start"
URL_B=$SERVER_URL
PIDS+=("$SERVER_PID")

"$LOAD" --url "$URL_A" --study "$STUDY" --clients $CLIENTS --rounds "$ROUNDS" \
  --worker-prefix a >"$tmp/a.json" 2>"$tmp/a.err" &
la=$!
"$LOAD" --url "$URL_B" --study "$STUDY" --clients $CLIENTS --rounds "$ROUNDS" \
  --worker-prefix b >"$tmp/b.json" 2>"$tmp/b.err" &
lb=$!
wait $la || fail "serve_load on server a: $(cat "$tmp/a.err")"
wait $lb || fail "serve_load on server b: $(cat "$tmp/b.err")"
cat "$tmp/a.json" "$tmp/b.json"

"$GPBO" trials --storage "$STORE" --study "$STUDY" >"$tmp/trials.json"
python3 - "$tmp/trials.json" "$TOTAL" <<'PY' || fail "the study is not $TOTAL distinct complete trials"
import json, sys
trials = json.load(open(sys.argv[1]))["trials"]
total = int(sys.argv[2])
errors = []
if len(trials) != total:
    errors.append("%d trials, expected %d" % (len(trials), total))
if [t["id"] for t in trials] != list(range(len(trials))):
    errors.append("ids are not 0..n-1")
if any(t["state"] != "complete" for t in trials):
    errors.append("not all complete")
if len({json.dumps(t["params"], sort_keys=True) for t in trials}) != len(trials):
    errors.append("two trials share params")
for e in errors:
    print("  " + e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
for p in "${PIDS[@]}"; do stop_server "$p" || fail "a server did not exit 0 on SIGTERM"; done
PIDS=()
echo "serve_postgres_test: OK: 2 servers x $CLIENTS clients x $ROUNDS rounds = $TOTAL distinct trials"
