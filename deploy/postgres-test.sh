#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests, from Debian's packages (postgresql):
#   eval "$(bash deploy/postgres-test.sh start)"   # exports SCRIBE_TEST_POSTGRES_URL, _DIR
#   bash deploy/postgres-test.sh stop "$SCRIBE_TEST_POSTGRES_DIR"
# `start` runs initdb into a fresh temporary directory as an unprivileged user (initdb
# refuses root: as root, the system user scribe-pgtest is created when missing), picks a
# free loopback port, listens on 127.0.0.1 only (and a socket inside that directory), keeps
# fsync on, waits until the server accepts connections and prints the shell lines that
# export its URL. Nothing is assumed to be running, nothing outside the directory is used.
set -euo pipefail

bindir="${SCRIBE_PG_BINDIR:-}"
if [ -z "$bindir" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bindir="$d"; done
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "postgres-test.sh: no initdb found (install the postgresql package)" >&2
  exit 1
fi

# Runs a command as the unprivileged owner of the data directory.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u scribe-pgtest -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  if [ "$(id -u)" -eq 0 ] && ! id scribe-pgtest >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin scribe-pgtest
  fi
  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/scribe-pg.XXXXXX")"
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown scribe-pgtest "$dir"
  as_owner "$bindir/initdb" -D "$dir/data" -U scribe --auth=trust --encoding=UTF8 --locale=C \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  local port=""
  for _ in 1 2 3 4 5; do
    port="$(free_port)"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
          -c fsync=on -c max_connections=200 -c shared_buffers=32MB" start >/dev/null &&
      break
    port=""  # the port was taken meanwhile: another one
  done
  if [ -z "$port" ]; then
    cat "$dir/server.log" >&2 || true
    exit 1
  fi
  local url="postgresql://scribe@127.0.0.1:$port/postgres"
  echo "$url" >"$dir/url"
  echo "export SCRIBE_TEST_POSTGRES_URL='$url'"
  echo "export SCRIBE_TEST_POSTGRES_DIR='$dir'"
}

stop() {
  local dir="${1:-${SCRIBE_TEST_POSTGRES_DIR:-}}"
  if [ -z "$dir" ] || [ ! -f "$dir/url" ]; then
    echo "postgres-test.sh stop: not a directory made by start: '$dir'" >&2
    exit 1
  fi
  as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
