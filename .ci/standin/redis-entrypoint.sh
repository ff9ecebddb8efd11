#!/bin/sh
# The stand-in Redis image's entrypoint, as the official image's
# docker-entrypoint.sh behaves, plus protected mode off (see redis.Containerfile).
set -e

# A first argument that is an option or a .conf file is for redis-server.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = "redis-server" ]; then
  # Without a configuration file, protected mode off, as the official image
  # is built; given later, `--protected-mode yes` still wins.
  case "${2:-}" in
    *.conf) ;;
    *)
      shift
      set -- redis-server --protected-mode no "$@"
      ;;
  esac
  # Started as root: own the data directory, then run as the redis user.
  if [ "$(id -u)" = "0" ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
  fi
fi

um="$(umask)"
if [ "$um" = "0022" ]; then
  umask 0077
fi

exec "$@"
