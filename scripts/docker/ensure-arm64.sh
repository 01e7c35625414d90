#!/usr/bin/env bash
# Lets this amd64 machine run linux/arm64 containers and image builds, through
# QEMU user-mode emulation: the kernel's binfmt_misc hands every aarch64 ELF to
# qemu-aarch64, registered with the fix-binary flag (F), so the interpreter is
# opened once here and works inside containers, whose file systems lack it.
# Only the arm64 proofs need this (e2e/arm64.test.ts, the bench's arm64 section,
# ./stagecraft test); ./stagecraft up never calls it.
#
#   sudo scripts/docker/ensure-arm64.sh     # or as root, e.g. in CI
#
# Mounts binfmt_misc when it is not mounted, installs Debian's qemu-user-static
# and binfmt-support when qemu-aarch64 is not registered, then checks that an
# arm64 program runs. Does nothing when that already holds; safe to re-run.
# Needs root only for what it has to change.
set -euo pipefail

BINFMT=/proc/sys/fs/binfmt_misc
ENTRY="$BINFMT/qemu-aarch64"

log() { echo "ensure-arm64: $*" >&2; }
# Registered, enabled, and with F: without F a container could not find the interpreter.
registered() { [ -r "$ENTRY" ] && grep -qx enabled "$ENTRY" && grep -q '^flags: .*F' "$ENTRY"; }
need_root() {
  [ "$(id -u)" = 0 ] || {
    log "$1 needs root (run: sudo scripts/docker/ensure-arm64.sh)"
    exit 1
  }
}

if ! registered; then
  if [ ! -e "$BINFMT/register" ]; then
    need_root "mounting binfmt_misc"
    log "mounting binfmt_misc on $BINFMT"
    mount -t binfmt_misc binfmt_misc "$BINFMT"
  fi
  if ! registered; then
    need_root "installing qemu-user-static and binfmt-support"
    command -v apt-get >/dev/null || {
      log "qemu-aarch64 is not registered and there is no apt-get to install qemu-user-static"
      exit 1
    }
    log "installing Debian's qemu-user-static and binfmt-support (registers qemu-aarch64, flags F)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null
    # binfmt-support registers at install; where its service did not run (a container), import now.
    registered || update-binfmts --import qemu-aarch64 >/dev/null 2>&1 || true
  fi
  registered || {
    log "qemu-aarch64 is still not registered with flags F: see $ENTRY"
    exit 1
  }
fi
log "qemu-aarch64 registered ($(grep '^interpreter' "$ENTRY" | cut -d' ' -f2), $(grep '^flags' "$ENTRY"))"
