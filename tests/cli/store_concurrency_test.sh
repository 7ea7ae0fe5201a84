#!/usr/bin/env bash
# Many processes sharing one study through the gpbo CLI, in a SQLite file or on PostgreSQL.
#
#   bash tests/cli/store_concurrency_test.sh <path to the gpbo binary> [sqlite|postgres]
#
# sqlite (the default): the study lives in sqlite://$tmp/study.db. postgres: in the database at
# $GPBO_TEST_POSTGRES_URL, else the URL in the file $GPBO_TEST_POSTGRES_DIR/url that ctest's
# "postgres" fixture writes (tests/storage/postgres_server.sh), under a study name of its own;
# without either the test is skipped (exit 77).
#
# GPBO_TEST_WORKERS (16) background workers each run GPBO_TEST_ROUNDS (25) rounds of ask
# (--worker-id w<i>) -> evaluate -> tell against the study (20 initial-design trials, then
# model-based asks). Then:
# every worker exited 0; `gpbo trials` lists exactly workers x rounds trials with ids 0..N-1, all
# COMPLETE (no RUNNING left), each with the value its own params give (so no tell landed on
# another worker's trial), ROUNDS per worker id, and no two with the same params; no stderr
# mentions "database is locked" or a retry that gave up; `gpbo verify` finds one intact hash
# chain of every ask and tell and the trials as the log says. Prints a summary line with the elapsed
# seconds and the ask latencies. Exits non-zero with a message on the first failure.
set -euo pipefail

BACKEND=${2:-sqlite}
if [[ $# -lt 1 || ! -x "$1" || ($BACKEND != sqlite && $BACKEND != postgres) ]]; then
  echo "usage: $0 <path to the gpbo binary> [sqlite|postgres]" >&2
  exit 2
fi
GPBO="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
WORKERS=${GPBO_TEST_WORKERS:-16}
ROUNDS=${GPBO_TEST_ROUNDS:-25}
TOTAL=$((WORKERS * ROUNDS))
# A single command that hangs must not hang the test (ctest has its own, larger limit).
CMD_TIMEOUT=${GPBO_TEST_CMD_TIMEOUT:-240}

tmp="$(mktemp -d)"
worker_pids=()
cleanup() {
  local pid
  for pid in "${worker_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "store_concurrency_test: FAIL: $*" >&2
  exit 1
}

if [[ $BACKEND == postgres ]]; then
  STORE=${GPBO_TEST_POSTGRES_URL:-}
  if [[ -z $STORE && -n ${GPBO_TEST_POSTGRES_DIR:-} && -s $GPBO_TEST_POSTGRES_DIR/url ]]; then
    STORE=$(head -n 1 "$GPBO_TEST_POSTGRES_DIR/url")
  fi
  if [[ -z $STORE ]]; then
    echo "store_concurrency_test: SKIP: no PostgreSQL test server: set GPBO_TEST_POSTGRES_URL," \
      "or run through ctest (fixture 'postgres')" \
      "$(cat "${GPBO_TEST_POSTGRES_DIR:-/nonexistent}/skip" 2>/dev/null || true)"
    exit 77
  fi
  # The database may hold other studies (and other runs of this test): a name of our own.
  STUDY="conc_$$_$(date +%s%N)"
else
  STORE="sqlite://$tmp/study.db"
  STUDY=conc
fi
cat >"$tmp/space.json" <<'EOF'
{"params": [
  {"name": "x", "type": "float", "low": -5.0, "high": 5.0},
  {"name": "n", "type": "int", "low": 0, "high": 20},
  {"name": "c", "type": "categorical", "choices": ["a", "b", "c"]}
]}
EOF

# The objective: a quadratic of the params, the same formula here and in the final check.
cat >"$tmp/objective.py" <<'EOF'
OFFSET = {"a": 0.0, "b": 1.5, "c": 3.0}
def objective(p):
    return (p["x"] - 1.25) ** 2 + 0.1 * (p["n"] - 7) ** 2 + OFFSET[p["c"]]
EOF

# Reads one `gpbo ask` JSON document on stdin; prints "<id> <value>".
cat >"$tmp/eval.py" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1])
from objective import objective
doc = json.load(sys.stdin)
trials = doc["trials"]
if len(trials) != 1:
    sys.exit("expected one trial from ask, got %d: %s" % (len(trials), json.dumps(doc)))
t = trials[0]
if t["state"] != "running":
    sys.exit("ask returned a trial in state %r: %s" % (t["state"], json.dumps(t)))
print(t["id"], repr(float(objective(t["params"]))))
EOF

start=$(date +%s.%N)
"$GPBO" create-study --storage "$STORE" --study "$STUDY" --space "$tmp/space.json" \
  --direction minimize --seed 7 --n-initial 20 >"$tmp/create.out" 2>"$tmp/create.err" ||
  fail "create-study exited $?: $(cat "$tmp/create.err")"

# worker <i>: ROUNDS rounds of ask/evaluate/tell; logs "<round> <trial id> <ask ms>" lines.
worker() {
  local i=$1 r out line id value t0 t1
  local err="$tmp/w$i.err" log="$tmp/w$i.log"
  for ((r = 0; r < ROUNDS; r++)); do
    t0=$(date +%s%N)
    if ! out=$(timeout "$CMD_TIMEOUT" "$GPBO" ask --storage "$STORE" --study "$STUDY" \
      --worker-id "w$i" 2>>"$err"); then
      echo "worker w$i: ask failed in round $r" >>"$err"
      return 1
    fi
    t1=$(date +%s%N)
    if ! line=$(python3 "$tmp/eval.py" "$tmp" <<<"$out" 2>>"$err"); then
      echo "worker w$i: unreadable ask output in round $r: $out" >>"$err"
      return 1
    fi
    read -r id value <<<"$line"
    if ! timeout "$CMD_TIMEOUT" "$GPBO" tell --storage "$STORE" --study "$STUDY" --trial "$id" \
      --value "$value" >>"$tmp/w$i.tell" 2>>"$err"; then
      echo "worker w$i: tell of trial $id failed in round $r" >>"$err"
      return 1
    fi
    echo "$r $id $(((t1 - t0) / 1000000))" >>"$log"
  done
}

for ((i = 0; i < WORKERS; i++)); do
  worker "$i" &
  worker_pids+=($!)
done

failed=""
for ((i = 0; i < WORKERS; i++)); do
  if wait "${worker_pids[$i]}"; then :; else
    failed+=" w$i(exit $?)"
  fi
done
worker_pids=()
end=$(date +%s.%N)
elapsed=$(python3 -c "print('%.1f' % ($end - $start))")

if grep -l "database is locked\|gave up" "$tmp"/*.err >/dev/null 2>&1; then
  grep -H "database is locked\|gave up" "$tmp"/*.err | head -5 >&2
  fail "a command reported 'database is locked' or gave up retrying (after ${elapsed}s)"
fi
if [[ -n "$failed" ]]; then
  for f in "$tmp"/w*.err; do [[ -s "$f" ]] && { echo "--- $f" >&2; tail -3 "$f" >&2; }; done
  fail "workers exited non-zero:$failed (after ${elapsed}s)"
fi

"$GPBO" trials --storage "$STORE" --study "$STUDY" -f json >"$tmp/trials.json" \
  2>"$tmp/trials.err" || fail "gpbo trials exited $?: $(cat "$tmp/trials.err")"

cat "$tmp"/w*.log >"$tmp/asks.log"
python3 - "$tmp" "$tmp/trials.json" "$TOTAL" "$WORKERS" "$ROUNDS" "$tmp/asks.log" <<'EOF' ||
import json, sys
sys.path.insert(0, sys.argv[1])
from objective import objective
trials = json.load(open(sys.argv[2]))["trials"]
total, workers, rounds = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
errors = []
if len(trials) != total:
    errors.append("expected %d trials, got %d" % (total, len(trials)))
ids = [t["id"] for t in trials]
if sorted(ids) != list(range(len(trials))) or len(set(ids)) != len(ids):
    errors.append("trial ids are not 0..%d, each once" % (len(trials) - 1))
states = {}
for t in trials:
    states[t["state"]] = states.get(t["state"], 0) + 1
if states.get("running"):
    errors.append("%d trials are still running" % states["running"])
if states.get("complete", 0) != len(trials):
    errors.append("not all trials are complete: %s" % states)
seen = {}
for t in trials:
    key = json.dumps(t["params"], sort_keys=True)
    if key in seen:
        errors.append("trials %d and %d have the same params %s" % (seen[key], t["id"], key))
    seen.setdefault(key, t["id"])
    if t["state"] == "complete":
        want = objective(t["params"])
        if t["value"] is None or abs(t["value"] - want) > 1e-9 * max(1.0, abs(want)):
            errors.append("trial %d has value %r but its params give %r"
                          % (t["id"], t["value"], want))
per_worker = {}
for t in trials:
    per_worker[t["worker_id"]] = per_worker.get(t["worker_id"], 0) + 1
want_workers = {"w%d" % i: rounds for i in range(workers)}
if per_worker != want_workers:
    errors.append("trials per worker id: %s (expected %d each)" % (per_worker, rounds))
sources = {}
for t in trials:
    sources[t["source"]] = sources.get(t["source"], 0) + 1
asks = sorted(float(l.split()[2]) / 1000.0 for l in open(sys.argv[6]) if l.strip())
if errors:
    for e in errors[:20]:
        print("  " + e, file=sys.stderr)
    if len(errors) > 20:
        print("  ... and %d more" % (len(errors) - 20), file=sys.stderr)
    sys.exit(1)
best = min(t["value"] for t in trials)
med = asks[len(asks) // 2] if asks else float("nan")
p95 = asks[int(0.95 * (len(asks) - 1))] if asks else float("nan")
print("sources %s; best %.4g; ask latency (s) median %.2f p95 %.2f max %.2f"
      % (sources, best, med, p95, asks[-1] if asks else float("nan")))
EOF
  fail "gpbo trials does not show $TOTAL distinct complete trials (after ${elapsed}s)"

# Every ask and tell of every process is in one hash chain, and the trials match the log.
"$GPBO" verify --storage "$STORE" --study "$STUDY" >"$tmp/verify.json" 2>"$tmp/verify.err" ||
  fail "gpbo verify exited $?: $(cat "$tmp/verify.err")"
python3 - "$tmp/verify.json" "$TOTAL" <<'EOF' || fail "gpbo verify: $(cat "$tmp/verify.json")"
import json, sys
r = json.load(open(sys.argv[1]))
total = int(sys.argv[2])
sys.exit(0 if r["ok"] and r["trials"] == total and r["entries"] >= 1 + 2 * total else 1)
EOF

if [[ $BACKEND == postgres ]]; then
  "$GPBO" delete-study --storage "$STORE" --study "$STUDY" >/dev/null ||
    fail "delete-study of $STUDY exited $?"
fi
echo "store_concurrency_test: OK ($BACKEND): $WORKERS workers x $ROUNDS rounds = $TOTAL trials," \
  "all complete, distinct, one intact log chain, no 'database is locked'; elapsed ${elapsed}s"
