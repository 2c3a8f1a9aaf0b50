"""Drift on a converged node is found and fixed: the host-layer roles read the node's state in one pass and run
their modules only where it differs, so this proves the read misses none of what they manage."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
NODE = "k8s-worker1"

# One change per kind of state the roles manage, each undone by a different task.
DRIFT = {
    "OS prep | sysctls applied where the kernel is the node's own": "sysctl -qw net.ipv4.ip_forward=0",
    "OS prep | kernel modules loaded at boot": "chmod 0600 /etc/modules-load.d/kubernetes.conf",
    # /etc/hosts is a bind mount: rewrite it in place, dropping one line of the managed block (space-separated;
    # the lines Docker wrote use a tab).
    "OS prep | /etc/hosts block with every node":
        "grep -v '^[0-9.]* k8s-worker2$' /etc/hosts > /tmp/hosts && cat /tmp/hosts > /etc/hosts",
    "OS prep | packages every node needs": "dpkg --remove socat",
    "Containerd | config.toml": "echo '# drift' >> /etc/containerd/config.toml",
    "Containerd | service enabled and started": "systemctl stop containerd",
}


def _env():
    return dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


def _host_layer():
    command = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", INVENTORY, str(ROOT / "playbooks" / "host.yml")]
    result = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900, check=False)
    output = ANSI.sub("", result.stdout + result.stderr)
    assert result.returncode == 0, output[-4000:]
    return output


def _changed(output):
    return {host: int(changed) for host, changed in
            re.findall(r"^(k8s-\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0", output, re.M)}


def _changed_tasks(output, host):
    """Names of the tasks that reported `changed` for host."""
    names, current = set(), None
    for line in output.splitlines():
        task = re.match(r"^TASK \[(?:[\w.]+ : )?(.*?)\] \*+", line)
        if task:
            current = task.group(1)
        elif re.match(rf"^changed: \[{re.escape(host)}\]", line):
            names.add(current)
    return names


def test_drift_on_one_node_is_fixed_and_nothing_else_changes():
    script = " && ".join(DRIFT.values())
    subprocess.run([str(ROOT / ".venv" / "bin" / "ansible"), "-i", INVENTORY, NODE, "-b", "-m",
                    "ansible.builtin.shell", "-a", script], cwd=ROOT, env=_env(), capture_output=True, text=True,
                   timeout=300, check=True)
    output = _host_layer()
    changed = _changed(output)
    assert changed[NODE] > 0 and all(n == 0 for host, n in changed.items() if host != NODE), changed
    missed = set(DRIFT) - _changed_tasks(output, NODE)
    assert not missed, f"drift not fixed by {sorted(missed)}:\n{output[-4000:]}"
    # Fixed for good: the next run finds nothing to change.
    assert set(_changed(_host_layer()).values()) == {0}
