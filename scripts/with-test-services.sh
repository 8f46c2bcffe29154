#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on loopback (when the Debian package is installed), exports
# BHXH_TEST_POSTGRES_URL for the tests, runs the given command, and removes the cluster afterwards.
set -uo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "${BHXH_TEST_POSTGRES_URL:-}" ] && [ -n "$PGBIN" ]; then
  PGDATA=$(mktemp -d /tmp/bhxh-pg.XXXXXX)
  PGPORT=${BHXH_TEST_PGPORT:-$(( 54000 + RANDOM % 900 ))}
  run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
  [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
  if run_pg "'$PGBIN/initdb' -D '$PGDATA' -A trust -U postgres -E UTF8 --locale=C.UTF-8" >"$PGDATA.initdb.log" 2>&1 &&
     run_pg "'$PGBIN/pg_ctl' -D '$PGDATA' -w -l '$PGDATA/server.log' -o \"-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start" >/dev/null; then
    export BHXH_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
    echo "with-test-services: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT"
    trap 'run_pg "\"$PGBIN/pg_ctl\" -D \"$PGDATA\" -m immediate stop" >/dev/null 2>&1; rm -rf "$PGDATA" "$PGDATA.initdb.log"' EXIT
  else
    echo "with-test-services: could not start PostgreSQL (see $PGDATA.initdb.log); PostgreSQL tests will be skipped" >&2
  fi
fi
"$@"
