#!/usr/bin/env bash
# make bench: converge and re-run timings of the local lab, written to build/bench.json and build/bench.md.
# Takes 30-45 minutes on 2 cores. Knobs (environment): BENCH_RUNS (3), BENCH_COLD_RUNS (3),
# BENCH_SKIP=cold,tags,ablation,render,plugins,scale (parts to leave out), BENCH_TAGS=a,b (only these tags),
# BENCH_KEEP=1 (the skipped parts keep their figures from the last build/bench.json).
# What each figure is: tools/bench_lab.py --help. Needs the node image (make image) and the lab's secrets; it
# takes the lab down and up again (3 nodes), grows it to 6 and 12 nodes, and leaves it converged on 3.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${LAB_VENV:-.venv}
export PATH="$PWD/$venv/bin:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
export ANSIBLE_VAULT_PASSWORD_FILE="${ANSIBLE_VAULT_PASSWORD_FILE:-$PWD/.lab/vault-password}"
[ -s "$ANSIBLE_VAULT_PASSWORD_FILE" ] || lab/secrets.sh
# Where the custom-resource schemas are is decided once, by the Makefile.
: "${HOMELAB_CRD_SCHEMAS:?is not set: run make bench, which sets it}"
if ! flock -n /tmp/homelab-bench.lock true; then
  echo "bench.sh: another make bench is running" >&2
  exit 1
fi
exec flock /tmp/homelab-bench.lock python tools/bench_lab.py "$@"
