#!/usr/bin/env sh
# Makes the production API's bearer token once: .secrets/api-token (git-ignored),
# which docker-compose.prod.yml and docker-stack.yml hand to the API as a secret.
# Prints the file's path; an existing token is kept. Safe to re-run.
#
#   scripts/api-token.sh                        # make it (if missing), print the path
#   curl -H "Authorization: Bearer $(cat .secrets/api-token)" http://127.0.0.1:8080/api/v1/reports
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
file="${STAGECRAFT_API_TOKEN_FILE:-$root/.secrets/api-token}"
if [ ! -s "$file" ]; then
  dir="$(dirname "$file")"
  mkdir -p "$dir"
  # The folder keeps other users of this machine out; the file itself must be
  # readable by the API's uid (65532), because Compose mounts a file secret as it is.
  chmod 700 "$dir"
  umask 022
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file"
  echo >>"$file"
  echo "api-token: made a new token in $file" >&2
fi
echo "$file"
