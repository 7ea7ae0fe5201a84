#!/usr/bin/env bash
# gpbo create-study --warm-start-from: a study learns from earlier ones in the same store, from
# an exported file, and through gpbo serve; it starts at the source's best point, keeps its
# sources when they are deleted, and bad sources (missing, itself, no shared parameter, a
# malformed file) exit 2 with one line and create nothing (HTTP 400 through the server).
#
#   bash tests/cli/store_warm_start_test.sh <path to the gpbo binary>
set -euo pipefail
source "$(dirname "$0")/setup.sh" "$1"

cat > "$tmp/space.json" << 'EOF_SPACE'
{"params": [{"name": "x0", "type": "float", "low": -5.0, "high": 10.0},
            {"name": "x1", "type": "float", "low": 0.0, "high": 15.0}]}
EOF_SPACE
# The same problem with x1 re-bounded and a new parameter.
cat > "$tmp/space2.json" << 'EOF_SPACE'
{"params": [{"name": "x0", "type": "float", "low": -5.0, "high": 10.0},
            {"name": "x1", "type": "float", "low": 0.0, "high": 10.0},
            {"name": "extra", "type": "int", "low": 1, "high": 3}]}
EOF_SPACE
cat > "$tmp/other.json" << 'EOF_SPACE'
{"params": [{"name": "lr", "type": "float", "low": 0.001, "high": 0.1}]}
EOF_SPACE

check_warm() {  # check_warm WHERE LABEL
  local where=$1 label=$2
  "$GPBO" create-study $where --study src --space "$tmp/space.json" --seed 1 > /dev/null
  "$GPBO" worker $where --study src --function branin -n 12 > /dev/null
  local best
  best=$("$GPBO" best $where --study src | json "json.dumps(d['params'], sort_keys=True)")
  "$GPBO" export $where --study src -f json -o "$tmp/src.json"
  "$GPBO" create-study $where --study warm --space "$tmp/space.json" --warm-start-from src \
    > "$tmp/out.json" || { fail "$label: create-study --warm-start-from exited $?"; return; }
  [[ $(json "d['study']" < "$tmp/out.json") == warm ]] || fail "$label: $(cat "$tmp/out.json")"
  local first
  first=$("$GPBO" ask $where --study warm | json "json.dumps(d['trials'][0]['params'], sort_keys=True)")
  [[ $first == "$best" ]] || fail "$label: the first point $first is not the source's best $best"
  "$GPBO" tell $where --study warm --trial 0 --value 1.5 > /dev/null
  # Two more design points (the centre, a Sobol point), then the model.
  "$GPBO" worker $where --study warm --function branin -n 2 > /dev/null
  # The source goes away; the warm study keeps its copy and asks the model.
  "$GPBO" delete-study $where --study src > /dev/null
  [[ $("$GPBO" ask $where --study warm | json "d['trials'][0]['source']") == model ]] ||
    fail "$label: the second ask of a warm-started study is not the model's"
  # From the exported file, into a space with a re-bounded and an added parameter.
  "$GPBO" create-study $where --study from_file --space "$tmp/space2.json" \
    --warm-start-from "file:$tmp/src.json" > /dev/null ||
    fail "$label: --warm-start-from file: exited $?"
  "$GPBO" ask $where --study from_file > /dev/null || fail "$label: ask from_file exited $?"

  # Bad sources: exit 2, one line, no study created.
  "$GPBO" create-study $where --study src2 --space "$tmp/space.json" > /dev/null
  "$GPBO" worker $where --study src2 --function branin -n 3 > /dev/null
  expect_exit 2 "$label: a missing source" \
    "$GPBO" create-study $where --study bad --space "$tmp/space.json" --warm-start-from nope
  grep -q "no study 'nope'" "$tmp/err" || fail "$label: missing source message: $(cat "$tmp/err")"
  expect_exit 2 "$label: the study itself" \
    "$GPBO" create-study $where --study bad --space "$tmp/space.json" --warm-start-from bad
  grep -q "cannot learn from itself" "$tmp/err" || fail "$label: self message: $(cat "$tmp/err")"
  expect_exit 2 "$label: no shared parameter" \
    "$GPBO" create-study $where --study bad --space "$tmp/other.json" --warm-start-from src2
  grep -q "no parameter of the source matches" "$tmp/err" ||
    fail "$label: no-shared-parameter message: $(cat "$tmp/err")"
  expect_exit 2 "$label: a source listed twice" \
    "$GPBO" create-study $where --study bad --space "$tmp/space.json" --warm-start-from src2,src2
  echo '{"trials": 3}' > "$tmp/bad.json"
  expect_exit 2 "$label: a malformed file" \
    "$GPBO" create-study $where --study bad --space "$tmp/space.json" --warm-start-from "$tmp/bad.json"
  [[ $("$GPBO" studies $where | json "sorted(s['name'] for s in d['studies'])") == \
     "['from_file', 'src2', 'warm']" ]] || fail "$label: a refused create wrote a study"
}
check_warm "--storage sqlite://$tmp/s.db" "store"
start_server serve "sqlite://$tmp/served.db"
check_warm "--server $SERVER_URL" "gpbo serve"
# The HTTP status of a bad warm start is 400.
code=$(curl -s -o "$tmp/reply" -w '%{http_code}' -X POST "$SERVER_URL/v1/studies" \
  -H 'Content-Type: application/json' \
  -d "{\"name\": \"h\", \"space\": $(cat "$tmp/space.json"), \"warm_start\": [\"nope\"]}")
[[ $code == 400 ]] || fail "HTTP: a missing source gave $code: $(cat "$tmp/reply")"
code=$(curl -s -o "$tmp/reply" -w '%{http_code}' -X POST "$SERVER_URL/v1/studies" \
  -H 'Content-Type: application/json' \
  -d "{\"name\": \"h\", \"space\": $(cat "$tmp/space.json"), \"warm_start\": [3]}")
[[ $code == 400 ]] || fail "HTTP: a malformed warm_start gave $code: $(cat "$tmp/reply")"
# An inline source object is accepted.
code=$(curl -s -o "$tmp/reply" -w '%{http_code}' -X POST "$SERVER_URL/v1/studies" \
  -H 'Content-Type: application/json' \
  -d "{\"name\": \"inline\", \"space\": $(cat "$tmp/space.json"), \"warm_start\": [{\"study\": \"old\", \"direction\": \"minimize\", \"observations\": [{\"params\": {\"x0\": 1.0, \"x1\": 2.0}, \"value\": 3.5}]}]}")
[[ $code == 201 ]] || fail "HTTP: an inline source gave $code: $(cat "$tmp/reply")"
stop_server "$SERVER_PID"
finish
