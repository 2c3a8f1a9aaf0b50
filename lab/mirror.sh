#!/usr/bin/env bash
# Prints `export LAB_MIRROR_*=...` for the Debian mirror this host's apt uses: the one place that knows it.
# Used by image.sh, lab.sh, egress.sh and, through `eval "$(lab/mirror.sh)"`, molecule. HOMELAB_MIRROR_URL=<url>
# overrides the apt sources (for a host whose apt does not use a Debian mirror).
#   LAB_MIRROR_URL, LAB_MIRROR_SUITES, LAB_MIRROR_SECURITY_URL (may be empty), LAB_MIRROR_HOST,
#   LAB_MIRROR_IP (the address nodes get in /etc/hosts), LAB_MIRROR_IPS (all of them, for the egress guard).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

parsed=$(python3 "$here/mirror.py") || exit 1
eval "$parsed"
# IPv4 only: the lab networks are IPv4. Sorted so every caller picks the same address for /etc/hosts.
ips=$(getent ahostsv4 "$LAB_MIRROR_HOST" | awk '{print $1}' | sort -u -V | tr '\n' ' ')
ips=${ips% }
if [ -z "$ips" ]; then
  echo "mirror: error: cannot resolve $LAB_MIRROR_HOST (getent ahostsv4)" >&2
  exit 1
fi

printf 'export %s=%q\n' \
  LAB_MIRROR_URL "$LAB_MIRROR_URL" LAB_MIRROR_SUITES "$LAB_MIRROR_SUITES" \
  LAB_MIRROR_SECURITY_URL "$LAB_MIRROR_SECURITY_URL" LAB_MIRROR_HOST "$LAB_MIRROR_HOST" \
  LAB_MIRROR_IP "${ips%% *}" LAB_MIRROR_IPS "$ips"
