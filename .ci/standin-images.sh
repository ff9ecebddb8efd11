#!/usr/bin/env bash
# Stand-ins for the two base images compose.yaml and the Dockerfile name,
# for CI machines that cannot reach a container registry.
#
#   .ci/standin-images.sh build    pull each base image; make a stand-in only if that fails
#   .ci/standin-images.sh remove   remove the stand-ins (and their Debian base) this made
#
# THESE ARE STAND-INS, NOT THE REAL IMAGES. They are tagged with the real
# names so that the project's Dockerfile and compose.yaml build and run
# unchanged:
#
#   docker.io/denoland/deno:2.9.6   the official image's layout (debian.dockerfile
#                                   and _entry.sh of github.com/denoland/deno_docker):
#                                   user deno (uid 1993), DENO_DIR=/deno-dir/,
#                                   /usr/bin/deno, /tini, the entrypoint that
#                                   prefixes deno subcommands.
#                                   Differs: Debian bookworm from debootstrap instead
#                                   of debian:stable-slim; deno from the npm package
#                                   @deno/linux-<arch>-glibc@2.9.6; tini from Debian.
#   docker.io/library/redis:7-alpine  Debian bookworm's redis-server and redis-cli.
#                                   Differs: Debian instead of Alpine, Redis 7.0
#                                   instead of the latest 7.x, and protected mode is
#                                   turned off by the entrypoint (the official image
#                                   is compiled with it off).
#
# A machine that can pull uses the real images unchanged: `build` tries a pull
# first and makes nothing when it works, and an image already present (real
# or not) is left alone. Every image this script makes carries the label
# chat.standin, which is what `remove` removes; pulled images are kept, as
# any pull is. The Containerfiles and entrypoints are in .ci/standin/.
#
# Needs podman, debootstrap and npm, run as root. The Debian mirror is the
# first one in /etc/apt/sources.list*, or DEBIAN_MIRROR.
set -euo pipefail
cd "$(dirname "$0")/standin"

DENO_VERSION=2.9.6
DENO_IMAGE=docker.io/denoland/deno:$DENO_VERSION
REDIS_IMAGE=docker.io/library/redis:7-alpine
BASE_IMAGE=localhost/chat-standin-debian:bookworm
SUITE=bookworm

# True when the image is here or can be pulled now (a few seconds at most).
available() {
  podman image exists "$1" && return 0
  timeout 60 podman pull -q "$1" >/dev/null 2>&1
}

mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local found
  found=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -oE '(https?)://[^ ]+/debian/?( |$)' | grep -v security | head -n 1 | tr -d ' ' || true)
  echo "${found:-http://deb.debian.org/debian}"
}

# A minimal Debian root filesystem (with tini), imported as an image.
base_image() {
  podman image exists "$BASE_IMAGE" && return 0
  local rootfs
  rootfs=$(mktemp -d)
  echo "== debootstrap $SUITE from $(mirror)"
  debootstrap --variant=minbase --include=tini "$SUITE" "$rootfs" "$(mirror)" >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import --change 'LABEL chat.standin=debian' - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

build_deno() {
  local arch context
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) echo "no deno build for $(uname -m)" >&2; return 1 ;;
  esac
  context=$(mktemp -d)
  cp deno.Containerfile deno-entrypoint.sh "$context/"
  (cd "$context" && npm pack -q "@deno/linux-$arch-glibc@$DENO_VERSION" >/dev/null &&
    tar -xzf deno-linux-*.tgz --strip-components=1 package/deno && rm deno-linux-*.tgz)
  podman build -q --layers=false --format docker --build-arg "BASE=$BASE_IMAGE" -f deno.Containerfile \
    -t "$DENO_IMAGE" "$context" >/dev/null
  rm -rf "$context"
}

build_redis() {
  podman build -q --layers=false --format docker --build-arg "BASE=$BASE_IMAGE" -f redis.Containerfile \
    -t "$REDIS_IMAGE" . >/dev/null
}

case "${1:-build}" in
  build)
    for image in "$DENO_IMAGE" "$REDIS_IMAGE"; do
      if available "$image"; then
        echo "== $image: present or pulled, used as it is"
        continue
      fi
      echo "== $image: cannot be pulled; building a STAND-IN under its name"
      base_image
      if [ "$image" = "$DENO_IMAGE" ]; then build_deno; else build_redis; fi
    done
    ;;
  remove)
    # The stand-ins first, then the Debian base they are built on; an image
    # under these names without the label (a pulled one) stays.
    for image in "$DENO_IMAGE" "$REDIS_IMAGE" "$BASE_IMAGE"; do
      if podman image exists "$image" &&
        [ -n "$(podman image inspect --format '{{index .Labels "chat.standin"}}' "$image")" ]; then
        podman rmi -f "$image" >/dev/null
      fi
    done
    ;;
  *)
    echo "usage: $0 build|remove" >&2
    exit 2
    ;;
esac
