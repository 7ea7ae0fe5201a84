#!/usr/bin/env bash
# gpbo verify: an intact study exits 0 (on a store and through gpbo serve); a forged, deleted or
# reordered log entry, an edited trial row and a lost chain head each exit 7 with one line on
# stderr that names where; gpbo log shows the writer and the chain; an export records the head.
#
#   bash tests/cli/store_verify_test.sh <path to the gpbo binary>
set -euo pipefail
source "$(dirname "$0")/setup.sh" "$1"
command -v sqlite3 > /dev/null || {
  echo "store_verify_test: SKIP: no sqlite3 command"
  exit 77
}

cat > "$tmp/space.json" << 'EOF_SPACE'
{"params": [{"name": "x", "type": "float", "low": -2.0, "high": 2.0},
            {"name": "c", "type": "categorical", "choices": ["a", "b"]}]}
EOF_SPACE
DB="$tmp/s.db"
S="--storage sqlite://$DB"
"$GPBO" create-study $S --study s --space "$tmp/space.json" --n-initial 50 > /dev/null
for i in 0 1 2 3 4 5 6 7; do
  "$GPBO" ask $S --study s --worker-id "w$i" > /dev/null 2>&1
  "$GPBO" tell $S --study s --trial $i --value "0.$i" > /dev/null
done
# 1 create + 8 asks + 8 tells.

# verify_case <name> <want rc> <want text in stderr>: runs gpbo verify on a copy of the file made
# by the caller ($tmp/case.db).
verify_case() {
  local name=$1 want_rc=$2 want_text=$3 rc=0
  "$GPBO" verify --storage "sqlite://$tmp/case.db" --study s > "$tmp/$name.out" \
    2> "$tmp/$name.err" || rc=$?
  [[ $rc == "$want_rc" ]] || fail "$name: exit $rc, expected $want_rc ($(cat "$tmp/$name.err"))"
  if [[ $want_rc != 0 ]]; then
    [[ $(wc -l < "$tmp/$name.err") == 1 ]] || fail "$name: stderr is not one line: $(cat "$tmp/$name.err")"
    grep -qF -- "$want_text" "$tmp/$name.err" || fail "$name: stderr lacks '$want_text': $(cat "$tmp/$name.err")"
    [[ $(json "d['ok']" < "$tmp/$name.out") == False ]] || fail "$name: the report says ok"
  fi
}
fresh() { cp "$DB" "$tmp/case.db"; }

# Intact: exit 0, every entry checked, the head is the last entry's hash.
fresh
verify_case intact 0 ""
[[ $(json "d['ok'], d['entries'], d['trials']" < "$tmp/intact.out") == "True 17 8" ]] ||
  fail "intact: report $(cat "$tmp/intact.out")"
head=$(json "d['head']" < "$tmp/intact.out")
"$GPBO" log $S --study s > "$tmp/log.json"
[[ $(json "d['log'][-1]['hash']" < "$tmp/log.json") == "$head" ]] || fail "log: the last hash is not the head"
[[ $(json "d['log'][5]['prev_hash'] == d['log'][4]['hash'] and d['log'][5]['seq'] == 5" \
  < "$tmp/log.json") == True ]] || fail "log: no chain in $(head -c 300 "$tmp/log.json")"
[[ $(json "all('writer' in e for e in d['log'])" < "$tmp/log.json") == True ]] || fail "log: no writer"

# The export records the head; verify --head accepts it, and refuses a head not in the log.
"$GPBO" export $S --study s -f json -o "$tmp/export.json"
[[ $(json "d['log_head']['hash'], d['log_head']['seq']" < "$tmp/export.json") == "$head 16" ]] ||
  fail "export: log_head is $(json "d.get('log_head')" < "$tmp/export.json")"
"$GPBO" verify $S --study s --head "$head" > /dev/null || fail "verify --head of the export's head exited $?"
rc=0
"$GPBO" verify $S --study s --head "${head//a/b}x" > /dev/null 2> "$tmp/head.err" || rc=$?
[[ $rc == 7 ]] && grep -q "not in the log" "$tmp/head.err" || fail "verify --head of a foreign head: exit $rc"
# An export with a head imports like one without.
"$GPBO" create-study $S --study copy --space "$tmp/space.json" > /dev/null
[[ $("$GPBO" import $S --study copy -i "$tmp/export.json" | json "d['imported']") == 8 ]] ||
  fail "import of an export with log_head"
"$GPBO" verify $S --study copy > /dev/null || fail "verify of the imported study exited $?"

# A forged entry: the tell of trial 3 (seq 8) now says 9.5.
fresh
sqlite3 "$tmp/case.db" "UPDATE log SET detail_json = '{\"value\":9.5}' WHERE seq = 8 AND study_id = 1"
verify_case forged 7 "log entry 8 (sequence number 8, 'tell'): hash mismatch"
# A deleted entry.
fresh
sqlite3 "$tmp/case.db" "DELETE FROM log WHERE seq = 5 AND study_id = 1"
verify_case deleted 7 "log entry 5 (sequence number 6, "
# Two entries reordered (their ids swapped: the log is read in id order).
fresh
sqlite3 "$tmp/case.db" "UPDATE log SET id = -1 WHERE seq = 10 AND study_id = 1;
  UPDATE log SET id = id - 1 WHERE seq = 11 AND study_id = 1;
  UPDATE log SET id = (SELECT id FROM log WHERE seq = 11 AND study_id = 1) + 1 WHERE id = -1"
verify_case reordered 7 "log entry 10 (sequence number 11, "
# A trial row edited.
fresh
sqlite3 "$tmp/case.db" "UPDATE trials SET value = -7.0 WHERE number = 3 AND study_id = 1"
verify_case trial 7 "trial 3: value is -7.0 in the table, 0.3 in the log"
# An unknown study is NotFound (3), not a broken chain.
rc=0
"$GPBO" verify $S --study nope > /dev/null 2>&1 || rc=$?
[[ $rc == 3 ]] || fail "verify of an unknown study exited $rc, expected 3"

# Through gpbo serve: the same report; the broken copy is found remotely too.
start_server serve "sqlite://$tmp/case.db"
rc=0
"$GPBO" verify --server "$SERVER_URL" --study s > "$tmp/remote.out" 2> "$tmp/remote.err" || rc=$?
[[ $rc == 7 ]] && grep -q "trial 3: value" "$tmp/remote.err" ||
  fail "verify --server of the edited copy: exit $rc: $(cat "$tmp/remote.err")"
[[ $(python3 -c "import json, urllib.request; d = json.load(urllib.request.urlopen('$SERVER_URL/v1/studies/s/verify')); print(d['problem']['trial_id'], d['problem']['field'])") == "3 value" ]] ||
  fail "GET /v1/studies/s/verify"
"$GPBO" log --server "$SERVER_URL" --study s | json "d['log'][3]['hash']" > /dev/null ||
  fail "gpbo log --server shows no hash"
stop_server "$SERVER_PID"
SERVER_PID=

finish
