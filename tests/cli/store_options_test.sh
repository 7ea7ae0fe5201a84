#!/usr/bin/env bash
# A stored study runs with the options it was created with, through the CLI on a store and
# through `gpbo serve`: created with --device cpu --score-precision float --acquisition ucb
# (and more), `gpbo studies` shows them, and the log of every model-based ask records that the
# model ran with them; --acquisition changes the suggestions; --device cuda reaches the engine
# (refused where there is no GPU). Bad options are refused with exit 2 and write nothing.
#
#   bash tests/cli/store_options_test.sh <path to the gpbo binary>
set -euo pipefail
source "$(dirname "$0")/setup.sh" "$1"

cat > "$tmp/space.json" << 'EOF_SPACE'
{"params": [{"name": "x", "type": "float", "low": -2.0, "high": 2.0},
            {"name": "y", "type": "float", "low": -2.0, "high": 2.0},
            {"name": "k", "type": "int", "low": 1, "high": 4}]}
EOF_SPACE
# The objective of an asked trial: f(x, y, k) = (x - 0.5)^2 + (y + 0.3)^2 + 0.1 k.
value_of() {
  json "(lambda p: (p['x'] - 0.5) ** 2 + (p['y'] + 0.3) ** 2 + 0.1 * p['k'])(d['trials'][0]['params'])"
}

OPTIONS=(--device cpu --score-precision float --acquisition ucb --ucb-beta 9 --kernel rbf
  --n-initial 3 --seed 5 --gp-n-starts 2 --optimizer-raw-samples 256 --lease-seconds 600)

# run_study WHERE NAME ARGS...: 6 ask/tell rounds of study NAME through `gpbo ... WHERE`; prints
# the trials' x values, one line per trial.
run_study() {
  local where=$1 name=$2
  shift 2
  "$GPBO" create-study $where --study "$name" --space "$tmp/space.json" "$@" > /dev/null
  for _ in 1 2 3 4 5 6; do
    "$GPBO" ask $where --study "$name" > "$tmp/ask.json"
    local id value
    id=$(json "d['trials'][0]['id']" < "$tmp/ask.json")
    value=$(value_of < "$tmp/ask.json")
    "$GPBO" tell $where --study "$name" --trial "$id" --value "$value" > /dev/null
    json "d['trials'][0]['params']['x']" < "$tmp/ask.json"
  done
}

# check_study WHERE NAME: the stored options and the log of its model-based asks.
check_study() {
  local where=$1 name=$2 label=$3
  "$GPBO" studies $where > "$tmp/studies.json"
  local options
  options=$(json "[s['options'] for s in d['studies'] if s['name'] == '$name'][0]" < "$tmp/studies.json")
  for want in "'device': 'cpu'" "'score_precision': 'float'" "'acquisition': 'ucb'" \
    "'ucb_beta': 9.0" "'kernel': 'rbf'" "'n_starts': 2" "'raw_samples': 256" \
    "'lease_seconds': 600.0"; do
    [[ $options == *"$want"* ]] || fail "$label: stored options lack $want: $options"
  done
  "$GPBO" log $where --study "$name" > "$tmp/log.json"
  local models
  models=$(json "[e['detail']['model'] for e in d['log'] if e['event'] == 'ask' and 'model' in e['detail']]" < "$tmp/log.json")
  [[ $models == "["*"{"* ]] || fail "$label: no model-based ask in the log: $models"
  for want in "'device': 'cpu'" "'score_precision': 'float'" "'acquisition': 'ucb'" \
    "'kernel': 'rbf'"; do
    local n_with n_all
    n_all=$(json "sum(1 for e in d['log'] if e['event'] == 'ask' and 'model' in e['detail'])" < "$tmp/log.json")
    n_with=$(grep -o "$want" <<< "$models" | wc -l)
    [[ $n_all -ge 3 && $n_with == "$n_all" ]] ||
      fail "$label: $n_with of $n_all model-based asks ran with $want: $models"
  done
}

# ---------------------------------------------------------------- the CLI on a SQLite store
STORE="--storage sqlite://$tmp/cli.db"
run_study "$STORE" ucb "${OPTIONS[@]}" > "$tmp/ucb.x"
check_study "$STORE" ucb "CLI"
# The same study with LogEI (every other option equal) suggests other points once the model
# takes over: the acquisition is not dropped on the way to the engine.
LOGEI=("${OPTIONS[@]}")
LOGEI[5]=logei
run_study "$STORE" logei "${LOGEI[@]}" > "$tmp/logei.x"
[[ $(head -3 "$tmp/ucb.x") == $(head -3 "$tmp/logei.x") ]] ||
  fail "CLI: the initial designs of two studies with one seed differ"
[[ $(tail -3 "$tmp/ucb.x") != $(tail -3 "$tmp/logei.x") ]] ||
  fail "CLI: UCB and LogEI studies suggested the same model points"
echo "CLI: ok ($(wc -l < "$tmp/ucb.x") trials each)"

# ---------------------------------------------------------------- through gpbo serve
start_server serve "sqlite://$tmp/served.db"
run_study "--server $SERVER_URL" remote "${OPTIONS[@]}" > /dev/null
check_study "--server $SERVER_URL" remote "server"
curl -s "$SERVER_URL/v1/studies/remote/log" > "$tmp/http_log.json"
n=$(json "sum(1 for e in d['log'] if e['detail'].get('model', {}).get('score_precision') == 'float')" < "$tmp/http_log.json")
[[ $n -ge 3 ]] || fail "server: GET /v1/studies/remote/log shows $n float-scored model asks"
# Options in the HTTP body are checked by the same table: a bad one is 400 and nothing written.
code=$(curl -s -o "$tmp/bad.json" -w '%{http_code}' -X POST "$SERVER_URL/v1/studies" \
  -H 'Content-Type: application/json' \
  -d '{"name": "bad", "space": {"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]},
       "options": {"gp": {"n_starts": 0}}}')
[[ $code == 400 ]] || fail "server: a bad option gave HTTP $code: $(cat "$tmp/bad.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$SERVER_URL/v1/studies/bad")
[[ $code == 404 ]] || fail "server: the refused study exists (HTTP $code)"
echo "server: ok"

# ---------------------------------------------------------------- the device reaches the engine
if command -v nvidia-smi > /dev/null && nvidia-smi -L > /dev/null 2>&1; then
  echo "a GPU is visible: the --device cuda refusal is not checked here"
else
  for where in "$STORE" "--server $SERVER_URL"; do
    "$GPBO" create-study $where --study gpu --space "$tmp/space.json" --device cuda > /dev/null
    set +e
    "$GPBO" ask $where --study gpu > /dev/null 2> "$tmp/gpu.err"
    rc=$?
    set -e
    [[ $rc == 2 ]] || fail "--device cuda without a GPU ($where): exit $rc, expected 2"
    grep -q "device unavailable" "$tmp/gpu.err" ||
      fail "--device cuda without a GPU ($where): $(cat "$tmp/gpu.err")"
  done
  echo "device: ok (a study created with --device cuda is refused where no GPU is visible)"
fi
stop_server "$SERVER_PID"

# ---------------------------------------------------------------- bad options write nothing
for bad in "--ucb-beta -1" "--seed -1" "--seed 0x10" "--trust-regions 0" "--gp-min-noise 2" \
  "--kernel linear" "--device tpu" "--optimizer-raw-samples 0" "--lease-seconds nan"; do
  set +e
  # shellcheck disable=SC2086
  "$GPBO" create-study --storage "sqlite://$tmp/bad.db" --study b --space "$tmp/space.json" \
    $bad > /dev/null 2> "$tmp/bad.err"
  rc=$?
  set -e
  [[ $rc == 2 ]] || fail "create-study $bad: exit $rc, expected 2"
  [[ $(wc -l < "$tmp/bad.err") == 1 ]] || fail "create-study $bad: stderr is not one line"
done
if [[ -e $tmp/bad.db ]]; then
  n=$("$GPBO" studies --storage "sqlite://$tmp/bad.db" | json "len(d['studies'])")
  [[ $n == 0 ]] || fail "refused create-study calls left $n studies"
fi
echo "bad options: ok"

finish
