#!/usr/bin/env bash
# System packages the lab and the test gate need on the controller (Debian/Ubuntu). Instant when all are there.
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

# promtool and amtool come with prometheus and prometheus-alertmanager (tests check rules and routes);
# the shellcheck package lints the scripts.
packages=(docker.io debootstrap openssh-client iptables prometheus prometheus-alertmanager python3-venv shellcheck)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f '${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  say "system packages present (${#packages[@]})"
  exit 0
fi

if ! grep -qsE '^(ID|ID_LIKE)=.*(debian|ubuntu)' /etc/os-release; then
  die "needs Debian or Ubuntu (apt); install by hand: ${missing[*]}"
fi
need_root "installs: ${missing[*]}"

say "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# No recommends: prometheus would pull in exporters and web assets; the tests only need promtool and amtool.
apt-get install -qq -y --no-install-recommends "${missing[@]}" >/dev/null
say "installed ${#missing[@]} package(s)"
