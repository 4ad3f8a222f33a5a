#!/bin/sh
# Entry point of the check's PostgreSQL stand-in (postgres.Containerfile): on an
# empty data volume, create the cluster, the user and the database named by
# POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB; then run the server as
# PID 1, so SIGTERM reaches it (a "smart" shutdown, exit code 0).
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  if [ "$db" != postgres ]; then createdb -U "$user" "$db"; fi
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "postgres-entrypoint: created database $db for $user"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
