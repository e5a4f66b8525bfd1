#!/usr/bin/env bash
# Start a private PostgreSQL cluster for the tests and print its URL (only the URL goes to stdout):
#   export TEST_POSTGRES_URL="$(bash scripts/postgres.sh)"
# Idempotent: installs postgresql with apt-get if missing (needs root), creates the cluster once under
# var/postgres (or $PG_TEST_ROOT), starts it if it is not running, creates the role and the database if missing.
# Test-only settings: fsync off, listens on 127.0.0.1 only, on a free port kept in <root>/port.
#   bash scripts/postgres.sh stop    stops the cluster
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "postgres.sh: $*" >&2; }

ROLE=${PG_TEST_ROLE:-support}
PASSWORD=${PG_TEST_PASSWORD:-support}
DB=${PG_TEST_DB:-support_test}

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { log "PostgreSQL is not installed and only root can install it"; exit 1; }
  log "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# initdb refuses to run as root: the cluster belongs to the postgres user when we are root
if [ "$(id -u)" = 0 ]; then
  PGUSER_OS=postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  PGUSER_OS=$(id -un)
  as_pg() { "$@"; }
fi

ROOT=${PG_TEST_ROOT:-$(pwd)/var/postgres}
mkdir -p "$ROOT"
if [ "$(id -u)" = 0 ]; then
  chown "$PGUSER_OS" "$ROOT"
  if ! as_pg test -w "$ROOT"; then   # a parent directory the postgres user cannot enter
    ROOT=/tmp/support-postgres-$(pwd | cksum | cut -d' ' -f1)
    mkdir -p "$ROOT" && chown "$PGUSER_OS" "$ROOT"
    log "using $ROOT (the work tree is not reachable by the postgres user)"
  fi
fi
DATA=$ROOT/data
RUN=$ROOT/run

if [ ! -s "$DATA/PG_VERSION" ]; then
  log "initdb $DATA"
  as_pg mkdir -p "$RUN"
  as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 \
    --locale=C.UTF-8 >/dev/null 2>"$ROOT/initdb.log" \
    || as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >&2
fi
as_pg mkdir -p "$RUN"

free_port() {
  python3 - <<'PY'
import socket
for port in range(54329, 54429):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
PY
}

if [ "${1:-}" = stop ]; then
  as_pg "$BIN/pg_ctl" -D "$DATA" -m fast stop >&2 || true
  exit 0
fi

if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  PORT=$(free_port)
  echo "$PORT" > "$ROOT/port"
  log "starting on 127.0.0.1:$PORT"
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$ROOT/server.log" -w -t 60 start \
    -o "-p $PORT -k $RUN -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >&2
fi
PORT=$(cat "$ROOT/port")

psql_pg() { as_pg "$BIN/psql" -h "$RUN" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAq "$@"; }
if [ -z "$(psql_pg -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" ]; then
  psql_pg -c "CREATE ROLE \"$ROLE\" LOGIN CREATEDB PASSWORD '$PASSWORD'" >&2
fi
if [ -z "$(psql_pg -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
  psql_pg -c "CREATE DATABASE \"$DB\" OWNER \"$ROLE\"" >&2
fi
echo "postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
