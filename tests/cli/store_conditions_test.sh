#!/usr/bin/env bash
# Conditional parameters through the gpbo binary: create-study takes a nested conditional space
# (and refuses a malformed condition with exit 2), every ask holds exactly the active parameters,
# enqueue and import refuse an inactive parameter or a missing active one (exit 2, nothing
# written), export/import round trips through JSON and CSV (an inactive parameter is an empty
# CSV field), and the same through gpbo serve over HTTP (400 for the refused ones).
#
#   bash tests/cli/store_conditions_test.sh <path to the gpbo binary>
set -euo pipefail
source "$(dirname "$0")/setup.sh" "$1"

cat > "$tmp/space.json" << 'EOF'
{"params": [
  {"name": "optimizer", "type": "categorical", "choices": ["sgd", "adam"]},
  {"name": "momentum", "type": "float", "low": 0.0, "high": 0.99,
   "condition": {"parent": "optimizer", "in": ["sgd"]}},
  {"name": "layers", "type": "int", "low": 1, "high": 4},
  {"name": "units3", "type": "int", "low": 16, "high": 256, "log": true,
   "condition": {"parent": "layers", "low": 3}},
  {"name": "act3", "type": "categorical", "choices": ["relu", "tanh"],
   "condition": {"parent": "units3", "high": 64}}
]}
EOF
# check_trials FILE LABEL: every trial of `gpbo trials`/`ask` output holds exactly its active
# parameters (the rules written out here, apart from gpbo's).
check_trials() {
  python3 - "$1" "$2" << 'EOF' || fail "$2: a trial's params break the conditions"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["trials"], "no trials"
for t in d["trials"]:
    p = t["params"]
    want = {"optimizer", "layers"}
    if p["optimizer"] == "sgd": want.add("momentum")
    if p["layers"] >= 3:
        want.add("units3")
        if p["units3"] <= 64: want.add("act3")
    assert set(p) == want, (sys.argv[2], p)
EOF
}
S="--storage sqlite://$tmp/s.db"
"$GPBO" create-study $S --study c --space "$tmp/space.json" --seed 3 --n-initial 5 > /dev/null
for i in $(seq 0 9); do
  "$GPBO" ask $S --study c > "$tmp/ask.json"
  check_trials "$tmp/ask.json" "ask $i"
  id=$(json "d['trials'][0]['id']" < "$tmp/ask.json")
  v=$(json "d['trials'][0]['params']['layers'] * 0.1 + d['trials'][0]['params'].get('momentum', 0.5)" < "$tmp/ask.json")
  "$GPBO" tell $S --study c --trial "$id" --value "$v" > /dev/null
done
"$GPBO" ask $S --study c -q 3 > "$tmp/ask.json"
check_trials "$tmp/ask.json" "ask -q 3"
"$GPBO" trials $S --study c > "$tmp/trials.json"
check_trials "$tmp/trials.json" "trials"

# Bad input: exit 2, one line naming the parameter, nothing written.
before=$("$GPBO" trials $S --study c)
expect_exit 2 "enqueue with an inactive parameter" \
  "$GPBO" enqueue $S --study c --params '{"optimizer": "adam", "momentum": 0.5, "layers": 1}'
grep -q "'momentum': is inactive" "$tmp/err" || fail "inactive: message $(cat "$tmp/err")"
expect_exit 2 "enqueue without an active parameter" \
  "$GPBO" enqueue $S --study c --params '{"optimizer": "sgd", "layers": 3, "units3": 32}'
grep -q "'momentum': missing" "$tmp/err" || fail "missing: message $(cat "$tmp/err")"
echo '{"trials": [{"params": {"optimizer": "adam", "layers": 2, "units3": 20}, "value": 1}]}' \
  > "$tmp/bad.json"
expect_exit 2 "import with an inactive parameter" "$GPBO" import $S --study c -i "$tmp/bad.json"
[[ $("$GPBO" trials $S --study c) == "$before" ]] || fail "a refused call wrote trials"
for cond in '{"parent": "layers", "low": 9}' '{"parent": "optimizer", "in": ["rmsprop"]}' \
  '{"parent": "act", "in": ["relu"]}' '{"parent": "x", "in": ["a"]}'; do
  echo "{\"params\": [{\"name\": \"optimizer\", \"type\": \"categorical\", \"choices\": [\"sgd\"]},
    {\"name\": \"layers\", \"type\": \"int\", \"low\": 1, \"high\": 4},
    {\"name\": \"x\", \"type\": \"float\", \"low\": 0, \"high\": 1, \"condition\": $cond}]}" \
    > "$tmp/bad_space.json"
  expect_exit 2 "create-study with condition $cond" \
    "$GPBO" create-study $S --study bad --space "$tmp/bad_space.json"
  grep -q "parameter 'x'" "$tmp/err" || fail "bad condition $cond: message $(cat "$tmp/err")"
done
"$GPBO" enqueue $S --study c --params '{"optimizer": "adam", "layers": 3, "units3": 100}' \
  > /dev/null || fail "a valid conditional point was refused"

# Export and import: JSON and CSV give the same trials back.
finished() { json "sorted((t['state'], json.dumps(t['params'], sort_keys=True), t['value']) for t in d['trials'] if t['state'] != 'running')"; }
want=$("$GPBO" trials $S --study c | finished)
"$GPBO" export $S --study c -f json -o "$tmp/c.json"
"$GPBO" export $S --study c -f csv -o "$tmp/c.csv"
grep -q ',,' "$tmp/c.csv" || fail "CSV export: no empty field for an inactive parameter"
for f in c.json c.csv; do
  "$GPBO" create-study $S --study "imp_${f/./_}" --space "$tmp/space.json" > /dev/null
  "$GPBO" import $S --study "imp_${f/./_}" -i "$tmp/$f" > /dev/null || fail "import $f: exit $?"
  got=$("$GPBO" trials $S --study "imp_${f/./_}" | finished)
  [[ "$got" == "$want" ]] || fail "import $f: $got != $want"
done

# HTTP: the space JSON in, asks out, 400 for the refused ones.
start_server serve "sqlite://$tmp/h.db"
code() { curl -s -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
[[ $(code -X POST "$SERVER_URL/v1/studies" \
  -d "{\"name\": \"h\", \"space\": $(cat "$tmp/space.json"), \"options\": {\"seed\": 1}}") == 201 ]] ||
  fail "HTTP create: $(cat "$tmp/body")"
json "d['space']" < "$tmp/body" | grep -q condition || fail "HTTP create: space without condition"
for i in 1 2 3; do
  [[ $(code -X POST "$SERVER_URL/v1/studies/h/ask" -d '{"q": 2}') == 200 ]] ||
    fail "HTTP ask: $(cat "$tmp/body")"
  check_trials "$tmp/body" "HTTP ask $i"
done
[[ $(code -X POST "$SERVER_URL/v1/studies/h/enqueue" \
  -d '{"params": {"optimizer": "adam", "momentum": 0.1, "layers": 1}}') == 400 ]] ||
  fail "HTTP enqueue with an inactive parameter: $(cat "$tmp/body")"
grep -q "momentum" "$tmp/body" || fail "HTTP 400 body: $(cat "$tmp/body")"
[[ $(code -X POST "$SERVER_URL/v1/studies/h/trials" \
  -d '{"trials": [{"params": {"optimizer": "sgd", "layers": 1}, "value": 1}]}') == 400 ]] ||
  fail "HTTP import without an active parameter: $(cat "$tmp/body")"
[[ $(code -X POST "$SERVER_URL/v1/studies" -d '{"name": "hb", "space": {"params": [
  {"name": "a", "type": "int", "low": 1, "high": 3},
  {"name": "b", "type": "float", "low": 0, "high": 1,
   "condition": {"parent": "a", "low": 2, "high": 1}}]}}') == 400 ]] ||
  fail "HTTP create with an empty condition range: $(cat "$tmp/body")"
stop_server "$SERVER_PID" || fail "gpbo serve did not stop cleanly"
finish
