#!/usr/bin/env sh
# Installs the browser the site's end-to-end test drives (e2e/site.test.ts):
# Debian's chromium package, at /usr/bin/chromium. playwright-core downloads no
# browser of its own; this machine's only sources are Debian's archive and npm.
# Does nothing when /usr/bin/chromium is there already; safe to re-run.
#
#   sudo scripts/install-browser.sh     # or as root, e.g. in CI
set -eu
if [ -x /usr/bin/chromium ]; then
  echo "install-browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) already at /usr/bin/chromium" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-browser: /usr/bin/chromium is missing and installing it needs root (apt-get install chromium)" >&2
  exit 1
fi
echo "install-browser: installing Debian's chromium package" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "install-browser: $(/usr/bin/chromium --version) installed at /usr/bin/chromium" >&2
