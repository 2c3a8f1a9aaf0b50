"""The upgrade version gate (roles/kube_upgrade/tasks/compare.yml): a downgrade and a skipped minor are refused
with the variable, the value and the fix; patch and next-minor upgrades pass. Runs on localhost only."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import ROOT, tool

PLAYBOOK = """---
- name: Gate
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Gate | compare
      ansible.builtin.include_role:
        name: homelab.stack.kube_upgrade
        tasks_from: compare
"""


def _gate(tmp_path, current, target):
    playbook = tmp_path / "gate.yml"
    playbook.write_text(PLAYBOOK, encoding="utf-8")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory",
               ANSIBLE_NOCOLOR="1", ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_LOCALHOST_WARNING="False")
    result = subprocess.run([tool("ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook),
                             "-e", "homelab_deploy_mode=render", "-e", f"kube_upgrade_current_version={current}",
                             "-e", f"kube_version={target}"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL, check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("current, target, says", [
    ("v1.31.13", "v1.31.14", "patch upgrade v1.31.13 -> v1.31.14"),
    ("v1.31.13", "v1.32.0", "minor upgrade v1.31.13 -> v1.32.0"),
    ("v1.31.13", "v1.31.13", "control plane already at v1.31.13"),
    ("v1.30.9", "v1.31.13", "minor upgrade v1.30.9 -> v1.31.13"),
])
def test_allowed(tmp_path, current, target, says):
    rc, output = _gate(tmp_path, current, target)
    assert rc == 0, output[-3000:]
    assert says in output


@pytest.mark.parametrize("current, target, says", [
    ("v1.31.13", "v1.33.0", "kube_version=v1.33.0 skips a minor release: the cluster runs v1.31.13"),
    ("v1.31.13", "v2.0.0", "kube_version=v2.0.0 skips a minor release"),
    ("v1.31.13", "v1.30.9", "kube_version=v1.30.9 is older than the running control plane (v1.31.13)"),
    ("v1.31.13", "v1.31.12", "kube_version=v1.31.12 is older than the running control plane (v1.31.13)"),
])
def test_refused(tmp_path, current, target, says):
    rc, output = _gate(tmp_path, current, target)
    assert rc == 2, output[-3000:]
    assert says in output, output[-3000:]
    assert "Fix:" in output
    if "skips" in says:
        assert "Fix: set kube_version to the latest v1.32.x" in output
