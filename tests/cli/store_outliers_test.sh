#!/usr/bin/env bash
# Outliers through the gpbo binary, on a store and through gpbo serve: a study told one value
# far too good leaves it out of the model and lists it (`trials --outliers`, GET .../outliers);
# the trial itself stays stored. With --robust off nothing is listed. A bad --robust exits 2.
#
#   bash tests/cli/store_outliers_test.sh <path to the gpbo binary>
set -euo pipefail
source "$(dirname "$0")/setup.sh" "$1"

cat > "$tmp/space.json" << 'EOF_SPACE'
{"params": [{"name": "a", "type": "float", "low": 0, "high": 1},
            {"name": "b", "type": "float", "low": 0, "high": 1}]}
EOF_SPACE

# run_study WHERE STUDY ROBUST: 20 trials of a smooth bowl, trial 12 told 1000 lower (too good
# when minimizing), then one more ask; prints the listed outlier ids.
run_study() {
  local where=$1 study=$2 robust=$3
  "$GPBO" create-study $where --study "$study" --space "$tmp/space.json" --seed 5 \
    --robust "$robust" > /dev/null
  for i in $(seq 0 19); do
    local t id v
    t=$("$GPBO" ask $where --study "$study")
    id=$(json "d['trials'][0]['id']" <<< "$t")
    v=$(json "(lambda p: (p['a'] - 0.3) ** 2 + (p['b'] - 0.6) ** 2 - (1000 if $i == 12 else 0))(d['trials'][0]['params'])" <<< "$t")
    "$GPBO" tell $where --study "$study" --trial "$id" --value "$v" > /dev/null
  done
  "$GPBO" ask $where --study "$study" > /dev/null
  "$GPBO" trials $where --study "$study" --outliers | json "[t['id'] for t in d['trials']]"
}

S="--storage sqlite://$tmp/s.db"
[[ $(run_study "$S" robust auto) == "[12]" ]] || fail "store: the outlier is not listed"
[[ $(run_study "$S" plain off) == "[]" ]] || fail "store: robust off listed outliers"
# The outlier is still a stored trial, with the value it was told.
[[ $("$GPBO" trials $S --study robust | json "d['trials'][12]['value'] < -999") == True ]] ||
  fail "store: the outlier's trial changed"
# Table form too.
"$GPBO" trials $S --study robust --outliers -f table | grep -q '^12 ' ||
  fail "store: the table has no outlier row: $("$GPBO" trials $S --study robust --outliers -f table)"

# gpbo serve keeps the model warm: its asks condition on hyperparameters that background refits
# bring, at times that vary from run to run, so its list may hold more than the store's (a CI
# run once listed [12, 14]); the corrupted trial must be in it.
start_server serve "sqlite://$tmp/served.db"
listed=$(run_study "--server $SERVER_URL" robust auto)
[[ $(json "12 in d" <<< "$listed") == True ]] || fail "served: trial 12 is not listed ($listed)"
[[ $(curl -s "$SERVER_URL/v1/studies/robust/outliers" | json "12 in d['outliers']") == True ]] ||
  fail "served: GET outliers: $(curl -s "$SERVER_URL/v1/studies/robust/outliers")"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SERVER_URL/v1/studies/nope/outliers") == 404 ]] ||
  fail "served: outliers of a missing study is not 404"
stop_server "$SERVER_PID"

set +e
"$GPBO" create-study $S --study bad --space "$tmp/space.json" --robust sometimes > /dev/null 2> "$tmp/err"
rc=$?
set -e
[[ $rc == 2 ]] || fail "--robust sometimes: exit $rc, expected 2"
grep -q "robust" "$tmp/err" || fail "--robust sometimes: $(cat "$tmp/err")"

finish
