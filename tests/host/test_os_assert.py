"""The supported-OS check of os_prep, run against fake facts (a tiny test-only module returns them as
ansible_facts, as setup would): unsupported releases fail first thing, before any change."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import ROOT
from host_helpers import run_playbook

FAKE_FACTS_MODULE = '''#!/usr/bin/python
# Test double of the setup module: returns the facts it is given (tests/host/test_os_assert.py).
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={"facts": {"type": "dict", "required": True}}, supports_check_mode=True)
    module.exit_json(changed=False, ansible_facts=module.params["facts"])


if __name__ == "__main__":
    main()
'''

# host: (distribution, version, major, os_family, supported)
RELEASES = {
    "debian12": ("Debian", "12.8", "12", "Debian", True),
    "ubuntu2204": ("Ubuntu", "22.04", "22", "Debian", True),
    "ubuntu2404": ("Ubuntu", "24.04", "24", "Debian", True),
    "debian11": ("Debian", "11.11", "11", "Debian", False),
    "ubuntu2004": ("Ubuntu", "20.04", "20", "Debian", False),
    "centos9": ("CentOS", "9", "9", "RedHat", False),
}

PLAYBOOK = """---
- name: Fake facts, then the supported-OS check of os_prep
  hosts: all
  gather_facts: false
  tasks:
    - name: Fake facts
      fake_facts:
        facts:
          distribution: "{{ fake[0] }}"
          distribution_version: "{{ fake[1] }}"
          distribution_major_version: "{{ fake[2] }}"
          os_family: "{{ fake[3] }}"
          virtualization_role: "{{ fake[4] }}"
          virtualization_type: "{{ fake[5] }}"
    - name: The check os_prep runs first, under every tag
      ansible.builtin.include_role:
        name: homelab.stack.os_prep
        tasks_from: facts
    - name: Report the container fact
      ansible.builtin.debug:
        msg: "in_container={{ os_prep_in_container }}"
"""


def _inventory(tmp_path, releases, virtualization=("host", "kvm")):
    hosts = {name: {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                    "ansible_become": False, "fake": list(spec[:4]) + list(virtualization)}
             for name, spec in releases.items()}
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump({"all": {"hosts": hosts}}), encoding="utf-8")
    return path


def _playbook(tmp_path, text):
    (tmp_path / "library").mkdir(exist_ok=True)
    (tmp_path / "library" / "fake_facts.py").write_text(FAKE_FACTS_MODULE, encoding="utf-8")
    path = tmp_path / "play.yml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("os-matrix")
    result = run_playbook(_playbook(tmp, PLAYBOOK), _inventory(tmp, RELEASES), tmp,
                          {"homelab_deploy_mode": "render"})
    return result.stdout + result.stderr


@pytest.mark.parametrize("host", [h for h, spec in RELEASES.items() if spec[4]])
def test_supported_release_passes(matrix, host):
    recap = re.search(rf"^{host}\s+:\s+ok=\d+\s+changed=0\s+unreachable=0\s+failed=0", matrix, re.M)
    assert recap, matrix[-3000:]
    assert re.search(rf"ok: \[{host}\] => .*\n?.*in_container=False", matrix), matrix[-3000:]


@pytest.mark.parametrize("host", [h for h, spec in RELEASES.items() if not spec[4]])
def test_unsupported_release_is_rejected_naming_value_and_fix(matrix, host):
    distribution, version = RELEASES[host][:2]
    assert re.search(rf"^{host}\s+:\s+ok=\d+\s+changed=0\s+unreachable=0\s+failed=1", matrix, re.M), matrix[-3000:]
    failure = next(line for line in matrix.splitlines() if line.startswith(f"fatal: [{host}]"))
    assert f"{host} runs {distribution} {version}, which is not in os_prep_supported_os" in failure
    assert "(Debian 12, Ubuntu 22.04, Ubuntu 24.04)" in failure
    assert "Fix: install one of those releases" in failure


def test_container_nodes_are_recognised(tmp_path):
    result = run_playbook(_playbook(tmp_path, PLAYBOOK), _inventory(tmp_path, {"debian12": RELEASES["debian12"]},
                                                                   ("guest", "docker")),
                          tmp_path, {"homelab_deploy_mode": "render"})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "in_container=True" in result.stdout


def test_the_whole_role_stops_at_the_check_before_any_change(tmp_path):
    """os_prep itself (not only its facts file), in check mode, on an unsupported release: the assert is the first
    os_prep task and nothing after it runs."""
    playbook = _playbook(tmp_path, PLAYBOOK.replace(
        "ansible.builtin.include_role:\n        name: homelab.stack.os_prep\n        tasks_from: facts",
        "ansible.builtin.include_role:\n        name: homelab.stack.os_prep"))
    result = run_playbook(playbook, _inventory(tmp_path, {"centos9": RELEASES["centos9"]}), tmp_path,
                          {"homelab_deploy_mode": "render"}, args=["--check"])
    output = result.stdout
    assert result.returncode != 0
    os_prep_tasks = [t for t in re.findall(r"^TASK \[homelab\.stack\.os_prep : (.+?)\] \*", output, re.M)
                     if not t.startswith("Validating arguments")]
    assert os_prep_tasks == ["OS prep | assert a supported operating system"], output[-3000:]
    assert "centos9 runs CentOS 9, which is not in os_prep_supported_os" in output


def test_the_check_is_imported_first_under_every_tag():
    main = yaml.safe_load((ROOT / "roles" / "os_prep" / "tasks" / "main.yml").read_text(encoding="utf-8"))
    facts = yaml.safe_load((ROOT / "roles" / "os_prep" / "tasks" / "facts.yml").read_text(encoding="utf-8"))
    assert main[0]["ansible.builtin.import_tasks"] == "facts.yml" and main[0]["tags"] == ["always"]
    assert "ansible.builtin.assert" in facts[0] and "supported operating system" in facts[0]["name"]
