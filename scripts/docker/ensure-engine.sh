#!/usr/bin/env bash
# Makes sure a Docker engine with Compose v2 and Buildx answers on this machine.
# Where one already answers it does nothing. Otherwise (a new Debian machine with
# only the docker client) it installs, from Debian's archive: runc, tini and
# iptables from bookworm, and docker.io (engine 26), containerd, the Compose and
# Buildx CLI plugins from trixie; then starts dockerd in the background with its
# log in /var/log/stagecraft-dockerd.log. Needs root. Safe to re-run.
set -euo pipefail

log() { echo "ensure-engine: $*" >&2; }

engine_answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
plugins_present() { docker compose version >/dev/null 2>&1 && docker buildx version >/dev/null 2>&1; }

if engine_answers && plugins_present; then
  log "engine $(docker version --format '{{.Server.Version}}') with compose and buildx already running"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  log "no usable Docker engine, and installing one needs root" && exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! plugins_present; then
  log "installing the engine and plugins from Debian's archive"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends tini iptables runc ca-certificates >/dev/null
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists" "$work/archives/partial"
  echo "deb http://deb.debian.org/debian trixie main" > "$work/trixie.list"
  # A separate list and state directory: the machine's own package lists stay as they are.
  apt_trixie=(-o "Dir::Etc::sourcelist=$work/trixie.list" -o Dir::Etc::sourceparts=/dev/null
    -o "Dir::State::lists=$work/lists" -o "Dir::Cache::archives=$work/archives")
  apt-get "${apt_trixie[@]}" update -qq
  (cd "$work" && apt-get "${apt_trixie[@]}" download docker.io containerd docker-compose docker-buildx >/dev/null)
  # Only libc6 >= 2.34 is needed; tini comes from bookworm above (trixie's needs a newer libc).
  dpkg -i --force-depends "$work"/*.deb >/dev/null || true
  dpkg --configure -a --force-depends >/dev/null 2>&1 || true
  # The docker.io package puts its client in /usr/bin; a pre-installed client may shadow it.
  for plugin in docker-compose docker-buildx; do
    [ -x "/usr/libexec/docker/cli-plugins/$plugin" ] || { log "missing CLI plugin $plugin after install"; exit 1; }
  done
  mkdir -p /usr/local/lib/docker/cli-plugins
  ln -sf /usr/libexec/docker/cli-plugins/docker-compose /usr/local/lib/docker/cli-plugins/docker-compose
  ln -sf /usr/libexec/docker/cli-plugins/docker-buildx /usr/local/lib/docker/cli-plugins/docker-buildx
fi

if ! engine_answers; then
  log "starting dockerd (log: /var/log/stagecraft-dockerd.log)"
  nohup dockerd >/var/log/stagecraft-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    engine_answers && break
    sleep 1
  done
  engine_answers || { log "dockerd did not answer within 60 s; see /var/log/stagecraft-dockerd.log"; tail -20 /var/log/stagecraft-dockerd.log >&2; exit 1; }
fi
plugins_present || { log "docker compose / docker buildx not found by the client"; exit 1; }
log "engine $(docker version --format '{{.Server.Version}}'), $(docker compose version --short 2>/dev/null | sed 's/^/compose /'), $(docker buildx version | awk '{print "buildx " $2}')"
