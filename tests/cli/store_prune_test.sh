#!/usr/bin/env bash
# Early stopping through the gpbo binary: gpbo report-value on a store and through gpbo serve
# (the ASHA rule's answers on a fixed history, the trial's intermediate values), bad input
# (exit 2 with one line on stderr, HTTP 400, nothing written), a finished or unknown trial (exit
# 3), a pruned trial's kept value, verify on a study with reports, and best's compute cost.
#
#   bash tests/cli/store_prune_test.sh <path to the gpbo binary>
set -euo pipefail
source "$(dirname "$0")/setup.sh" "$1"

cat > "$tmp/space.json" << 'EOF_SPACE'
{"params": [{"name": "x", "type": "float", "low": -2.0, "high": 2.0}]}
EOF_SPACE

# run_case <label> <where...>: one study, three workers, ASHA with eta 2 (rungs 1, 2, 4, ...).
run_case() {
  local label=$1
  shift
  local W=("$@")
  "$GPBO" create-study "${W[@]}" --study s --space "$tmp/space.json" --n-initial 20 \
    --pruner asha --pruner-reduction-factor 2 > /dev/null
  for i in 0 1 2; do "$GPBO" ask "${W[@]}" --study s --worker-id "w$i" > /dev/null; done
  rv() { "$GPBO" report-value "${W[@]}" --study s --trial "$1" --step "$2" --value "$3"; }
  [[ $(rv 0 1 5.0 | json "d['prune']") == False ]] || fail "$label: alone at rung 1"
  [[ $(rv 1 1 3.0 | json "d['prune']") == False ]] || fail "$label: [3, 5]: the best goes on"
  rv 2 1 4.0 > "$tmp/r.json"
  [[ $(json "d['prune'], d['trial']['intermediate']" < "$tmp/r.json") == "True [[1, 4.0]]" ]] ||
    fail "$label: [3, 4, 5] keeps one: $(cat "$tmp/r.json")"
  # A repeat of the last report is answered again and writes nothing.
  [[ $(rv 2 1 4.0 | json "d['prune']") == True ]] || fail "$label: a repeat"
  # Bad input: exit 2, one line on stderr.
  expect_exit 2 "$label: a step out of order" rv 0 0 1.0
  grep -q "strictly increase" "$tmp/err" || fail "$label: message: $(cat "$tmp/err")"
  expect_exit 2 "$label: the same step, another value" rv 0 1 1.0
  expect_exit 2 "$label: nan" rv 0 2 nan
  expect_exit 2 "$label: inf" rv 0 2 inf
  expect_exit 2 "$label: a negative step" "$GPBO" report-value "${W[@]}" --study s --trial 0 \
    --step -3 --value 1.0
  expect_exit 2 "$label: not a number" rv 0 2 fast
  expect_exit 3 "$label: an unknown trial" rv 9 1 1.0
  # The stopped trial is told pruned and keeps its last value; a finished trial takes no more.
  "$GPBO" tell "${W[@]}" --study s --trial 2 --state pruned > "$tmp/pruned.json"
  [[ $(json "d['state'], d['value']" < "$tmp/pruned.json") == "pruned 4.0" ]] ||
    fail "$label: pruned: $(cat "$tmp/pruned.json")"
  expect_exit 3 "$label: a pruned trial" rv 2 2 1.0
  grep -q "already pruned" "$tmp/err" || fail "$label: message: $(cat "$tmp/err")"
  "$GPBO" tell "${W[@]}" --study s --trial 1 --value 2.5 > /dev/null
  expect_exit 3 "$label: a complete trial" rv 1 2 1.0
  "$GPBO" verify "${W[@]}" --study s > "$tmp/verify.json" || fail "$label: verify exits $?"
  [[ $(json "d['ok']" < "$tmp/verify.json") == True ]] || fail "$label: verify: $(cat "$tmp/verify.json")"
  "$GPBO" best "${W[@]}" --study s > "$tmp/best.json"
  [[ $(json "d['id'], d['cost']['pruned'], d['cost']['complete'], d['cost']['steps'], d['cost']['steps_full']" \
    < "$tmp/best.json") == "1 1 1 3 3" ]] || fail "$label: best: $(cat "$tmp/best.json")"
  "$GPBO" best "${W[@]}" --study s -f table | grep -q "^cost: 3 trials (1 complete, 1 pruned" ||
    fail "$label: best -f table has no cost line"
}

run_case store --storage "sqlite://$tmp/a.db"
# The intermediate values are in the log, chained.
"$GPBO" log --storage "sqlite://$tmp/a.db" --study s > "$tmp/log.json"
[[ $(json "[e['detail'] for e in d['log'] if e['event'] == 'report'][2]" < "$tmp/log.json") == \
  "{'prune': True, 'step': 1, 'value': 4.0}" ]] || fail "log: $(cat "$tmp/log.json")"

start_server serve "sqlite://$tmp/b.db"
run_case server --server "$SERVER_URL"
# HTTP: 400 with a JSON error for bad bodies; the intermediate route answers {"prune", "trial"}.
status_of() {
  python3 - "$SERVER_URL/v1/studies/s/trials/$1/intermediate" "$2" << 'EOF_PY'
import sys, urllib.error, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST",
                             headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req) as r:
        print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
EOF_PY
}
for body in '{"value": 1.0}' '{"step": 1}' '{"step": 1.5, "value": 1.0}' '{"step": "2", "value": 1}' \
  '{"step": 5, "value": "x"}' '{"step": 5, "value": 1, "extra": 0}' '{"step": 0, "value": 1.0}'; do
  out=$(status_of 0 "$body")
  [[ ${out%% *} == 400 ]] || fail "http: $body: $out"
done
[[ $(status_of 0 '{"step": 7, "value": 0.5}' | cut -c1-3) == 200 ]] || fail "http: a good report"
[[ $(status_of 1 '{"step": 7, "value": 0.5}' | cut -c1-3) == 409 ]] || fail "http: a complete trial"
python3 -c "import json, urllib.request; d = json.load(urllib.request.urlopen('$SERVER_URL/v1/studies/s/cost')); assert (d['pruned'], d['steps'], d['steps_full']) == (1, 9, 21), d" ||
  fail "http: /cost"
stop_server "$SERVER_PID"
SERVER_PID=

# examples/slurm/prune_array.sbatch without Slurm: three tasks at once, 3 rounds each, on the
# median rule after 3 complete trials; every trial ends complete or pruned, pruned ones keep
# their last value, some stop before the last epoch, and the study verifies.
example="$(cd "$(dirname "$0")/../../examples/slurm" && pwd)"
export GPBO_STORAGE="sqlite://$tmp/slurm.db"
"$GPBO" create-study --study curves --space "$example/space.json" --n-initial 6 \
  --pruner median --pruner-startup-trials 3 > /dev/null
pids=()
for task in 0 1 2; do
  SLURM_ARRAY_TASK_ID=$task GPBO="$GPBO" STUDY=curves ROUNDS=3 EPOCHS=9 \
    TRAIN="python3 $example/curve_objective.py" bash "$example/prune_array.sbatch" \
    2> "$tmp/task$task.err" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || fail "slurm example: a task failed"; done
"$GPBO" trials --study curves > "$tmp/curves.json"
[[ $(json "len(d['trials']), all(t['state'] in ('complete', 'pruned') for t in d['trials'])" \
  < "$tmp/curves.json") == "9 True" ]] || fail "slurm example: trials $(cat "$tmp/curves.json")"
# A pruned trial keeps its last reported value. The median rule may also prune at the last epoch
# (when the others' curves at that step are better), so only some pruned trials stop early.
[[ $(json "all(t['value'] == t['intermediate'][-1][1] for t in d['trials'] if t['state'] == 'pruned')" \
  < "$tmp/curves.json") == True ]] || fail "slurm example: pruned trials $(cat "$tmp/curves.json")"
[[ $(json "any(len(t['intermediate']) < 9 for t in d['trials'] if t['state'] == 'pruned')" \
  < "$tmp/curves.json") == True ]] || fail "slurm example: no trial stopped early"
[[ $(json "sum(t['state'] == 'pruned' for t in d['trials']) > 0" < "$tmp/curves.json") == True ]] ||
  fail "slurm example: nothing was pruned ($(cat "$tmp"/task*.err))"
"$GPBO" verify --study curves > /dev/null || fail "slurm example: verify"
unset GPBO_STORAGE

finish
