#!/usr/bin/env bash
# Schemathesis (from PyPI) against `gpbo serve`, driven by docs/openapi.yaml.
#
#   bash tests/server/serve_fuzz_test.sh <gpbo binary> <docs/openapi.yaml> <venv folder>
#
# Installs schemathesis into the venv folder when it is not there yet (exit 77, skipped, when
# PyPI cannot be reached), starts gpbo serve on a SQLite file with a study "demo" (the name the
# OpenAPI examples use) holding one running trial, and runs schemathesis over every operation:
# examples, coverage and fuzzing phases, positive and negative data, $GPBO_FUZZ_EXAMPLES (50)
# cases per operation, fixed seed. Checks: no 5xx (not_a_server_error), every status code and
# content type documented, every response body valid against its schema; then the server still
# answers and exits 0 on SIGTERM. (positive_data_acceptance is not checked: a body can match the
# schema and still be refused, e.g. a space whose low exceeds its high.)
set -euo pipefail
GPBO=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SPEC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
VENV=$3
EXAMPLES=${GPBO_FUZZ_EXAMPLES:-50}
SCHEMATHESIS_VERSION=4.32.5
tmp=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "serve_fuzz_test: FAIL: $*" >&2
  [[ -f "$tmp/server.err" ]] && grep -v "device auto" "$tmp/server.err" | tail -20 >&2
  exit 1
}
source "$(dirname "$0")/serve_common.sh"

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$VENV" || { echo "serve_fuzz_test: SKIP: python3 -m venv failed"; exit 77; }
  if ! timeout 600 "$VENV/bin/pip" install -q --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" >"$tmp/pip.log" 2>&1; then
    tail -3 "$tmp/pip.log"
    echo "serve_fuzz_test: SKIP: cannot install schemathesis from PyPI"
    exit 77
  fi
fi

cat >"$tmp/space.json" <<'JSON'
{"params": [{"name": "x", "type": "float", "low": -5.0, "high": 5.0},
            {"name": "n", "type": "int", "low": 0, "high": 20},
            {"name": "c", "type": "categorical", "choices": ["a", "b"]}]}
JSON
start_server server "sqlite://$tmp/fuzz.db" 127.0.0.1:0 || fail "no server"
"$GPBO" create-study --server "$SERVER_URL" --study demo --space "$tmp/space.json" \
  --n-initial 8 >/dev/null || fail "create-study exited $?"
"$GPBO" ask --server "$SERVER_URL" --study demo --worker-id w0 >/dev/null || fail "ask exited $?"

cd "$tmp"
rc=0
timeout 900 "$VENV/bin/schemathesis" run "$SPEC" --url "$SERVER_URL" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "$EXAMPLES" --seed 1 --workers 1 --generation-database none \
  --phases examples,coverage,fuzzing >"$tmp/st.log" 2>&1 || rc=$?
tail -25 "$tmp/st.log"
[[ $rc -eq 0 ]] || fail "schemathesis exited $rc"
kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died"
if grep -q "^gpbo serve: 5" "$tmp/server.err"; then fail "the server logged a 5xx"; fi
"$GPBO" studies --server "$SERVER_URL" >/dev/null || fail "the server no longer answers"
stop_server "$SERVER_PID" || fail "gpbo serve did not exit 0 on SIGTERM"
SERVER_PID=""
echo "serve_fuzz_test: OK: schemathesis found no 5xx and no response outside docs/openapi.yaml"
