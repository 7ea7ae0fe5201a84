#!/usr/bin/env bash
# Bad input to the store commands of the gpbo CLI: every case checks the exit code (2 usage or
# invalid input, 3 not found or conflict, 5 storage error), that stderr carries a one-line
# message, and, where the command must not write, that nothing was written (the database files'
# sha256 and the `gpbo studies` / `gpbo trials` output are compared before and after).
#
#   bash tests/cli/store_bad_input_test.sh <path to the gpbo binary>
#
# Not tested: read-only files or directories. The tests run as root, which ignores file
# permissions, so such a case would pass or fail for reasons that have nothing to do with gpbo.
#
# Every case runs; the failures are listed together at the end.
set -euo pipefail

if [[ $# -lt 1 || ! -x "$1" ]]; then
  echo "usage: $0 <path to the gpbo binary>" >&2
  exit 2
fi
GPBO="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
unset GPBO_STORAGE

DB="$tmp/store.db"
STORE="sqlite://$DB"
STUDY=bad
failures=()
cases=0
fail() {
  failures+=("$*")
  echo "FAIL: $*" >&2
}

cat >"$tmp/space.json" <<'EOF'
{"params": [
  {"name": "x", "type": "float", "low": -5.0, "high": 5.0},
  {"name": "n", "type": "int", "low": 0, "high": 20},
  {"name": "c", "type": "categorical", "choices": ["a", "b", "c"]}
]}
EOF

# run <args...>: runs gpbo; sets rc, out, err.
rc=0 out="" err=""
run() {
  rc=0
  timeout 120 "$GPBO" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  out=$(cat "$tmp/out")
  err=$(cat "$tmp/err")
}

# The store's state: sha256 of the database and its WAL (when present), then the studies and the
# trials of $STUDY as gpbo reads them.
snapshot() {
  local f
  for f in "$DB" "$DB-wal"; do
    if [[ -f "$f" ]]; then sha256sum <"$f"; else echo "no $f"; fi
  done
  timeout 60 "$GPBO" studies --storage "$STORE" 2>&1 || echo "studies exited $?"
  timeout 60 "$GPBO" trials --storage "$STORE" --study "$STUDY" -f json 2>&1 ||
    echo "trials exited $?"
}

# A message on stderr of one line. CLI11's own usage errors add the hint line "Run with --help
# for more information.", which is accepted as a second line.
one_line_message() {
  local lines
  lines=$(printf '%s\n' "$err" | grep -v '^Run with --help' | grep -c . || true)
  [[ "$lines" == 1 ]]
}

# expect <code> <write: yes|no> <what> -- <gpbo args...>
expect() {
  local code=$1 may_write=$2 what=$3
  shift 4
  cases=$((cases + 1))
  local before after
  before=$(snapshot)
  run "$@"
  after=$(snapshot)
  if [[ "$rc" != "$code" ]]; then
    fail "$what: expected exit $code, got $rc (stderr: $err)"
  elif [[ "$code" != 0 ]] && ! one_line_message; then
    fail "$what: expected a one-line message on stderr, got: '$err'"
  fi
  if [[ "$may_write" == no && "$before" != "$after" ]]; then
    fail "$what: the store changed; before:"$'\n'"$before"$'\n'"after:"$'\n'"$after"
  fi
  echo "ok $cases: $what -> exit $rc${err:+: $(head -1 <<<"$err")}"
}

# ------------------------------------------------------------------------------------- setup
run create-study --storage "$STORE" --study "$STUDY" --space "$tmp/space.json" --n-initial 3
[[ "$rc" == 0 ]] || { echo "setup: create-study exited $rc: $err" >&2; exit 1; }
run ask --storage "$STORE" --study "$STUDY" --worker-id setup
[[ "$rc" == 0 ]] || { echo "setup: ask exited $rc: $err" >&2; exit 1; }
TRIAL=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["trials"][0]["id"])' <<<"$out")

# -------------------------------------------------------------------------------- spaces
echo '{"params": [{"name": "x", "type": "float", "low": 0, ' >"$tmp/malformed.json"
expect 2 no "create-study with a malformed space JSON file" -- \
  create-study --storage "$STORE" --study s2 --space "$tmp/malformed.json"
echo '{"params": [{"name": "x", "type": "float", "low": 1.0, "high": 1.0}]}' >"$tmp/eq.json"
expect 2 no "create-study with a float space with low == high" -- \
  create-study --storage "$STORE" --study s2 --space "$tmp/eq.json"
echo '{"params": [{"name": "n", "type": "int", "low": 5, "high": 2}]}' >"$tmp/gt.json"
expect 2 no "create-study with an int space with low > high" -- \
  create-study --storage "$STORE" --study s2 --space "$tmp/gt.json"
expect 2 no "create-study with a space file that does not exist" -- \
  create-study --storage "$STORE" --study s2 --space "$tmp/no-such-space.json"
# A bad space is refused before any store is touched: no database file appears.
run create-study --storage "sqlite://$tmp/fresh.db" --study s --space "$tmp/malformed.json"
cases=$((cases + 1))
if [[ "$rc" != 2 ]]; then fail "create-study (malformed space) on a new store: exit $rc"; fi
if [[ -e "$tmp/fresh.db" ]]; then fail "create-study (malformed space) created $tmp/fresh.db"; fi
echo "ok $cases: create-study with a malformed space leaves no new database file -> exit $rc"

expect 2 no "create-study with --trust-regions 0" -- \
  create-study --storage "$STORE" --study s2 --space "$tmp/space.json" --trust-regions 0
expect 2 no "create-study with several trust regions and qlognei batches" -- \
  create-study --storage "$STORE" --study s2 --space "$tmp/space.json" --trust-regions 2 \
  --batch-method qlognei
expect 0 yes "create-study with three trust regions" -- \
  create-study --storage "$STORE" --study tr3 --space "$tmp/space.json" --strategy trust-region \
  --trust-regions 3
run studies --storage "$STORE"
cases=$((cases + 1))
if ! python3 -c 'import json,sys; s=[x for x in json.load(sys.stdin)["studies"] if x["name"]=="tr3"][0]; o=s["options"]; assert o["trust_region"]["n_regions"]==3, o' <<<"$out" 2>/dev/null; then
  fail "studies: tr3 does not carry trust_region.n_regions = 3: $out"
fi
echo "ok $cases: the stored options of tr3 carry n_regions = 3"

# ------------------------------------------------------------------ unknown studies and trials
expect 3 no "ask on an unknown study" -- ask --storage "$STORE" --study nope
expect 3 no "tell on an unknown study" -- tell --storage "$STORE" --study nope --trial 0 --value 1
expect 3 no "best on an unknown study" -- best --storage "$STORE" --study nope
expect 3 no "trials of an unknown study" -- trials --storage "$STORE" --study nope
expect 3 no "tell on an unknown trial id" -- \
  tell --storage "$STORE" --study "$STUDY" --trial 999 --value 1
expect 3 no "tell on a negative trial id" -- \
  tell --storage "$STORE" --study "$STUDY" --trial=-1 --value 1
expect 3 no "best with no complete trial" -- best --storage "$STORE" --study "$STUDY"
expect 3 no "delete-study of an unknown study" -- delete-study --storage "$STORE" --study nope

# ------------------------------------------------------------------------------ tell values
for v in nan NaN inf -inf +inf infinity abc "" 1.5x 1e999 0x10 0X1p3 " 1"; do
  expect 2 no "tell --value '$v'" -- \
    tell --storage "$STORE" --study "$STUDY" --trial "$TRIAL" --value "$v"
done
expect 2 no "tell --value=-inf" -- \
  tell --storage "$STORE" --study "$STUDY" --trial "$TRIAL" --value=-inf
expect 2 no "tell with both --value and --state" -- \
  tell --storage "$STORE" --study "$STUDY" --trial "$TRIAL" --value 1 --state fail
expect 2 no "tell with neither --value nor --state" -- \
  tell --storage "$STORE" --study "$STUDY" --trial "$TRIAL"
expect 2 no "tell --state with an unknown state" -- \
  tell --storage "$STORE" --study "$STUDY" --trial "$TRIAL" --state complete

# -------------------------------------------------------------- bounds, sizes, one-line errors
echo '{"params": [{"name": "x", "type": "float", "low": 0, "high": 1e400}]}' >"$tmp/big.json"
expect 2 no "create-study with a bound past the double range (1e400)" -- \
  create-study --storage "$STORE" --study s2 --space "$tmp/big.json"
for q in 0 10001 -1; do
  expect 2 no "ask -q $q (1..10000)" -- ask --storage "$STORE" --study "$STUDY" -q "$q"
  cases=$((cases + 1))
  if [[ ${#err} -gt 200 ]]; then fail "ask -q $q: a message of ${#err} characters: $err"; fi
done
expect 2 no "optimize --dim 100000 (0..1000)" -- optimize --function ackley --dim 100000
# A successful command writes nothing on stderr (no log line before an error or a result), on a
# study of its own (the last case checks that $STUDY is as set up).
run create-study --storage "$STORE" --study quiet --space "$tmp/space.json"
run ask --storage "$STORE" --study quiet
cases=$((cases + 1))
if [[ "$rc" != 0 || -n "$err" ]]; then fail "ask: exit $rc with stderr '$err' (expected 0, none)"; fi
SUBNORMAL=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["trials"][0]["id"])' <<<"$out")
# The smallest subnormal is a finite double like any other (the server took it; so must the CLI).
expect 0 yes "tell --value 5e-324" -- \
  tell --storage "$STORE" --study quiet --trial "$SUBNORMAL" --value 5e-324
cases=$((cases + 1))
if ! python3 -c 'import json,sys; assert json.load(sys.stdin)["value"] == 5e-324' <<<"$out"; then
  fail "tell --value 5e-324 stored: $out"
fi

# ---------------------------------------------------------------------------------- enqueue
while IFS= read -r p; do
  expect 2 no "enqueue --params '$p'" -- enqueue --storage "$STORE" --study "$STUDY" --params "$p"
done <<'EOF'
{"x": 9.0, "n": 3, "c": "a"}
{"x": 0.5, "n": 21, "c": "a"}
{"x": 0.5, "n": 3, "c": "z"}
{"x": 0.5, "n": 3, "c": "a", "extra": 1}
{"y": 0.5, "n": 3, "c": "a"}
{"x": 0.5, "n": 3}
{"x": "0.5", "n": 3, "c": "a"}
{"x": 0.5, "n": 2.5, "c": "a"}
{"x": 0.5, "n": 3, "c": 1}
{"x": 0.5, "n": "3", "c": "a"}
[0.5, 3, "a"]
{"x": 0.5, "n": 3, "c": "a"
not json
EOF

# -------------------------------------------------------------------------------- storage
# expect_env <code> <what> -- <env args...> -- <gpbo args...>: run in $tmp under `env`, for the
# GPBO_STORAGE cases; checks the exit code, the message, and that no file appeared in $tmp.
expect_env() {
  local code=$1 what=$2 envargs=()
  shift 3
  while [[ "$1" != -- ]]; do envargs+=("$1"); shift; done
  shift
  cases=$((cases + 1))
  local files_before files_after
  files_before=$(ls -A "$tmp")
  rc=0
  (cd "$tmp" && env "${envargs[@]}" timeout 60 "$GPBO" "$@" >"$tmp/out" 2>"$tmp/err") || rc=$?
  err=$(cat "$tmp/err")
  files_after=$(ls -A "$tmp")
  if [[ "$rc" != "$code" ]]; then
    fail "$what: expected exit $code, got $rc ($err)"
  elif [[ "$code" != 0 ]] && ! one_line_message; then
    fail "$what: expected a one-line message on stderr, got '$err'"
  fi
  [[ "$files_before" == "$files_after" ]] || fail "$what: files appeared in $tmp"
  echo "ok $cases: $what -> exit $rc${err:+: $(head -1 <<<"$err")}"
}
expect_env 2 "no --storage and no GPBO_STORAGE" -- -u GPBO_STORAGE -- studies
expect_env 2 "no --storage and no GPBO_STORAGE (ask)" -- -u GPBO_STORAGE -- ask --study "$STUDY"
expect_env 2 "no --storage and an empty GPBO_STORAGE" -- GPBO_STORAGE= -- studies
expect_env 2 "GPBO_STORAGE with an unknown scheme" -- GPBO_STORAGE=mysql:///x -- studies
# GPBO_STORAGE stands in for --storage: the real store through it works.
expect_env 0 "GPBO_STORAGE naming the store" -- "GPBO_STORAGE=$STORE" -- studies
expect 2 no "a storage URL with an unknown scheme" -- studies --storage "mysql://db/x"
# A PostgreSQL server that is not there (nothing listens on port 1): a storage error at once,
# with the URL's password masked.
expect 5 no "an unreachable PostgreSQL server" -- \
  studies --storage "postgresql://gpbo:hunter2-secret@127.0.0.1:1/x"
[[ "$err" != *hunter2-secret* && "$err" == *"gpbo:***@127.0.0.1:1"* ]] ||
  fail "the PostgreSQL error shows the password or not the masked URL: $err"
expect 2 no "a storage path with no scheme" -- studies --storage "$DB"
expect 2 no "a sqlite URL with no path" -- studies --storage "sqlite://"

head -c 8192 /dev/urandom >"$tmp/corrupt.db"
corrupt_sum=$(sha256sum <"$tmp/corrupt.db")
run studies --storage "sqlite://$tmp/corrupt.db"
cases=$((cases + 1))
if [[ "$rc" != 5 ]]; then
  fail "studies on a corrupt database file: expected exit 5, got $rc ($err)"
elif ! one_line_message; then
  fail "studies on a corrupt database file: expected a one-line message, got '$err'"
fi
[[ "$(sha256sum <"$tmp/corrupt.db")" == "$corrupt_sum" ]] ||
  fail "studies on a corrupt database file changed the file"
echo "ok $cases: studies on a corrupt database file -> exit $rc: $err"
run create-study --storage "sqlite://$tmp/corrupt.db" --study s --space "$tmp/space.json"
cases=$((cases + 1))
[[ "$rc" == 5 ]] || fail "create-study on a corrupt database file: expected exit 5, got $rc ($err)"
[[ "$(sha256sum <"$tmp/corrupt.db")" == "$corrupt_sum" ]] ||
  fail "create-study on a corrupt database file changed the file"
echo "ok $cases: create-study on a corrupt database file -> exit $rc"

printf 'SQLite format 3\0this is not really a database' >"$tmp/fake.db"
fake_sum=$(sha256sum <"$tmp/fake.db")
run studies --storage "sqlite://$tmp/fake.db"
cases=$((cases + 1))
if [[ "$rc" != 5 ]]; then
  fail "studies on a file with a SQLite header and garbage: expected exit 5, got $rc ($err)"
elif ! one_line_message; then
  fail "studies on a file with a SQLite header and garbage: one-line message expected: '$err'"
fi
[[ "$(sha256sum <"$tmp/fake.db")" == "$fake_sum" ]] || fail "studies changed the fake database file"
echo "ok $cases: studies on a file with a SQLite header and garbage -> exit $rc"

run studies --storage "sqlite://$tmp/no/such/dir/x.db"
cases=$((cases + 1))
if [[ "$rc" != 5 ]]; then
  fail "a storage path whose directory does not exist: expected exit 5, got $rc ($err)"
elif ! one_line_message; then
  fail "a storage path whose directory does not exist: expected a one-line message, got '$err'"
fi
[[ ! -e "$tmp/no" ]] || fail "a storage path whose directory does not exist: $tmp/no was created"
echo "ok $cases: a storage path whose directory does not exist -> exit $rc: $err"

mkdir "$tmp/a-directory.db"
run studies --storage "sqlite://$tmp/a-directory.db"
cases=$((cases + 1))
if [[ "$rc" != 5 ]]; then
  fail "a storage path that is a directory: expected exit 5, got $rc ($err)"
elif ! one_line_message; then
  fail "a storage path that is a directory: expected a one-line message, got '$err'"
fi
echo "ok $cases: a storage path that is a directory -> exit $rc"

# ------------------------------------------------------------------------------- memory
# A model over the memory limit is refused before anything is allocated or written.
run create-study --storage "$STORE" --study mem --space "$tmp/space.json" --n-initial 2 \
  --gp-memory-limit-gb 1e-9
for i in 0 1; do
  run ask --storage "$STORE" --study mem
  run tell --storage "$STORE" --study mem --trial "$i" --value "$i"
done
expect 2 no "ask when the model needs more memory than --gp-memory-limit-gb" -- \
  ask --storage "$STORE" --study mem
[[ "$err" == *"gp.memory_limit_gb"* ]] || fail "the memory refusal names the option: $err"
expect 2 no "create-study with a negative --gp-memory-limit-gb" -- \
  create-study --storage "$STORE" --study mem2 --space "$tmp/space.json" --gp-memory-limit-gb -1

# ---------------------------------------------------------------------------- create twice
expect 3 no "create-study of an existing study" -- \
  create-study --storage "$STORE" --study "$STUDY" --space "$tmp/space.json"
echo '{"params": [{"name": "z", "type": "float", "low": 0, "high": 1}]}' >"$tmp/other.json"
expect 3 no "create-study of an existing study with another space" -- \
  create-study --storage "$STORE" --study "$STUDY" --space "$tmp/other.json" --direction maximize
expect 0 no "create-study --skip-if-exists of an existing study" -- \
  create-study --storage "$STORE" --study "$STUDY" --space "$tmp/space.json" --skip-if-exists
expect 2 no "create-study with an unknown direction" -- \
  create-study --storage "$STORE" --study s3 --space "$tmp/space.json" --direction sideways
expect 2 no "create-study with an empty name" -- \
  create-study --storage "$STORE" --study "" --space "$tmp/space.json"

# The study is untouched by all of the above: one running trial, the setup's.
run trials --storage "$STORE" --study "$STUDY" -f json
cases=$((cases + 1))
summary=$(python3 -c '
import json, sys
t = json.load(sys.stdin)["trials"]
print(len(t), [x["state"] for x in t], [x["worker_id"] for x in t])' <<<"$out")
[[ "$summary" == "1 ['running'] ['setup']" ]] || fail "the study after the bad inputs: $summary"
echo "ok $cases: the study is as set up: $summary"

if ((${#failures[@]})); then
  echo "store_bad_input_test: ${#failures[@]} of $cases cases FAILED:" >&2
  printf '  - %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "store_bad_input_test: OK: $cases cases"
