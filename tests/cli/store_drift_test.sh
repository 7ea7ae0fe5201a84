#!/usr/bin/env bash
# Drift through the gpbo binary, on a store and through gpbo serve: --drift auto on
# create-study, re-evaluations marked "source": "reevaluation" in ask's output on their cadence,
# a step in the objective found as a shift (best's "drift", a "shift" log entry, GET .../drift),
# the options kept by the stored study, and bad input (exit 2 / HTTP 400, nothing written).
#
#   bash tests/cli/store_drift_test.sh <path to the gpbo binary>
set -euo pipefail
source "$(dirname "$0")/setup.sh" "$1"

cat > "$tmp/space.json" << 'EOF_SPACE'
{"params": [{"name": "x", "type": "float", "low": 0.0, "high": 1.0},
            {"name": "y", "type": "float", "low": 0.0, "high": 1.0}]}
EOF_SPACE

# run_case <label> <where...>: 40 sequential asks and tells on a bowl whose level steps up by 2
# from trial 20 on; re-evaluation every 5th trial.
run_case() {
  local label=$1
  shift
  local W=("$@")
  "$GPBO" create-study "${W[@]}" --study d --space "$tmp/space.json" --seed 3 --n-initial 6 \
    --drift auto --drift-reevaluate-every 5 --device cpu > /dev/null
  "$GPBO" studies "${W[@]}" > "$tmp/created.json"
  [[ $(json "[s['options']['drift'] for s in d['studies'] if s['name'] == 'd'][0]" < "$tmp/created.json") == \
    "{'mode': 'auto', 'reevaluate_every': 5, 'shift_threshold': 3.0}" ]] ||
    fail "$label: created: $(cat "$tmp/created.json")"
  : > "$tmp/asks.jsonl"
  for i in $(seq 0 39); do
    "$GPBO" ask "${W[@]}" --study d | json "json.dumps(d['trials'][0])" > "$tmp/ask.json"
    cat "$tmp/ask.json" >> "$tmp/asks.jsonl"
    read -r id value < <(json "d['id'], (d['params']['x'] - 0.3) ** 2 + (d['params']['y'] - 0.6) ** 2 + (2.0 if d['id'] >= 20 else 0.0)" < "$tmp/ask.json")
    "$GPBO" tell "${W[@]}" --study d --trial "$id" --value "$value" > /dev/null
  done
  python3 - "$tmp/asks.jsonl" "$label" << 'EOF_PY' || fail "$label: re-evaluations"
import json, sys
asks = [json.loads(line) for line in open(sys.argv[1])]
due = [a["id"] for a in asks if a["source"] == "reevaluation"]
assert due == [9, 14, 19, 24, 29, 34, 39], due
for a in asks:
    if a["source"] == "reevaluation":
        assert any(b["params"] == a["params"] for b in asks if b["id"] < a["id"]), a
EOF_PY
  "$GPBO" best "${W[@]}" --study d > "$tmp/best.json"
  [[ $(json "d['drift']['mode'], d['drift']['reevaluations'] >= 6, any(s >= 20 for s in d['drift']['shifts']), all(s >= 20 for s in d['drift']['shifts'])" \
    < "$tmp/best.json") == "auto True True True" ]] || fail "$label: best: $(cat "$tmp/best.json")"
  "$GPBO" best "${W[@]}" --study d -f table | grep -q "^drift: .* re-evaluations judged, shift threshold 3.0; shifts at trial" ||
    fail "$label: best -f table has no drift line"
  "$GPBO" log "${W[@]}" --study d > "$tmp/log.json"
  [[ $(json "sorted(e['trial_id'] for e in d['log'] if e['event'] == 'shift') == sorted($(json "d['drift']['shifts']" < "$tmp/best.json"))" \
    < "$tmp/log.json") == True ]] || fail "$label: shift log entries"
  "$GPBO" verify "${W[@]}" --study d > /dev/null || fail "$label: verify"
  "$GPBO" report "${W[@]}" --study d > "$tmp/report.html" || fail "$label: report"
  grep -q "Drift is on" "$tmp/report.html" || fail "$label: the report has no drift line"
  # Bad input: exit 2, one line on stderr, nothing written.
  expect_exit 2 "$label: --drift sometimes" "$GPBO" create-study "${W[@]}" --study bad \
    --space "$tmp/space.json" --drift sometimes
  grep -q "sometimes" "$tmp/err" || fail "$label: message: $(cat "$tmp/err")"
  expect_exit 2 "$label: a negative re-evaluation period" "$GPBO" create-study "${W[@]}" \
    --study bad --space "$tmp/space.json" --drift auto --drift-reevaluate-every -1
  expect_exit 2 "$label: a zero threshold" "$GPBO" create-study "${W[@]}" --study bad \
    --space "$tmp/space.json" --drift auto --drift-shift-threshold 0
  expect_exit 2 "$label: drift with constraints" "$GPBO" create-study "${W[@]}" --study bad \
    --space "$tmp/space.json" --drift auto --objective loss:minimize --constraint 'mem<=1'
  expect_exit 3 "$label: the study's name is taken" "$GPBO" create-study "${W[@]}" --study d \
    --space "$tmp/space.json" --drift auto
  "$GPBO" studies "${W[@]}" > "$tmp/studies.json"
  grep -q '"bad"' "$tmp/studies.json" && fail "$label: a refused study was written"
  return 0
}

run_case store --storage "sqlite://$tmp/a.db"

start_server serve "sqlite://$tmp/b.db"
run_case server --server "$SERVER_URL"
code() { curl -s -o "$tmp/body" -w '%{http_code}' -H 'Content-Type: application/json' "$@"; }
[[ $(code "$SERVER_URL/v1/studies/d/drift") == 200 ]] || fail "http: /drift"
[[ $(json "sorted(d) == ['checks', 'mode', 'reevaluations', 'shift_threshold', 'shifts']" \
  < "$tmp/body") == True ]] || fail "http: /drift: $(cat "$tmp/body")"
for options in '{"drift": {"mode": "sometimes"}}' '{"drift": {"reevaluate_every": -1}}' \
  '{"drift": {"shift_threshold": -3}}' '{"drift": "auto"}' '{"drift": {"period": 4}}'; do
  [[ $(code -X POST "$SERVER_URL/v1/studies" \
    -d "{\"name\": \"h\", \"space\": $(cat "$tmp/space.json"), \"options\": $options}") == 400 ]] ||
    fail "http: $options: $(cat "$tmp/body")"
done
[[ $(code -X POST "$SERVER_URL/v1/studies" \
  -d "{\"name\": \"h\", \"space\": $(cat "$tmp/space.json"), \"options\": {\"drift\": {\"mode\": \"auto\"}}}") == 201 ]] ||
  fail "http: create with drift: $(cat "$tmp/body")"
[[ $(code "$SERVER_URL/v1/studies/h/drift") == 200 ]] || fail "http: /drift of a new study"
[[ $(json "d['mode'], d['reevaluations'], d['shifts']" < "$tmp/body") == "auto 0 []" ]] ||
  fail "http: /drift of a new study: $(cat "$tmp/body")"
stop_server "$SERVER_PID"
SERVER_PID=

finish
