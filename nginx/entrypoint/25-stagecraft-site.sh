#!/bin/sh
# Checks the site's settings before nginx starts (the image's entrypoint runs it
# after 20-envsubst-on-templates.sh rendered 05-gateway-site.conf; a refusal here
# stops the container before that configuration is ever loaded). A bad value is one
# line on stderr naming the variable, and exit 78 (EX_CONFIG), as the API's and
# the sidecar's settings are.
#   GATEWAY_SITE            on (the default; empty is unset) or off: the page at /
#                           and the API reference at /docs, or the 404 in their place.
#   GATEWAY_PROMETHEUS_URL  empty, or an http(s) address the page links to as
#                           Prometheus's targets (docker-compose.yml sets it). It
#                           lands in a JSON string and an nginx map: no quote,
#                           backslash, dollar, space or control character.
set -eu

refuse() {
  echo "gateway: invalid configuration: $1" >&2
  exit 78
}

case "${GATEWAY_SITE:-}" in
  '' | on | off) ;;
  *) refuse "GATEWAY_SITE must be \"on\" or \"off\", got \"${GATEWAY_SITE}\"" ;;
esac

url="${GATEWAY_PROMETHEUS_URL:-}"
newline='
'
case "$url" in
  *"$newline"*) refuse "GATEWAY_PROMETHEUS_URL must be one line" ;;
esac
if [ -n "$url" ] && ! printf '%s' "$url" | grep -Eqx 'https?://([A-Za-z0-9.:@%_~-]+|\[[0-9A-Fa-f:.]+\](:[0-9]+)?)(/[A-Za-z0-9._~/%?=&#+,;:@!*()-]*)?'; then
  refuse "GATEWAY_PROMETHEUS_URL must be empty or an http:// or https:// address without quotes, spaces or \$, got \"$url\""
fi
