#!/usr/bin/env bash
# Runs npm with the CA bundle scripts/ca-bundle.sh names (as NODE_EXTRA_CA_CERTS,
# beside Node's own roots), so npm works behind a TLS-intercepting proxy whose CA
# the machine trusts. When npm still fails on the registry's certificate, ends with
# one line naming the variable to set. npm's exit status is kept.
#
#   scripts/npm-with-ca.sh ci --no-audit --no-fund
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# An explicit STAGECRAFT_CA_BUNDLE wins; else a NODE_EXTRA_CA_CERTS already set
# (the dev container sets one) is kept; else the system bundle, if any.
bundle="$("$here/ca-bundle.sh")"
if [ -n "${STAGECRAFT_CA_BUNDLE:-}" ] || [ -z "${NODE_EXTRA_CA_CERTS:-}" ]; then
  [ -z "$bundle" ] || export NODE_EXTRA_CA_CERTS="$bundle"
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# npm's standard error is shown as it comes and kept for the check below; its
# standard output is left alone (callers may read it).
exec 3>&1
set +e
npm "$@" 2>&1 1>&3 3>&- | tee "$log" >&2
status=${PIPESTATUS[0]}
set -e

# The OpenSSL verification errors a TLS-intercepting proxy's certificate causes.
code="$(grep -oE 'SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_UNTRUSTED' "$log" | head -1 || true)"
if [ "$status" -ne 0 ] && [ -n "$code" ]; then
  what="your TLS-intercepting proxy's CA bundle (a PEM file)"
  if [ "${STAGECRAFT_DEVCONTAINER:-}" = 1 ]; then
    todo="set STAGECRAFT_CA_BUNDLE on the host to $what, then rebuild the container"
  else
    todo="set STAGECRAFT_CA_BUNDLE to $what and run this again"
  fi
  echo "npm: the registry's TLS certificate is not trusted here ($code): $todo" >&2
fi
exit "$status"
