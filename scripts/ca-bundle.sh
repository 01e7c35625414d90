#!/usr/bin/env sh
# Prints the CA bundle that npm is given beside Node's own roots, for machines
# behind a TLS-intercepting proxy: STAGECRAFT_CA_BUNDLE when set, else the system
# bundle (/etc/ssl/certs/ca-certificates.crt) when this machine has one, else
# nothing: the default the tests' image builds use too (packages/testkit/src/ca-bundle.ts).
# Used by ./stagecraft (image builds and host npm), scripts/npm-with-ca.sh and
# the dev container's initialize step.
#
#   scripts/ca-bundle.sh          # the path, or no output; exit 1 if STAGECRAFT_CA_BUNDLE names no file
set -eu
if [ -n "${STAGECRAFT_CA_BUNDLE:-}" ]; then
  if [ ! -f "$STAGECRAFT_CA_BUNDLE" ]; then
    echo "ca-bundle: STAGECRAFT_CA_BUNDLE=$STAGECRAFT_CA_BUNDLE is not a file" >&2
    exit 1
  fi
  echo "$STAGECRAFT_CA_BUNDLE"
elif [ -s /etc/ssl/certs/ca-certificates.crt ]; then
  echo /etc/ssl/certs/ca-certificates.crt
fi
