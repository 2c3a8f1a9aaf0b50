"""Invalid inventories must be rejected by playbooks/preflight.yml, before any host is contacted.

Each tests/preflight/cases/<name>.yml describes one bad inventory as a change to inventory/homelab:
  description: one line
  hosts: {...}        # optional: replaces inventory/homelab/hosts.yml
  vars: {...}         # optional: overrides (extra vars)
  expect: [...]       # substrings that must all appear in the failure output (variable, value, fix)
  playbook: ...       # optional: the playbook run instead of playbooks/preflight.yml (lifecycle-*.yml cases)
  tags: a,b           # optional: run with --tags (only the selected roles' checks run)
Every host is pointed at 127.0.0.1:9 and stdin is /dev/null: a case wrongly accepted reaches no address and a
confirmation prompt reads nothing.
The valid inventories (lab and homelab) must pass the same playbook.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, tool

CASES = sorted((Path(__file__).parent / "cases").glob("*.yml"))
FAKE_VAULT = ROOT / "tests" / "fixtures" / "fake-vault.yml"


def _inventory(tmp_path, case):
    inventory = tmp_path / "homelab"
    shutil.copytree(ROOT / "inventory" / "homelab", inventory, symlinks=False,
                    ignore=shutil.ignore_patterns("artifacts", "vault.yml"))
    if case.get("hosts") is not None:
        (inventory / "hosts.yml").write_text("---\n" + yaml.safe_dump(case["hosts"]), encoding="utf-8")
    return inventory


def _run(inventory, extra_vars_file=None, playbook="playbooks/preflight.yml", tags=None):
    command = [tool("ansible-playbook"), "-i", str(inventory), str(ROOT / playbook),
               "-e", f"@{FAKE_VAULT}", "-e", "homelab_deploy_mode=render",
               "-e", "ansible_host=127.0.0.1", "-e", "ansible_port=9"]
    if extra_vars_file:
        command += ["-e", f"@{extra_vars_file}"]
    if tags:
        command += ["--tags", tags]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory",
               ANSIBLE_NOCOLOR="1")
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL, check=False)


@pytest.mark.parametrize("env", ["homelab"])
def test_valid_inventory_passes_preflight(tmp_path, env):
    result = _run(_inventory(tmp_path, {}))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize("case_file", CASES, ids=[c.stem for c in CASES])
def test_invalid_inventory_is_rejected(tmp_path, case_file):
    case = yaml.safe_load(case_file.read_text(encoding="utf-8"))
    assert case.get("expect"), f"{case_file.name}: list the expected message parts under expect"
    extra = None
    if case.get("vars"):
        extra = tmp_path / "vars.yml"
        extra.write_text(yaml.safe_dump(case["vars"]), encoding="utf-8")
    result = _run(_inventory(tmp_path, case), extra, case.get("playbook", "playbooks/preflight.yml"), case.get("tags"))
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"{case_file.name} was accepted: {case.get('description')}"
    for part in case["expect"]:
        assert part in output, f"{case_file.name}: {part!r} missing from the failure:\n{output[-3000:]}"
    assert "changed=" not in output or "changed=0" in output

