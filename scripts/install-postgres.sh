#!/usr/bin/env sh
# Installs what the API's PostgreSQL tests start their throw-away clusters from
# (packages/testkit/src/postgres.ts, `npm run test:postgres`): Debian's
# postgresql package, whose server binaries are /usr/lib/postgresql/<version>/bin.
# The cluster Debian's package creates and starts is stopped and kept from
# starting at boot: the tests run their own, on ports of their own.
# Does nothing when the binaries are there already; safe to re-run.
#
#   sudo scripts/install-postgres.sh     # or as root, e.g. in CI
set -eu
found="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -n "$found" ]; then
  echo "install-postgres: PostgreSQL's server binaries already at $(dirname "$found")" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-postgres: /usr/lib/postgresql/<version>/bin/initdb is missing and installing it needs root (apt-get install postgresql)" >&2
  exit 1
fi
echo "install-postgres: installing Debian's postgresql package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
# The package's own cluster is not the tests': stop it, where a service manager started it.
if command -v pg_lsclusters >/dev/null; then
  pg_lsclusters -h 2>/dev/null | while read -r version name _; do
    pg_ctlcluster "$version" "$name" stop 2>/dev/null || true
    echo manual >"/etc/postgresql/$version/$name/start.conf" 2>/dev/null || true
  done
fi
found="$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)"
echo "install-postgres: PostgreSQL's server binaries installed at $(dirname "$found")" >&2
