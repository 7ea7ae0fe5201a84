# Shared by the tests/server/*_test.sh scripts (sourced): start and stop `gpbo serve`.
# Needs GPBO (the binary) and tmp (a scratch folder) to be set.

# start_server <log name> <storage URL> [listen] [extra flags...]: starts gpbo serve in the
# background, waits for its "listening on" line, and sets SERVER_PID and SERVER_URL.
start_server() {
  local name=$1 store=$2 listen=${3:-127.0.0.1:0}
  shift 3 || shift $#
  "$GPBO" serve --storage "$store" --listen "$listen" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  SERVER_PID=$!
  local i
  for ((i = 0; i < 300; i++)); do
    # The background shell may not have created the log yet: not an error, wait for it.
    SERVER_URL=$(sed -n 's/^gpbo serve: listening on \(https\{0,1\}:[^ ]*\).*/\1/p' "$tmp/$name.out" \
      2>/dev/null || true)
    [[ -n "$SERVER_URL" ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "gpbo serve did not start: $(cat "$tmp/$name.err")" >&2
  return 1
}

# stop_server <pid>: SIGTERM, then checks that it exits 0 within 30 s.
stop_server() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 1
  for ((i = 0; i < 300; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    echo "gpbo serve did not stop on SIGTERM within 30 s" >&2
    return 1
  fi
  wait "$pid"
}
