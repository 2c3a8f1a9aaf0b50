#!/usr/bin/env bash
# Egress guard: containers on the project's networks (172.30.0.0/16) may talk to each other and to the Debian
# mirror on tcp 80/443, nothing else (no seed address, no public address). Rules live in DOCKER-USER, which
# dockerd evaluates before its own forwarding rules and never flushes. Idempotent; re-run when the mirror moves.
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

chain=HOMELAB-EGRESS
need_root "edits iptables"
iptables -S DOCKER-USER >/dev/null 2>&1 || die "no DOCKER-USER chain: is dockerd running with iptables enabled?"
load_mirror

# Each rule as it is given to iptables -A/-C; the final REJECT must stay last.
rules=("-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN" "-d $LAB_SUPERNET -j RETURN")
for ip in $LAB_MIRROR_IPS; do
  rules+=("-d $ip/32 -p tcp -m multiport --dports 80,443 -j RETURN")
done
# Rejected rather than silently dropped: a forbidden connection fails at once instead of hanging a test.
rules+=("-j REJECT --reject-with icmp-admin-prohibited")

in_place() {
  local rule count
  count=$(iptables -S "$chain" 2>/dev/null | grep -c '^-A' || true)
  [ "$count" -eq "${#rules[@]}" ] || return 1
  for rule in "${rules[@]}"; do
    # shellcheck disable=SC2086  # a rule is a list of words
    iptables -C "$chain" $rule 2>/dev/null || return 1
  done
}

if in_place; then
  state="in place"
else
  iptables -N "$chain" 2>/dev/null || iptables -F "$chain"
  for rule in "${rules[@]}"; do
    # shellcheck disable=SC2086
    iptables -A "$chain" $rule
  done
  state="installed"
fi
if ! iptables -C DOCKER-USER -s "$LAB_SUPERNET" -j "$chain" 2>/dev/null; then
  iptables -I DOCKER-USER 1 -s "$LAB_SUPERNET" -j "$chain"
  state="installed"
fi
say "egress guard $state: $LAB_SUPERNET -> itself, mirror ($LAB_MIRROR_IPS) tcp 80/443; rest rejected"
