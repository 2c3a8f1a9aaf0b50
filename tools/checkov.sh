#!/usr/bin/env bash
# Security scan of rendered Kubernetes manifests with checkov, from its own virtualenv.
#
#   tools/checkov.sh [checkov arguments...]     e.g. tools/checkov.sh -d build/lab/gitops -o json
#
# The first call creates .venv-checkov from requirements-checkov.txt (checkov pins libraries that conflict with
# requirements.txt, so it never joins .venv). The venv is rebuilt when requirements-checkov.txt changes.
# HOMELAB_CHECKOV_VENV overrides the venv location. Output and exit code are checkov's own.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${HOMELAB_CHECKOV_VENV:-$ROOT/.venv-checkov}"
REQUIREMENTS="$ROOT/requirements-checkov.txt"
STAMP="$VENV/.requirements.sha256"
PYTHON="${HOMELAB_CHECKOV_PYTHON:-python3}"

wanted="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/checkov" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$wanted" ]; then
  echo "checkov.sh: installing $(grep -E '^checkov==' "$REQUIREMENTS") into $VENV" >&2
  start=$SECONDS
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS" >"$VENV/install.log" 2>&1; then
    cat "$VENV/install.log" >&2
    echo "checkov.sh: pip install failed (log: $VENV/install.log)" >&2
    exit 1
  fi
  echo "$wanted" > "$STAMP"
  echo "checkov.sh: installed in $((SECONDS - start)) s" >&2
fi
# No telemetry, no update check, no download of external checks: the scan must work offline.
export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false LOG_LEVEL="${LOG_LEVEL:-WARNING}"
exec "$VENV/bin/checkov" --skip-download "$@"
