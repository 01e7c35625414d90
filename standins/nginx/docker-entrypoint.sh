#!/bin/sh
# Stand-in entrypoint: runs /docker-entrypoint.d/*.sh like upstream's, then the command.
# Unlike upstream's it does not render /etc/nginx/templates.
set -e
if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ]; then
  for f in /docker-entrypoint.d/*.sh; do
    [ -x "$f" ] && "$f"
  done
fi
exec "$@"
