# Shared by the tests/cli/store_*_test.sh scripts (sourced by setup.sh): checks that record a
# failure and go on, so that one run lists every broken case. Needs tmp (a scratch folder) to be set.

failures=()
# fail MESSAGE: records a failed check.
fail() {
  failures+=("$*")
  echo "FAIL: $*" >&2
}
# json EXPR < file: evaluates a Python expression on the JSON document `d`.
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
# expect_exit CODE LABEL COMMAND...: the command exits CODE with one line on stderr.
expect_exit() {
  local code=$1 label=$2
  shift 2
  set +e
  "$@" > /dev/null 2> "$tmp/err"
  local rc=$?
  set -e
  [[ $rc == "$code" ]] || fail "$label: exit $rc, expected $code ($(cat "$tmp/err"))"
  [[ $(wc -l < "$tmp/err") == 1 ]] || fail "$label: stderr is not one line: $(cat "$tmp/err")"
}
# finish: lists the failures and exits 1 if there were any; else says all checks passed.
finish() {
  if ((${#failures[@]})); then
    printf 'FAILED: %b\n' "${failures[@]}" >&2
    exit 1
  fi
  echo "all checks passed"
}
