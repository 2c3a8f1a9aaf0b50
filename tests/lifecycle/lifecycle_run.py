"""Runs a lifecycle playbook against a copy of inventory/homelab without ever reaching a host.

Every host's connection is pointed at 127.0.0.1 port 9 (nothing listens there), so a playbook that wrongly goes
past its checks fails as unreachable instead of touching the seed's addresses; stdin is /dev/null, so a
confirmation prompt reads nothing, as in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import yaml

from conftest import ROOT, tool

FAKE_VAULT = ROOT / "tests" / "fixtures" / "fake-vault.yml"
NO_HOST = ["-e", "ansible_host=127.0.0.1", "-e", "ansible_port=9"]


def inventory(tmp_path, hosts=None):
    inv = tmp_path / "homelab"
    shutil.copytree(ROOT / "inventory" / "homelab", inv, symlinks=False,
                    ignore=shutil.ignore_patterns("artifacts", "vault.yml"))
    if hosts is not None:
        (inv / "hosts.yml").write_text("---\n" + yaml.safe_dump(hosts), encoding="utf-8")
    return inv


def run(tmp_path, playbook, extra_vars=None, args=(), hosts=None):
    command = [tool("ansible-playbook"), "-i", str(inventory(tmp_path, hosts)), str(ROOT / playbook),
               "-e", f"@{FAKE_VAULT}", "-e", "homelab_deploy_mode=render", *NO_HOST, *args]
    if extra_vars:
        path = tmp_path / "vars.yml"
        path.write_text(yaml.safe_dump(extra_vars), encoding="utf-8")
        command += ["-e", f"@{path}"]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory",
               ANSIBLE_NOCOLOR="1", ANSIBLE_TIMEOUT="5")
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL, check=False)
    return result, result.stdout + result.stderr
