#!/usr/bin/env bash
# `gpbo serve` access through real processes: tokens minted by `gpbo token add` (hashed file,
# roles), malformed token files (exit 2), TLS with a private CA made here by the openssl CLI
# (the client verifies the certificate; a wrong CA is refused with a clear
# error), and tokens refused in clear text off loopback, by the server and by the client.
#
#   bash tests/server/serve_access_test.sh <gpbo binary>
set -euo pipefail
GPBO=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill -9 "$SERVER_PID" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "serve_access_test: FAIL: $*" >&2
  [[ -f "$tmp/server.err" ]] && tail -20 "$tmp/server.err" >&2
  exit 1
}
source "$(dirname "$0")/serve_common.sh"
unset GPBO_STORAGE GPBO_SERVER GPBO_SERVER_TOKEN
command -v openssl >/dev/null || { echo "serve_access_test: SKIP: no openssl CLI"; exit 77; }

# ---- tokens: minted once, stored hashed
tokens=$tmp/tokens
"$GPBO" token add --file "$tokens" --name boss --role admin >"$tmp/admin.tok"
"$GPBO" token add --file "$tokens" --name node --role worker >"$tmp/worker.tok"
"$GPBO" token add --file "$tokens" --name viewer --role read >"$tmp/read.tok"
[[ $(stat -c %a "$tokens") == 600 ]] || fail "the token file is not mode 600"
grep -q "$(cat "$tmp/admin.tok")" "$tokens" && fail "the token file holds a token in clear"
[[ $(grep -c '^[a-z]* [a-z]* sha256:[0-9a-f]\{64\}$' "$tokens") == 3 ]] || fail "token lines"
if "$GPBO" token add --file "$tokens" --name boss --role read 2>"$tmp/err"; then
  fail "a second token named boss was added"
fi
grep -q "already has a token named 'boss'" "$tmp/err" || fail "duplicate name: $(cat "$tmp/err")"

# ---- malformed token files: exit 2 with the line named
expect_bad_file() {
  local text=$1 want=$2 rc=0
  printf '%s\n' "$text" >"$tmp/bad"
  "$GPBO" serve --storage memory:// --listen 127.0.0.1:0 --token-file "$tmp/bad" \
    >/dev/null 2>"$tmp/err" || rc=$?
  [[ $rc == 2 ]] || fail "token file '$text': exit $rc, expected 2"
  grep -qF "$want" "$tmp/err" || fail "token file '$text': $(cat "$tmp/err")"
}
h=$(printf '%064d' 0)
expect_bad_file "# c"$'\n'"alice admin" "bad:2: expected 'NAME ROLE sha256:HEX'"
expect_bad_file "alice root sha256:$h" "unknown role 'root'"
expect_bad_file "alice admin sha256:${h:1}" "64 lowercase hex digits"
expect_bad_file "a admin sha256:$h"$'\n'"a read sha256:$h" "'a' is used twice"
expect_bad_file "# nothing" "holds no token"

# ---- a private CA and a server certificate for 127.0.0.1 and localhost; another CA
mkcert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" -keyout "$tmp/$1.key" \
    -out "$tmp/$1.pem" >/dev/null 2>&1
}
mkcert ca
mkcert other-ca
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$tmp/server.key" \
  -out "$tmp/server.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tmp/san.ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
  -CAcreateserial -days 2 -extfile "$tmp/san.ext" -out "$tmp/server.pem" >/dev/null 2>&1

space=$tmp/space.json
echo '{"params": [{"name": "x", "type": "float", "low": 0, "high": 1}]}' >"$space"

start_server server "sqlite://$tmp/s.db" 127.0.0.1:0 --token-file "$tokens" \
  --tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key" || fail "no TLS server"
[[ $SERVER_URL == https://* ]] || fail "the server does not say https: $SERVER_URL"
grep -q "3 tokens" "$tmp/server.out" || fail "$(cat "$tmp/server.out")"
as() {  # as <role> <command> [args...]: the CLI against the server with that role's token
  local role=$1 cmd=$2
  shift 2
  "$GPBO" "$cmd" --server "$SERVER_URL" --ca-file "$tmp/ca.pem" --token-file "$tmp/$role.tok" "$@"
}
as admin create-study --study s --space "$space" --n-initial 5 >/dev/null || fail "admin create"
as read studies | grep -q '"s"' || fail "read studies"
id=$(as worker ask --study s --worker-id n1 | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -1)
[[ -n "$id" ]] || fail "worker ask"
# A worker token reports only what its worker id holds.
rc=0
as worker tell --study s --trial "$id" --value 1 --worker-id n2 2>"$tmp/err" || rc=$?
[[ $rc == 2 ]] && grep -q "held by another worker id" "$tmp/err" || fail "n2 told n1's trial"
as worker heartbeat --study s --trial "$id" --worker-id n1 >/dev/null || fail "heartbeat"
as worker tell --study s --trial "$id" --value 1 --worker-id n1 >/dev/null || fail "worker tell"
# Roles: 403 with the role named, exit 2.
rc=0
as worker delete-study --study s 2>"$tmp/err" || rc=$?
[[ $rc == 2 ]] && grep -q "forbidden: .*role worker.* needs admin" "$tmp/err" ||
  fail "worker delete: $rc $(cat "$tmp/err")"
rc=0
as read ask --study s 2>"$tmp/err" || rc=$?
[[ $rc == 2 ]] && grep -q "needs worker or admin" "$tmp/err" || fail "read ask: $(cat "$tmp/err")"
# TLS: the wrong CA, or the system's CAs, cannot verify the private CA's certificate.
for ca in "$tmp/other-ca.pem" ""; do
  rc=0
  "$GPBO" studies --server "$SERVER_URL" ${ca:+--ca-file "$ca"} --token-file "$tmp/read.tok" \
    2>"$tmp/err" || rc=$?
  [[ $rc != 0 ]] || fail "a server certificate was accepted with CA '$ca'"
  grep -q "TLS certificate of the gpbo server at .* could not be verified" "$tmp/err" ||
    fail "unclear TLS error: $(cat "$tmp/err")"
done
# Plain HTTP to a TLS server gets no study.
rc=0
"$GPBO" studies --server "${SERVER_URL/https/http}" --token-file "$tmp/read.tok" \
  >/dev/null 2>&1 || rc=$?
[[ $rc != 0 ]] || fail "plain HTTP was served by the TLS server"
stop_server "$SERVER_PID" || fail "the TLS server did not stop cleanly"
SERVER_PID=""

# ---- tokens in clear text off loopback: refused unless asked for
rc=0
"$GPBO" serve --storage memory:// --listen 0.0.0.0:0 --token-file "$tokens" >/dev/null \
  2>"$tmp/err" || rc=$?
[[ $rc == 2 ]] && grep -q "insecure-http" "$tmp/err" || fail "cleartext server: $(cat "$tmp/err")"
start_server insecure memory:// 0.0.0.0:0 --token-file "$tokens" --insecure-http ||
  fail "--insecure-http did not start"
stop_server "$SERVER_PID" || fail "the --insecure-http server did not stop cleanly"
SERVER_PID=""
rc=0
"$GPBO" studies --server http://192.0.2.1:8470 --token-file "$tmp/read.tok" 2>"$tmp/err" || rc=$?
[[ $rc == 2 ]] && grep -q "refusing to send the token in clear text" "$tmp/err" ||
  fail "cleartext client: $rc $(cat "$tmp/err")"
echo "serve_access_test: OK"
