#!/usr/bin/env sh
# Runs on the host before the dev container is built (devcontainer.json's
# initializeCommand): copies the CA bundle scripts/ca-bundle.sh names
# (STAGECRAFT_CA_BUNDLE, else the host's system bundle) to .tools/ca-bundle.crt,
# which docker-compose.devcontainer.yml hands to the image builds as the ca_bundle
# secret and to npm inside the container as NODE_EXTRA_CA_CERTS. So "Reopen in
# Container" works behind a TLS-intercepting proxy whose CA the host trusts.
# A copy, not a mount of the original: Compose needs a file that exists, whatever
# the host, and Docker Desktop shares only some host folders. Empty when the host
# has no bundle. Safe to re-run.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
bundle="$("$root/scripts/ca-bundle.sh")"
mkdir -p "$root/.tools"
if [ -n "$bundle" ]; then
  cp "$bundle" "$root/.tools/ca-bundle.crt.new"
  echo "devcontainer: npm in the container trusts $bundle (STAGECRAFT_CA_BUNDLE to change it)" >&2
else
  : >"$root/.tools/ca-bundle.crt.new"
  echo "devcontainer: no CA bundle on this host; behind a TLS-intercepting proxy set STAGECRAFT_CA_BUNDLE" >&2
fi
# Readable by the container's users whatever this host's umask.
chmod 644 "$root/.tools/ca-bundle.crt.new"
mv -f "$root/.tools/ca-bundle.crt.new" "$root/.tools/ca-bundle.crt"
