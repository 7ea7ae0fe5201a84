#!/usr/bin/env bash
# Several metrics through the gpbo binary, on a store and through gpbo serve: create-study with
# --objective/--constraint (and --metrics JSON), tell --values, best of a constrained study,
# pareto (JSON and table), export and import with value_METRIC columns, a worker on a test
# problem, a report with the Pareto section; bad metric input exits 2 and writes nothing.
#
#   bash tests/cli/store_metrics_test.sh <path to the gpbo binary>
set -euo pipefail
source "$(dirname "$0")/setup.sh" "$1"

cat > "$tmp/space.json" << 'EOF_SPACE'
{"params": [{"name": "lr", "type": "float", "low": 0.0001, "high": 0.1, "log": true},
            {"name": "layers", "type": "int", "low": 1, "high": 8}]}
EOF_SPACE
# A model's accuracy (maximize) and latency (minimize), with latency at most 20 ms.
evaluate() {  # evaluate TRIAL_JSON -> values JSON
  python3 -c "
import json, math, sys
p = json.loads(sys.argv[1])['params']
acc = 0.9 - 0.02 * (math.log10(p['lr']) + 2.5) ** 2 + 0.01 * p['layers']
print(json.dumps({'acc': acc, 'latency_ms': 4.0 * p['layers'] + 0.5}))" "$1"
}

run_study() {  # run_study WHERE STUDY: create, 12 ask/tell rounds, checks
  local where=$1 study=$2
  "$GPBO" create-study $where --study "$study" --space "$tmp/space.json" --seed 3 \
    --objective acc:maximize --objective latency_ms:minimize --constraint 'latency_ms<=20' \
    > /dev/null || { fail "$study: create-study exited $?"; return; }
  [[ $("$GPBO" studies $where | json "[s['options']['metrics'] for s in d['studies'] if s['name'] == '$study'][0]['objectives'][0] == {'name': 'acc', 'direction': 'maximize'}") \
      == True ]] || fail "$study: the stored metrics"
  [[ $("$GPBO" studies $where | json "[s['direction'] for s in d['studies'] if s['name'] == '$study'][0]") == maximize ]] ||
    fail "$study: the direction is not the first objective's"
  for _ in $(seq 12); do
    local t id
    t=$("$GPBO" ask $where --study "$study" | json "json.dumps(d['trials'][0])")
    id=$(json "d['id']" <<< "$t")
    "$GPBO" tell $where --study "$study" --trial "$id" --values "$(evaluate "$t")" > "$tmp/told.json" ||
      fail "$study: tell --values exited $?"
  done
  [[ $(json "sorted(d['values'])" < "$tmp/told.json") == "['acc', 'latency_ms']" ]] ||
    fail "$study: tell printed $(cat "$tmp/told.json")"
  "$GPBO" pareto $where --study "$study" > "$tmp/pareto.json" || fail "$study: pareto exited $?"
  [[ $(json "(d['objectives'], len(d['reference_point']), d['hypervolume'] > 0, len(d['trials']) > 0)" < "$tmp/pareto.json") == \
      "(['acc', 'latency_ms'], 2, True, True)" ]] || fail "$study: pareto: $(cat "$tmp/pareto.json")"
  # Every trial on the front is feasible and none is dominated by another feasible trial.
  "$GPBO" trials $where --study "$study" > "$tmp/trials.json"
  python3 - "$tmp/pareto.json" "$tmp/trials.json" << 'EOF_PY' || fail "$study: the front is wrong"
import json, sys
front = json.load(open(sys.argv[1]))["trials"]
trials = [t for t in json.load(open(sys.argv[2]))["trials"] if t["state"] == "complete"]
ok = [t for t in trials if t["values"]["latency_ms"] <= 20]
def dom(a, b):
    a, b = a["values"], b["values"]
    return (a["acc"] >= b["acc"] and a["latency_ms"] <= b["latency_ms"]
            and (a["acc"] > b["acc"] or a["latency_ms"] < b["latency_ms"]))
want = sorted(t["id"] for t in ok if not any(dom(o, t) for o in ok))
got = sorted(t["id"] for t in front)
assert got == want, (got, want)
EOF_PY
  "$GPBO" pareto $where --study "$study" -f table | grep -q '^hypervolume ' ||
    fail "$study: the pareto table has no hypervolume line"
  expect_exit 2 "$study: best with several objectives" "$GPBO" best $where --study "$study"
  # Bad tells: exit 2, nothing written.
  local before next
  before=$("$GPBO" trials $where --study "$study")
  next=$("$GPBO" ask $where --study "$study" | json "d['trials'][0]['id']")
  before=$("$GPBO" trials $where --study "$study")
  expect_exit 2 "$study: a plain value" "$GPBO" tell $where --study "$study" --trial "$next" --value 0.5
  expect_exit 2 "$study: a missing metric" "$GPBO" tell $where --study "$study" --trial "$next" --values '{"acc": 0.5}'
  expect_exit 2 "$study: an unknown metric" "$GPBO" tell $where --study "$study" --trial "$next" \
    --values '{"acc": 0.5, "latency_ms": 3, "memory": 1}'
  expect_exit 2 "$study: a non-number" "$GPBO" tell $where --study "$study" --trial "$next" \
    --values '{"acc": "high", "latency_ms": 3}'
  expect_exit 2 "$study: not JSON" "$GPBO" tell $where --study "$study" --trial "$next" --values 'acc=1'
  [[ $("$GPBO" trials $where --study "$study") == "$before" ]] || fail "$study: a refused tell wrote"
}

S="--storage sqlite://$tmp/s.db"
run_study "$S" store
start_server serve "sqlite://$tmp/served.db"
run_study "--server $SERVER_URL" served
stop_server "$SERVER_PID"

# Export and import keep every metric (value_METRIC columns; JSON "values").
"$GPBO" export $S --study store -f csv -o "$tmp/store.csv"
head -n1 "$tmp/store.csv" | grep -q '"value_acc","value_latency_ms"' || fail "export: $(head -n1 "$tmp/store.csv")"
"$GPBO" export $S --study store -f json -o "$tmp/store.json"
for kind in csv json; do
  "$GPBO" create-study $S --study "copy_$kind" --space "$tmp/space.json" \
    --metrics '{"objectives": [{"name": "acc", "direction": "maximize"}, {"name": "latency_ms"}], "constraints": [{"metric": "latency_ms", "<=": 20}]}' > /dev/null
  "$GPBO" import $S --study "copy_$kind" -i "$tmp/store.$kind" > /dev/null || fail "import $kind exited $?"
  [[ $("$GPBO" pareto $S --study "copy_$kind" | json "d['hypervolume']") == \
     $("$GPBO" pareto $S --study store | json "d['hypervolume']") ]] || fail "import $kind: another hypervolume"
done

# One objective with a constraint: best is the best feasible trial.
"$GPBO" create-study $S --study one --space "$tmp/space.json" --objective loss --constraint 'latency_ms<=10' > /dev/null
printf 'lr,layers,value_loss,value_latency_ms\n0.01,2,0.10,25\n0.01,3,0.30,8\n0.02,1,0.20,9\n' > "$tmp/one.csv"
"$GPBO" import $S --study one -i "$tmp/one.csv" > /dev/null || fail "one: import exited $?"
[[ $("$GPBO" best $S --study one | json "(d['value'], d['values']['latency_ms'])") == "(0.2, 9.0)" ]] ||
  fail "one: best is not the best feasible trial: $("$GPBO" best $S --study one)"
"$GPBO" tell $S --study one --trial "$("$GPBO" ask $S --study one | json "d['trials'][0]['id']")" --values '{"loss": 0.05, "latency_ms": 4}' > /dev/null
[[ $("$GPBO" best $S --study one | json "d['value']") == 0.05 ]] || fail "one: a told trial is not the best"

# A worker on a test problem, and the report's Pareto section.
"$GPBO" create-study $S --study zdt --space <(python3 -c 'import json; print(json.dumps({"params": [{"name": f"x{i}", "type": "float", "low": 0, "high": 1} for i in range(6)]}))') \
  --objective f1 --objective f2 --seed 1 > /dev/null
"$GPBO" worker $S --study zdt --problem zdt1 -n 14 -q 2 > "$tmp/worker.out" || fail "worker --problem exited $?"
[[ $(wc -l < "$tmp/worker.out") == 14 ]] || fail "worker: $(cat "$tmp/worker.out")"
"$GPBO" report $S --study zdt -o "$tmp/zdt.html" > /dev/null
grep -q '<section id="metrics">' "$tmp/zdt.html" || fail "report: no metrics section"
grep -q 'Pareto front' "$tmp/zdt.html" || fail "report: no Pareto front"

# Bad metric declarations: exit 2, nothing created.
expect_exit 2 "no objective" "$GPBO" create-study $S --study bad --space "$tmp/space.json" --constraint 'x<=1'
expect_exit 2 "a bad objective" "$GPBO" create-study $S --study bad --space "$tmp/space.json" --objective 'acc:upwards'
expect_exit 2 "a bad constraint" "$GPBO" create-study $S --study bad --space "$tmp/space.json" --objective a --constraint 'x<1'
expect_exit 2 "a twice-named objective" "$GPBO" create-study $S --study bad --space "$tmp/space.json" --objective a --objective a:max
expect_exit 2 "a direction against the first objective" "$GPBO" create-study $S --study bad --space "$tmp/space.json" --objective acc:max --direction minimize
expect_exit 2 "bad metrics JSON" "$GPBO" create-study $S --study bad --space "$tmp/space.json" --metrics '{"objectives": 3}'
expect_exit 2 "ucb with a constraint" "$GPBO" create-study $S --study bad --space "$tmp/space.json" --objective a --constraint 'b<=1' --acquisition ucb
[[ $("$GPBO" studies $S | json "'bad' in [s['name'] for s in d['studies']]") == False ]] ||
  fail "a refused create-study created the study"
# The test problems through optimize and bench.
"$GPBO" optimize --problem branincurrin -n 12 --json > "$tmp/opt.json" || fail "optimize --problem exited $?"
[[ $(json "(d['problem'], d['hypervolume'] > 0, d['feasible'])" < "$tmp/opt.json") == "('branincurrin', True, 12)" ]] ||
  fail "optimize --problem: $(cat "$tmp/opt.json")"
"$GPBO" optimize --problem constrained-hartmann6 -n 10 --json > "$tmp/opt.json" || fail "optimize constrained exited $?"
[[ $(json "'best_feasible_value' in d" < "$tmp/opt.json") == True ]] || fail "optimize constrained: $(cat "$tmp/opt.json")"
"$GPBO" bench --problems gramacy --seeds 2 --budget 8 --methods gpbo,sobol > "$tmp/bench.txt" || fail "bench --problems exited $?"
[[ $(grep -c gramacy "$tmp/bench.txt") == 2 ]] || fail "bench --problems: $(cat "$tmp/bench.txt")"
expect_exit 2 "an unknown problem" "$GPBO" optimize --problem nope
set +e
"$GPBO" optimize --problem zdt1 --function branin > /dev/null 2>&1
[[ $? == 2 ]] || fail "a function and a problem: not a usage error"
set -e

finish
