"""Every tag of the host layer runs alone on the converged nodes and changes nothing (the facts later roles
read are set under `tags: always`)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _run(tag):
    """ansible-playbook with molecule's environment (its ansible.cfg, roles and collections paths)."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    command = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", INVENTORY,
               str(ROOT / "playbooks" / "host.yml"), "--tags", tag]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    return result.returncode, ANSI.sub("", result.stdout + result.stderr)


@pytest.mark.parametrize("tag", ["os_prep", "containerd", "kube_packages", "host"])
def test_tag_runs_alone_and_changes_nothing(tag):
    returncode, output = _run(tag)
    assert returncode == 0, output[-4000:]
    recaps = re.findall(r"^(k8s-\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=0", output, re.M)
    assert sorted(r[0] for r in recaps) == ["k8s-cp", "k8s-worker1", "k8s-worker2"], output[-3000:]
    assert all(r[2] == "0" for r in recaps), output[-3000:]
    # Argument-spec validation runs under every tag: count the roles' own tasks only.
    tasks = re.findall(r"^TASK \[homelab\.stack\.(\w+) : (?!Validating arguments)", output, re.M)
    ran = {role for role in tasks if role in ("os_prep", "containerd", "kube_packages")}
    expected = {"os_prep", "containerd", "kube_packages"} if tag == "host" else {tag}
    # The host play checks the OS (os_prep's facts) before any role that changes a node, whichever tag selected it.
    assert ran - {"os_prep"} == expected - {"os_prep"}
    assert "OS prep | assert a supported operating system" in output


def test_kube_packages_says_render_only_in_one_line():
    returncode, output = _run("kube_packages")
    assert returncode == 0, output[-4000:]
    lines = [line for line in output.splitlines() if "kubeadm, kubelet and kubectl v1.31.13 are" in line]
    assert len(lines) == 1, output[-3000:]
    assert "render-only run (homelab_deploy_mode=render)" in lines[0]
    assert "control_plane and join roles write the kubeadm configuration and run no kubeadm" in lines[0]
