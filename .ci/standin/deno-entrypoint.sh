#!/bin/sh
# The stand-in deno image's entrypoint, as the official image's _entry.sh
# behaves: a first argument that is an option or a deno subcommand runs deno
# with the arguments; anything else is run as it is.
set -e

if [ "$1" != "${1#-}" ]; then
  exec deno "$@"
fi

case "$1" in
  bench | bundle | cache | check | compile | completions | coverage | doc | eval | fmt | help | info | init | install | jupyter | lint | lsp | outdated | publish | remove | repl | run | serve | task | test | types | uninstall | upgrade | add)
    exec deno "$@"
    ;;
esac

exec "$@"
