# shellcheck shell=bash disable=SC2034  # the names below are used by the scripts that source this file
# Sourced by the lab scripts: one place for paths, messages and the shared names of the lab.

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_DIR=$LAB_ROOT/lab
LAB_STATE=$LAB_ROOT/.lab
LAB_VENV=${LAB_VENV:-$LAB_ROOT/.venv}
# Every network of the project (lab and molecule scenarios) lives in here; the egress guard keys on it.
LAB_SUPERNET=172.30.0.0/16
LAB_IMAGE=homelab-node
LAB_SSH_KEY=$LAB_STATE/ssh/id_ed25519

say() { printf '%s: %s\n' "${0##*/}" "$*"; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" -eq 0 ] || die "run as root (it $1)"
}

# The mirror's shell assignments (LAB_MIRROR_*), computed from the host's apt sources at run time.
load_mirror() {
  local assignments
  assignments=$("$LAB_DIR/mirror.sh") || die "cannot determine the Debian mirror (see above)"
  eval "$assignments"
}
