#!/usr/bin/env bash
# The stand-in's entrypoint: what upstream's docker-entrypoint.sh does for the
# stacks, and no more. On the first start (an empty PGDATA) it makes the cluster
# with POSTGRES_USER (default postgres) as its superuser, whose password comes
# from POSTGRES_PASSWORD or the file POSTGRES_PASSWORD_FILE names (a secret),
# password (scram-sha-256) authentication over the network and trust on the
# container's own socket, and creates POSTGRES_DB; then it runs the command.
# It runs as the image's user (postgres, 999); it never switches users.
set -euo pipefail

file_env() { # VAR: VAR, or the contents of the file VAR_FILE names; not both
  local var=$1 file_var="${1}_FILE"
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    echo "docker-entrypoint: both $var and $file_var are set (they are exclusive)" >&2
    exit 1
  fi
  if [ -n "${!file_var:-}" ]; then
    export "$var"="$(<"${!file_var}")"
  fi
  unset "$file_var"
}

if [ "${1:-}" = postgres ] || [ "${1:0:1}" = - ]; then
  [ "${1:0:1}" = - ] && set -- postgres "$@"
  mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER
    file_env POSTGRES_DB
    : "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}"
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
      echo "docker-entrypoint: the database is uninitialized and no password is set: set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE" >&2
      exit 1
    fi
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions >/dev/null
    printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
      postgres --single -D "$PGDATA" -c unix_socket_directories='' postgres <<<"CREATE DATABASE \"$POSTGRES_DB\";" >/dev/null
    fi
    unset POSTGRES_PASSWORD
    echo "docker-entrypoint: PostgreSQL init process complete; ready for start up." >&2
  fi
fi
exec "$@"
