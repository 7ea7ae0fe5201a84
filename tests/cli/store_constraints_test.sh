#!/usr/bin/env bash
# Linear constraints and fixed values through the gpbo binary on a SQLite store: a space with
# "constraints" and "fixed" round-trips through create-study and studies, every ask (with and
# without --fixed, batches included) meets the constraints and carries the fixed values, and bad
# input exits 2 with one line on stderr and writes nothing.
#
#   bash tests/cli/store_constraints_test.sh <path to the gpbo binary>
set -euo pipefail
source "$(dirname "$0")/setup.sh" "$1"

STORE="sqlite://$tmp/store.db"
cat > "$tmp/space.json" << 'EOF_SPACE'
{"params": [{"name": "a", "type": "float", "low": 0, "high": 1},
            {"name": "b", "type": "float", "low": 0, "high": 1},
            {"name": "layers", "type": "int", "low": 1, "high": 8},
            {"name": "opt", "type": "categorical", "choices": ["sgd", "adam"]}],
 "constraints": [{"terms": {"a": 1, "b": 1}, "<=": 1},
                 {"terms": {"layers": 1, "a": -4}, ">=": 1}],
 "fixed": {"opt": "adam"}}
EOF_SPACE
"$GPBO" create-study --storage "$STORE" --study lin --space "$tmp/space.json" --seed 2 \
  --n-initial 4 > /dev/null
[[ $("$GPBO" studies --storage "$STORE" |
     json "d['studies'][0]['space']['constraints'][1] == {'terms': {'a': -4.0, 'layers': 1.0}, '>=': 1.0} and d['studies'][0]['space']['fixed'] == {'opt': 'adam'}") == True ]] ||
  fail "the stored space lost its constraints or fixed values"

check_trials() {  # check_trials FILE LAYERS(or '') : every trial meets everything
  local bad
  bad=$(json "[t['id'] for t in d['trials'] if not (t['params']['a'] + t['params']['b'] <= 1
        and -4 * t['params']['a'] + t['params']['layers'] >= 1 and t['params']['opt'] == 'adam'
        and ('$2' == '' or t['params']['layers'] == int('${2:-0}')))]" < "$1")
  [[ $bad == "[]" ]] || fail "trials $bad break a constraint or a fixed value ($(cat "$1"))"
}
for round in 1 2 3 4 5 6; do
  if ((round % 2)); then
    "$GPBO" ask --storage "$STORE" --study lin -q 3 > "$tmp/ask.json"
    check_trials "$tmp/ask.json" ""
  else
    "$GPBO" ask --storage "$STORE" --study lin -q 3 --fixed '{"layers": 6}' > "$tmp/ask.json"
    check_trials "$tmp/ask.json" 6
  fi
  for id in $(json "' '.join(str(t['id']) for t in d['trials'])" < "$tmp/ask.json"); do
    "$GPBO" tell --storage "$STORE" --study lin --trial "$id" --value "0.$id" > /dev/null
  done
done

before=$("$GPBO" trials --storage "$STORE" --study lin -f json)
for bad in '{"layers": 4' '[4]' '4' '{"nope": 1}' '{"layers": 9}' '{"layers": 2.5}' \
           '{"opt": "rms"}' '{"a": 0.9, "b": 0.9}'; do
  expect_exit 2 "ask --fixed '$bad'" "$GPBO" ask --storage "$STORE" --study lin --fixed "$bad"
done
expect_exit 2 "enqueue outside the constraints" "$GPBO" enqueue --storage "$STORE" --study lin \
  --params '{"a": 0.8, "b": 0.8, "layers": 8, "opt": "sgd"}'
grep -q "constraints\[0\]" "$tmp/err" || fail "enqueue: the message does not name the constraint"
[[ $("$GPBO" trials --storage "$STORE" --study lin -f json) == "$before" ]] ||
  fail "a refused command wrote to the store"

# A malformed constraint refuses the study, exit 2.
for rest in '"constraints": [{"terms": {"a": 1}}]' '"constraints": [{"terms": {"opt": 1}, "<=": 1}]' \
            '"constraints": [{"terms": {"a": 1, "b": 1}, ">=": 3}]' '"fixed": {"layers": 0}'; do
  printf '{"params": [{"name": "a", "type": "float", "low": 0, "high": 1},
   {"name": "b", "type": "float", "low": 0, "high": 1},
   {"name": "layers", "type": "int", "low": 1, "high": 8},
   {"name": "opt", "type": "categorical", "choices": ["sgd", "adam"]}], %s}' "$rest" \
    > "$tmp/bad.json"
  expect_exit 2 "create-study with $rest" "$GPBO" create-study --storage "$STORE" --study bad \
    --space "$tmp/bad.json"
done
finish
