#!/bin/sh
# Entrypoint of the local PostgreSQL test image (.ci/docker-postgres-image), shaped like the
# official postgres image's: on first start initdb with POSTGRES_USER / POSTGRES_PASSWORD,
# create POSTGRES_DB, then run the server on 0.0.0.0:5432 with password (SCRAM) auth from
# other hosts. Arguments after "postgres" are passed to the server (e.g. -c wal_level=logical).
set -eu

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
export PGDATA

if [ "${1:-postgres}" = postgres ]; then
  [ $# -gt 0 ] && shift
else
  exec "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo 'POSTGRES_PASSWORD is required: other hosts log in with it.' >&2
    exit 1
  fi
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  # A test image: no fsync while the cluster is made (a clean shutdown still writes it all).
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >/dev/null
  rm -f "$pwfile"
  echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    # A server on the Unix socket only, so no client (nor a wait strategy) sees it half-made.
    pg_ctl --wait --silent -o "-c listen_addresses='' -c fsync=off" start
    psql --quiet --no-psqlrc -v ON_ERROR_STOP=1 --username="$POSTGRES_USER" --dbname=postgres \
      -v db="$POSTGRES_DB" <<'SQL'
CREATE DATABASE :"db";
SQL
    pg_ctl --wait --silent -m fast stop
  fi
  echo 'PostgreSQL init process complete; ready for start up.'
fi

exec postgres "$@"
