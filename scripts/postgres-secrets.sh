#!/usr/bin/env sh
# Makes the PostgreSQL stacks' two secrets once, from one random password:
# .secrets/postgres-password (the server's, POSTGRES_PASSWORD_FILE) and
# .secrets/database-url (the API's, DATABASE_URL_FILE: the same password in
# postgres://stagecraft:<password>@postgres:5432/stagecraft). Both git-ignored;
# existing files are kept. Prints the two paths. Safe to re-run.
#
#   scripts/postgres-secrets.sh
#   docker compose -f docker-compose.prod.yml -f docker-compose.prod.postgres.yml up -d --build --wait
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
password_file="${STAGECRAFT_POSTGRES_PASSWORD_FILE:-$root/.secrets/postgres-password}"
url_file="${STAGECRAFT_DATABASE_URL_FILE:-$root/.secrets/database-url}"
if [ ! -s "$password_file" ] || [ ! -s "$url_file" ]; then
  for dir in "$(dirname "$password_file")" "$(dirname "$url_file")"; do
    mkdir -p "$dir"
    # The folder keeps other users of this machine out; the files must be readable
    # by postgres (999) and the API (65532): Compose mounts a file secret as it is.
    chmod 700 "$dir"
  done
  umask 022
  # Hex: nothing in it needs escaping in a URL.
  password="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  printf '%s\n' "$password" >"$password_file"
  printf 'postgres://stagecraft:%s@postgres:5432/stagecraft\n' "$password" >"$url_file"
  echo "postgres-secrets: made a new password in $password_file and the API's URL in $url_file" >&2
fi
echo "$password_file"
echo "$url_file"
