#!/usr/bin/env bash
# Crash safety, lease expiry and idempotence of the SQLite store, through the gpbo CLI.
#
#   bash tests/cli/store_crash_test.sh <path to the gpbo binary>
#
# (a) `gpbo ask` and `gpbo tell` processes are SIGKILLed at random moments between normal
#     ask/tell rounds; afterwards the store opens (`gpbo trials` exits 0), its trials are a
#     consistent list (ids 0..n-1, known states, a finite value exactly on complete trials), every
#     tell that reported success still shows its value, a tell killed midway either landed whole
#     or not at all, and the study still takes asks and tells.
# (b) Lease expiry: with --lease-seconds 1 --requeue-expired, a trial asked by a worker that never
#     reports is FAILED at the next ask after its lease, and its point comes back as a new trial.
# (c) Idempotence: a worker asking twice without a tell gets the same trial; telling the same
#     value twice succeeds; a different value is a conflict (exit 3).
set -euo pipefail

if [[ $# -lt 1 || ! -x "$1" ]]; then
  echo "usage: $0 <path to the gpbo binary>" >&2
  exit 2
fi
GPBO="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
KILLS=${GPBO_TEST_KILLS:-20}

tmp="$(mktemp -d)"
bg_pid=""
cleanup() {
  [[ -n "$bg_pid" ]] && kill -9 "$bg_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "store_crash_test: FAIL: $*" >&2
  exit 1
}

STORE="sqlite://$tmp/crash.db"
cat >"$tmp/space.json" <<'EOF'
{"params": [
  {"name": "x", "type": "float", "low": -5.0, "high": 5.0},
  {"name": "n", "type": "int", "low": 0, "high": 20},
  {"name": "c", "type": "categorical", "choices": ["a", "b", "c"]}
]}
EOF

# g <name> args...: runs gpbo; stdout in $tmp/<name>.out, stderr in $tmp/<name>.err, exit in $rc.
rc=0
g() {
  local name=$1
  shift
  rc=0
  timeout 120 "$GPBO" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
}
expect_rc() {  # expect_rc <code> <what>
  [[ "$rc" == "$1" ]] || fail "$2: expected exit $1, got $rc; stderr: $(cat "$tmp/last.err" 2>/dev/null)"
}
# json_get <file> <python expression on d>: prints the value.
json_get() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
# A random sleep of 0..$1 milliseconds.
random_sleep_ms() {
  local ms=$((RANDOM % ($1 + 1)))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

start=$(date +%s%N)

# ------------------------------------------------------------------------ (a) SIGKILL at random
STUDY=crash
g last create-study --storage "$STORE" --study "$STUDY" --space "$tmp/space.json" \
  --direction minimize --seed 3 --n-initial 5
expect_rc 0 "create-study $STUDY"

: >"$tmp/told.txt"  # "<id> <value>" for every tell that reported success
# ask_tell <worker>: one normal round; records the tell.
last_ask_ms=300
ask_tell() {
  local t0
  t0=$(date +%s%N)
  g last ask --storage "$STORE" --study "$STUDY" --worker-id "$1"
  last_ask_ms=$((($(date +%s%N) - t0) / 1000000))
  expect_rc 0 "ask --worker-id $1"
  local id value
  id=$(json_get "$tmp/last.out" 'd["trials"][0]["id"]')
  value=$(json_get "$tmp/last.out" \
    'repr((lambda p: (p["x"] - 1) ** 2 + 0.1 * p["n"] + {"a": 0, "b": 1, "c": 2}[p["c"]])(d["trials"][0]["params"]))')
  cp "$tmp/last.out" "$tmp/ask_tell_ask.out"
  g last tell --storage "$STORE" --study "$STUDY" --trial "$id" --value "$value"
  expect_rc 0 "tell --trial $id --value $value"
  [[ "$(json_get "$tmp/last.out" 'd["state"]')" == complete ]] || fail "tell output: $(cat "$tmp/last.out")"
  echo "$id $value" >>"$tmp/told.txt"
}

# Past the initial design, so that the asks being killed fit a GP and take a while.
for ((i = 0; i < 8; i++)); do ask_tell normal; done

asks_done=0 asks_killed=0
: >"$tmp/killed_tells.txt"  # "<id> <value>" of tells killed midway
for ((k = 0; k < KILLS; k++)); do
  # An ask killed at a random moment of its run: 0 ms up to about the time a normal ask takes
  # now (at most 300 ms), so that most kills land while it runs.
  window=$((last_ask_ms + last_ask_ms / 5 + 1))
  ((window <= 300)) || window=300
  "$GPBO" ask --storage "$STORE" --study "$STUDY" --worker-id "k$k" \
    >"$tmp/killed_ask.out" 2>"$tmp/killed_ask.err" &
  bg_pid=$!
  random_sleep_ms "$window"
  kill -9 "$bg_pid" 2>/dev/null || true
  wait "$bg_pid" 2>/dev/null || true
  bg_pid=""
  # Whether the kill came before the ask printed its trial (then it may have been mid-transaction).
  if python3 -c 'import json,sys; json.load(open(sys.argv[1]))["trials"][0]' "$tmp/killed_ask.out" \
    2>/dev/null; then asks_done=$((asks_done + 1)); else asks_killed=$((asks_killed + 1)); fi

  # A tell killed at a random moment (0-40 ms): it lands whole or not at all.
  g last ask --storage "$STORE" --study "$STUDY" --worker-id "t$k"
  expect_rc 0 "ask --worker-id t$k (after a kill)"
  id=$(json_get "$tmp/last.out" 'd["trials"][0]["id"]')
  value="$((k + 100)).25"
  "$GPBO" tell --storage "$STORE" --study "$STUDY" --trial "$id" --value "$value" \
    >"$tmp/killed_tell.out" 2>"$tmp/killed_tell.err" &
  bg_pid=$!
  random_sleep_ms 40
  kill -9 "$bg_pid" 2>/dev/null || true
  wait "$bg_pid" 2>/dev/null || true
  bg_pid=""
  echo "$id $value" >>"$tmp/killed_tells.txt"

  # And a normal round in between, whose tell must survive everything after it.
  ask_tell "n$k"
done

g last trials --storage "$STORE" --study "$STUDY" -f json
expect_rc 0 "gpbo trials after $KILLS killed asks and tells"
cp "$tmp/last.out" "$tmp/trials_after_kills.json"
python3 - "$tmp/trials_after_kills.json" "$tmp/told.txt" "$tmp/killed_tells.txt" <<'EOF' ||
import json, math, sys
trials = json.load(open(sys.argv[1]))["trials"]
errors = []
ids = [t["id"] for t in trials]
if ids != list(range(len(trials))):
    errors.append("trial ids are not 0..%d in order: %s" % (len(trials) - 1, ids))
by_id = {t["id"]: t for t in trials}
for t in trials:
    if t["state"] not in ("running", "complete", "failed", "pruned"):
        errors.append("trial %d has unknown state %r" % (t["id"], t["state"]))
    has_value = t["value"] is not None
    if has_value != (t["state"] == "complete"):
        errors.append("trial %d: state %s with value %r" % (t["id"], t["state"], t["value"]))
    if has_value and not math.isfinite(t["value"]):
        errors.append("trial %d: non-finite value %r" % (t["id"], t["value"]))
    if not isinstance(t["params"], dict) or sorted(t["params"]) != ["c", "n", "x"]:
        errors.append("trial %d: params %r" % (t["id"], t["params"]))
for line in open(sys.argv[2]):
    i, v = line.split()
    t = by_id.get(int(i))
    if t is None or t["state"] != "complete" or t["value"] != float(v):
        errors.append("told trial %s (value %s) now reads %r" % (i, v, t))
landed = lost = 0
for line in open(sys.argv[3]):
    i, v = line.split()
    t = by_id.get(int(i))
    if t is not None and t["state"] == "complete" and t["value"] == float(v):
        landed += 1
    elif t is not None and t["state"] == "running" and t["value"] is None:
        lost += 1
    else:
        errors.append("trial %s, whose tell (value %s) was killed, reads %r" % (i, v, t))
if errors:
    for e in errors[:20]:
        print("  " + e, file=sys.stderr)
    sys.exit(1)
print("%d trials; killed tells: %d landed whole, %d not at all" % (len(trials), landed, lost))
EOF
  fail "the store is inconsistent after killed processes"

# SQLite's own integrity check, when Python has the sqlite3 module (read-only connection).
if python3 -c 'import sqlite3' 2>/dev/null; then
  integrity=$(python3 -c '
import sqlite3, sys
con = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
print(con.execute("PRAGMA integrity_check").fetchone()[0])' "$tmp/crash.db") ||
    fail "PRAGMA integrity_check could not run"
  [[ "$integrity" == ok ]] || fail "PRAGMA integrity_check: $integrity"
fi

# The killed tells can be retried: the same value is accepted whether or not it had landed.
while read -r id value; do
  g last tell --storage "$STORE" --study "$STUDY" --trial "$id" --value "$value"
  expect_rc 0 "retrying the killed tell of trial $id with the same value"
done <"$tmp/killed_tells.txt"
# The study goes on.
ask_tell after
g last export --storage "$STORE" --study "$STUDY" -f csv
expect_rc 0 "export -f csv after the kills"
echo "store_crash_test: (a) $KILLS asks killed at random (${asks_killed} before printing," \
  "${asks_done} after), $KILLS tells killed; $(wc -l <"$tmp/told.txt") reported tells intact"

# ------------------------------------------------------------------------ (b) lease expiry
LSTUDY=lease
g last create-study --storage "$STORE" --study "$LSTUDY" --space "$tmp/space.json" \
  --seed 5 --n-initial 5 --lease-seconds 1 --requeue-expired
expect_rc 0 "create-study --lease-seconds 1 --requeue-expired"
g last ask --storage "$STORE" --study "$LSTUDY" --worker-id dead
expect_rc 0 "ask --worker-id dead"
dead_id=$(json_get "$tmp/last.out" 'd["trials"][0]["id"]')
dead_params=$(json_get "$tmp/last.out" 'json.dumps(d["trials"][0]["params"], sort_keys=True)')
sleep 2
g last ask --storage "$STORE" --study "$LSTUDY" --worker-id alive
expect_rc 0 "ask --worker-id alive after the lease ran out"
cp "$tmp/last.out" "$tmp/alive_ask.json"
g last trials --storage "$STORE" --study "$LSTUDY" -f json
expect_rc 0 "trials of $LSTUDY"
python3 - "$tmp/last.out" "$tmp/alive_ask.json" "$dead_id" "$dead_params" <<'EOF' ||
import json, sys
trials = {t["id"]: t for t in json.load(open(sys.argv[1]))["trials"]}
asked = json.load(open(sys.argv[2]))["trials"]
dead_id, dead_params = int(sys.argv[3]), sys.argv[4]
errors = []
dead = trials.get(dead_id)
if dead is None or dead["state"] != "failed":
    errors.append("the dead worker's trial %d should be failed: %r" % (dead_id, dead))
if len(asked) != 1:
    errors.append("the second ask returned %d trials" % len(asked))
else:
    new = asked[0]
    if new["id"] == dead_id:
        errors.append("the second ask returned the expired trial itself")
    if json.dumps(new["params"], sort_keys=True) != dead_params:
        errors.append("the expired point %s did not come back; got %s" % (dead_params, new["params"]))
    # The engine queues an expired point and the Study reports a queued point as "enqueued";
    # the storage docs name a "requeued" source. Either is accepted here.
    if new["source"] not in ("requeued", "enqueued"):
        errors.append("the requeued trial has source %r" % new["source"])
    if new["worker_id"] != "alive" or new["state"] != "running":
        errors.append("the requeued trial: %r" % new)
if errors:
    for e in errors:
        print("  " + e, file=sys.stderr)
    sys.exit(1)
print("requeued as trial %d with source %r" % (asked[0]["id"], asked[0]["source"]))
EOF
  fail "lease expiry with --requeue-expired"
# The dead worker reporting late: its trial is failed, so a value is a conflict...
g last tell --storage "$STORE" --study "$LSTUDY" --trial "$dead_id" --value 1.0
expect_rc 3 "tell on the expired (failed) trial"
# ...unless it asks to skip finished trials.
g last tell --storage "$STORE" --study "$LSTUDY" --trial "$dead_id" --value 1.0 --skip-if-finished
expect_rc 0 "tell --skip-if-finished on the expired trial"
[[ "$(json_get "$tmp/last.out" 'd["state"]')" == failed ]] ||
  fail "tell --skip-if-finished changed the expired trial: $(cat "$tmp/last.out")"
echo "store_crash_test: (b) an expired lease fails its trial and requeues the point"

# ------------------------------------------------------------------------ (c) idempotence
ISTUDY=idem
g last create-study --storage "$STORE" --study "$ISTUDY" --space "$tmp/space.json" --seed 9
expect_rc 0 "create-study $ISTUDY"
g first ask --storage "$STORE" --study "$ISTUDY" --worker-id w
rc_first=$rc
g second ask --storage "$STORE" --study "$ISTUDY" --worker-id w
[[ "$rc_first" == 0 && "$rc" == 0 ]] || fail "ask --worker-id w twice: exits $rc_first, $rc"
id1=$(json_get "$tmp/first.out" 'd["trials"][0]["id"]')
id2=$(json_get "$tmp/second.out" 'd["trials"][0]["id"]')
[[ "$id1" == "$id2" ]] || fail "ask --worker-id w twice without a tell gave trials $id1 and $id2"
p1=$(json_get "$tmp/first.out" 'json.dumps(d["trials"][0]["params"], sort_keys=True)')
p2=$(json_get "$tmp/second.out" 'json.dumps(d["trials"][0]["params"], sort_keys=True)')
[[ "$p1" == "$p2" ]] || fail "the re-asked trial $id1 changed params: $p1 vs $p2"
n_trials=$(json_get <(timeout 60 "$GPBO" trials --storage "$STORE" --study "$ISTUDY") 'len(d["trials"])')
[[ "$n_trials" == 1 ]] || fail "two asks by one worker created $n_trials trials"
g last tell --storage "$STORE" --study "$ISTUDY" --trial "$id1" --value 0.5
expect_rc 0 "first tell"
g last tell --storage "$STORE" --study "$ISTUDY" --trial "$id1" --value 0.5
expect_rc 0 "the same tell again"
g last tell --storage "$STORE" --study "$ISTUDY" --trial "$id1" --value 0.75
expect_rc 3 "a tell with another value"
[[ -s "$tmp/last.err" ]] || fail "the conflicting tell printed nothing on stderr"
value=$(json_get <(timeout 60 "$GPBO" trials --storage "$STORE" --study "$ISTUDY") 'd["trials"][0]["value"]')
[[ "$value" == 0.5 ]] || fail "after a conflicting tell the value reads $value, expected 0.5"
echo "store_crash_test: (c) re-ask returns the same trial; same tell twice ok; another value exit 3"

end=$(date +%s%N)
echo "store_crash_test: OK; elapsed $(((end - start) / 1000000)) ms"
