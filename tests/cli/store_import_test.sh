#!/usr/bin/env bash
# gpbo import: a study's history exported as JSON and as CSV (gpbo export) reads back into new
# studies, on a store and through gpbo serve, with the same params, states and values; a plain
# CSV with parameter columns and a value column too; bad files exit 2 and write nothing.
#
#   bash tests/cli/store_import_test.sh <path to the gpbo binary>
set -euo pipefail
source "$(dirname "$0")/setup.sh" "$1"

cat > "$tmp/space.json" << 'EOF_SPACE'
{"params": [{"name": "x", "type": "float", "low": -2.0, "high": 2.0},
            {"name": "k", "type": "int", "low": 1, "high": 4},
            {"name": "c", "type": "categorical", "choices": ["a", "b,c", "d\"e"]}]}
EOF_SPACE
S="--storage sqlite://$tmp/s.db"
"$GPBO" create-study $S --study src --space "$tmp/space.json" --seed 2 > /dev/null
for i in 0 1 2 3 4 5; do
  "$GPBO" ask $S --study src > /dev/null
  if [[ $i == 3 ]]; then
    "$GPBO" tell $S --study src --trial $i --state fail > /dev/null
  else
    "$GPBO" tell $S --study src --trial $i --value "0.$i$i" > /dev/null
  fi
done
"$GPBO" ask $S --study src > /dev/null  # a running trial: not imported
"$GPBO" export $S --study src -f json -o "$tmp/src.json"
"$GPBO" export $S --study src -f csv -o "$tmp/src.csv"
# The finished trials as (params, state, value), for comparison.
finished() { json "sorted((json.dumps(t['params'], sort_keys=True), t['state'], t['value']) for t in d['trials'] if t['state'] != 'running')"; }
want=$("$GPBO" trials $S --study src | finished)

check_import() {  # check_import WHERE STUDY FILE LABEL
  local where=$1 study=$2 file=$3 label=$4
  "$GPBO" create-study $where --study "$study" --space "$tmp/space.json" --n-initial 4 > /dev/null
  "$GPBO" import $where --study "$study" -i "$file" > "$tmp/out.json" ||
    { fail "$label: import exited $?"; return; }
  [[ $(json "(d['imported'], d['skipped_running'])" < "$tmp/out.json") == "(6, 1)" ]] ||
    fail "$label: $(cat "$tmp/out.json")"
  local got
  got=$("$GPBO" trials $where --study "$study" | finished)
  [[ $got == "$want" ]] || fail "$label: imported trials differ:\n$got\nwant\n$want"
  [[ $("$GPBO" trials $where --study "$study" | json "set(t['source'] for t in d['trials'])") == "{'imported'}" ]] ||
    fail "$label: sources are not 'imported'"
  # The study goes on from the history: the next ask is the model's.
  [[ $("$GPBO" ask $where --study "$study" | json "d['trials'][0]['source']") == model ]] ||
    fail "$label: the ask after an import of 5 complete trials was not the model's"
}
check_import "$S" from_json "$tmp/src.json" "JSON on a store"
check_import "$S" from_csv "$tmp/src.csv" "CSV on a store"
start_server serve "sqlite://$tmp/served.db"
check_import "--server $SERVER_URL" remote_json "$tmp/src.json" "JSON through gpbo serve"
check_import "--server $SERVER_URL" remote_csv "$tmp/src.csv" "CSV through gpbo serve"
stop_server "$SERVER_PID"

# A plain CSV of one's own: parameter columns and a value column.
printf 'x,k,c,value\n0.5,2,a,1.25\n-1,4,"b,c",0.5\n' > "$tmp/plain.csv"
"$GPBO" create-study $S --study plain --space "$tmp/space.json" > /dev/null
"$GPBO" import $S --study plain -i "$tmp/plain.csv" > /dev/null || fail "plain CSV: exit $?"
[[ $("$GPBO" best $S --study plain | json "(d['value'], d['params']['c'])") == "(0.5, 'b,c')" ]] ||
  fail "plain CSV: $("$GPBO" trials $S --study plain)"

# Bad files: exit 2, one line, nothing written.
printf 'x,k,c,value\n0.5,2,a,1.25\n9,2,a,1.0\n' > "$tmp/out_of_range.csv"
printf 'x,k,c,value\n0.5,2,a,nan\n' > "$tmp/nan.csv"
printf 'x,k,value\n0.5,2,1.0\n' > "$tmp/missing.csv"
printf '{"trials": [{"params": {"x": 0.5, "k": 2, "c": "a"}}]}' > "$tmp/novalue.json"
printf '{"trials": [' > "$tmp/cut.json"
for f in out_of_range.csv nan.csv missing.csv novalue.json cut.json; do
  set +e
  "$GPBO" import $S --study plain -i "$tmp/$f" > /dev/null 2> "$tmp/err"
  rc=$?
  set -e
  [[ $rc == 2 ]] || fail "$f: exit $rc, expected 2 ($(cat "$tmp/err"))"
  [[ $(wc -l < "$tmp/err") == 1 ]] || fail "$f: stderr is not one line"
done
[[ $("$GPBO" trials $S --study plain | json "len(d['trials'])") == 2 ]] ||
  fail "refused imports wrote trials"

finish
