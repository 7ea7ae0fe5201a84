# Shared by the tests/cli/store_*_test.sh scripts (sourced, with the gpbo binary's path as its
# argument): GPBO (that path, absolute), tmp (a scratch folder), a server started with
# start_server (tests/server/serve_common.sh) stopped and tmp removed on exit, no gpbo
# environment variables from the caller, and the checks of checks.sh.
GPBO="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
tmp="$(mktemp -d)"
SERVER_PID=
cleanup() {
  # A server its script stopped already leaves its pid behind: not an error.
  [[ -z $SERVER_PID ]] || kill "$SERVER_PID" 2> /dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
unset GPBO_STORAGE GPBO_SERVER GPBO_SERVER_TOKEN
source "$(dirname "${BASH_SOURCE[0]}")/../server/serve_common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checks.sh"
