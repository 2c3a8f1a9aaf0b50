#!/usr/bin/env bash
# The lab node image, built locally (no registry): debootstrap minbase bookworm from the host's mirror, made
# into a bare systemd host by lab/node/setup.sh, imported into Docker. Tagged with a hash of its inputs:
# a second call finds the tag and returns at once.
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

packages=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,iproute2,procps,kmod,openssh-server,ca-certificates
packages+=,gnupg,curl,iptables
# Image config debootstrap cannot set: the signal systemd stops on, and systemd as PID 1.
dockerfile=$'STOPSIGNAL SIGRTMIN+3\nCMD ["/sbin/init"]'

command -v debootstrap >/dev/null || die "debootstrap is not installed: run lab/deps.sh (make deps)"
docker info >/dev/null 2>&1 || die "no Docker engine answers: run lab/docker.sh (make docker)"
load_mirror

# The mirror is part of the hash (it is written into the image) but never printed into a committed file.
hash=$(
  {
    printf '%s\n' "$packages" "$dockerfile" "$LAB_MIRROR_URL" "$LAB_MIRROR_SUITES" "$LAB_MIRROR_SECURITY_URL"
    cat "$0" "$LAB_DIR"/node/*
  } | sha256sum | cut -c1-12
)
tag=$LAB_IMAGE:$hash

if docker image inspect "$tag" >/dev/null 2>&1; then
  docker tag "$tag" "$LAB_IMAGE:latest"
  say "$tag is up to date (= $LAB_IMAGE:latest)"
  exit 0
fi

need_root "runs debootstrap and chroot"
suite=${LAB_MIRROR_SUITES%% *}
work=$(mktemp -d /var/tmp/homelab-node.XXXXXX)
rootfs=$work/rootfs
cleanup() { rm -rf --one-file-system "$work"; }
trap cleanup EXIT
start=$SECONDS

say "building $tag: debootstrap $suite (minbase) from the host's mirror"
if ! debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$LAB_MIRROR_URL" \
  >"$work/debootstrap.log" 2>&1; then
  tail -n 20 "$work/debootstrap.log" >&2
  die "debootstrap failed (last lines above)"
fi

cp -r "$LAB_DIR/node" "$rootfs/tmp/node"
if ! MIRROR_URL=$LAB_MIRROR_URL MIRROR_SUITES=$LAB_MIRROR_SUITES MIRROR_SECURITY_URL=$LAB_MIRROR_SECURITY_URL \
  chroot "$rootfs" /bin/bash /tmp/node/setup.sh >"$work/setup.log" 2>&1; then
  tail -n 20 "$work/setup.log" >&2
  die "node setup in the chroot failed (last lines above)"
fi

say "importing into Docker"
tar --numeric-owner --xattrs -C "$rootfs" -c . | docker import - "$LAB_IMAGE:rootfs-$hash" >/dev/null
# The legacy builder works with both Debian's docker 20.10 CLI and newer CLIs that lack buildx.
printf 'FROM %s\n%s\n' "$LAB_IMAGE:rootfs-$hash" "$dockerfile" |
  DOCKER_BUILDKIT=0 docker build --quiet -t "$tag" -t "$LAB_IMAGE:latest" - >/dev/null 2>"$work/build.log" || {
  cat "$work/build.log" >&2
  die "docker build of the image config layer failed"
}
docker rmi "$LAB_IMAGE:rootfs-$hash" >/dev/null

# Older builds are only dead weight; images still used by a container stay (rmi refuses them).
docker image ls "$LAB_IMAGE" --format '{{.Repository}}:{{.Tag}}' |
  grep -vxF -e "$tag" -e "$LAB_IMAGE:latest" | xargs -r docker rmi >/dev/null 2>&1 || true

size=$(docker image inspect "$tag" --format '{{.Size}}')
say "built $tag in $((SECONDS - start)) s ($((size / 1000000)) MB)"
