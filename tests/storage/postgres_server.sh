#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (run by ctest as the setup and cleanup of the
# fixture "postgres"):
#
#   bash tests/storage/postgres_server.sh start <state dir>
#   bash tests/storage/postgres_server.sh stop <state dir>
#
# start: stops and removes any server an earlier run left in <state dir>; finds Debian's server
# binaries (/usr/lib/postgresql/<version>/bin, the newest; or $GPBO_PG_BINDIR); initdb's a
# cluster in <state dir>/cluster (or in a fresh directory under $TMPDIR when the postgres user
# cannot reach <state dir>, or its socket path would be too long); starts it on a free port of
# 127.0.0.1 plus a Unix socket; creates the database gpbo_test and a role gpbo_password that must
# log in with a password; and writes the connection URLs to <state dir>/url (superuser
# postgres, no password) and <state dir>/password_url (gpbo_password, with its password).
# The server runs as the postgres user when we are root (initdb refuses root).
# Exits 77 (skipped) with a message, and writes it to <state dir>/skip, when no server binaries
# are installed.
#
# stop: stops the server (fast, then immediate, then SIGKILL) and removes its files; nothing to
# do is not an error.
set -euo pipefail

if [[ $# -ne 2 || ($1 != start && $1 != stop) ]]; then
  echo "usage: $0 start|stop <state dir>" >&2
  exit 2
fi
action=$1
mkdir -p "$2"
state="$(cd "$2" && pwd)"

say() { echo "postgres_server: $*"; }

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

find_bindir() {
  if [[ -n ${GPBO_PG_BINDIR:-} ]]; then
    echo "$GPBO_PG_BINDIR"
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  echo "$dir"
}

stop_server() {
  [[ -f $state/cluster_dir ]] || { rm -f "$state/url" "$state/password_url"; return 0; }
  local dir bindir pid
  dir=$(cat "$state/cluster_dir")
  bindir=$(cat "$state/bindir" 2>/dev/null || true)
  if [[ -f $dir/data/postmaster.pid ]]; then
    pid=$(head -n 1 "$dir/data/postmaster.pid")
    if [[ -n $bindir && -x $bindir/pg_ctl ]]; then
      as_postgres "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        as_postgres "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
        true
    fi
    # Whatever pg_ctl could not stop (the postmaster's pid, checked to be a postgres process).
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null &&
      [[ $(cat "/proc/$pid/comm" 2>/dev/null) == postgres* ]]; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
    say "stopped the server in $dir"
  fi
  rm -rf "$dir"
  rm -f "$state/cluster_dir" "$state/bindir" "$state/url" "$state/password_url"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if [[ $action == stop ]]; then
  stop_server
  exit 0
fi

# ---------------------------------------------------------------- start
stop_server  # a server left behind by an interrupted run
rm -f "$state/skip"

bindir=$(find_bindir)
if [[ -z $bindir || ! -x $bindir/initdb || ! -x $bindir/pg_ctl || ! -x $bindir/psql ]]; then
  message="no PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin/initdb); install \
Debian's 'postgresql' package (scripts/setup.sh does) to run the PostgreSQL tests"
  say "SKIP: $message"
  echo "$message" >"$state/skip"
  exit 77
fi
if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
  message="running as root, but there is no 'postgres' user to run the server as"
  say "SKIP: $message"
  echo "$message" >"$state/skip"
  exit 77
fi

# The cluster lives under the state dir when the postgres user can reach it and the socket
# path fits (108 bytes); else in a fresh directory under $TMPDIR.
dir="$state/cluster"
mkdir -p "$dir"
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
if ! as_postgres test -w "$dir" || [[ ${#dir} -gt 80 ]]; then
  rm -rf "$dir"
  dir=$(mktemp -d "${TMPDIR:-/tmp}/gpbo-pg.XXXXXX")
  chmod 755 "$dir"
  [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
fi
echo "$dir" >"$state/cluster_dir"
echo "$bindir" >"$state/bindir"

if ! as_postgres "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
  --no-sync >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  say "FAIL: initdb failed"
  stop_server
  exit 1
fi
# The role gpbo_password must give its password (the tests check that a wrong one is refused
# and that no message shows it); every other local login is trusted.
cat >"$dir/data/pg_hba.conf" <<'EOF'
local all all                        trust
host  all gpbo_password 127.0.0.1/32 scram-sha-256
host  all all           127.0.0.1/32 trust
EOF
[[ $(id -u) -eq 0 ]] && chown postgres: "$dir/data/pg_hba.conf"

started=""
for attempt in 1 2 3 4 5; do
  port=$(free_port)
  if as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null 2>&1; then
    started=1
    break
  fi
  # Another process took the port between free_port and the bind: try another one.
  grep -q "could not bind\|Address already in use" "$dir/server.log" 2>/dev/null || break
done
if [[ -z $started ]]; then
  tail -n 20 "$dir/server.log" >&2 || true
  say "FAIL: the server did not start"
  stop_server
  exit 1
fi

as_postgres "$bindir/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE DATABASE gpbo_test" \
  -c "CREATE ROLE gpbo_password LOGIN PASSWORD 'gpbo-test-secret'" >/dev/null
# gpbo_password keeps its tables in its own schema (PostgreSQL 15 lets only the owner create in
# public); its default search_path ("$user", public) finds it first.
as_postgres "$bindir/psql" -X -q -h "$dir" -p "$port" -U postgres -d gpbo_test -v ON_ERROR_STOP=1 \
  -c "CREATE SCHEMA AUTHORIZATION gpbo_password" >/dev/null

echo "postgresql://postgres@127.0.0.1:$port/gpbo_test" >"$state/url"
echo "postgresql://gpbo_password:gpbo-test-secret@127.0.0.1:$port/gpbo_test" >"$state/password_url"
say "PostgreSQL $("$bindir/postgres" --version | awk "{print \$3}") on 127.0.0.1:$port," \
  "cluster in $dir; URL in $state/url"
