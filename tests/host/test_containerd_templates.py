"""The containerd role's templates rendered by Ansible with the role defaults and the inventory, then parsed:
config.toml as TOML (SystemdCgroup, pinned sandbox image, mirrors via config_path), hosts.toml, crictl.yaml."""

from __future__ import annotations

import tomllib

import pytest
import yaml

from conftest import ROOT
from host_helpers import inventory_vars, run_playbook

CRI = "io.containerd.grpc.v1.cri"

PLAYBOOK = """---
- name: Render the containerd templates
  hosts: k8s-cp
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
    ansible_become: false
  tasks:
    - name: Load the role defaults (its preflight also validates the inputs)
      ansible.builtin.include_role:
        name: homelab.stack.containerd
        tasks_from: preflight
        public: true
    - name: Render
      ansible.builtin.template:
        src: "{root}/roles/containerd/templates/{{{{ item }}}}.j2"
        dest: "{out}/{{{{ item }}}}"
        mode: "0644"
      loop: [config.toml, crictl.yaml]
    - name: Render hosts.toml per mirrored registry
      ansible.builtin.template:
        src: "{root}/roles/containerd/templates/hosts.toml.j2"
        dest: "{out}/hosts-{{{{ containerd_registry }}}}.toml"
        mode: "0644"
      loop: "{{{{ containerd_registry_mirrors | list }}}}"
      loop_control:
        loop_var: containerd_registry
"""


def _render(tmp_path, extra=None):
    out = tmp_path / "out"
    out.mkdir()
    playbook = tmp_path / "render-containerd.yml"
    playbook.write_text(PLAYBOOK.format(root=ROOT, out=out), encoding="utf-8")
    result = run_playbook(playbook, ROOT / "inventory" / "homelab", tmp_path,
                          dict({"homelab_deploy_mode": "render"}, **(extra or {})))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def default_out(tmp_path_factory):
    return _render(tmp_path_factory.mktemp("containerd"))


def test_config_toml_for_kubelet(default_out):
    config = tomllib.loads((default_out / "config.toml").read_text(encoding="utf-8"))
    assert config["version"] == 2
    cri = config["plugins"][CRI]
    runc = cri["containerd"]["runtimes"]["runc"]
    assert runc["runtime_type"] == "io.containerd.runc.v2"
    assert runc["options"]["SystemdCgroup"] is True
    assert cri["containerd"]["default_runtime_name"] == "runc"
    # The pin of inventory/homelab/group_vars/all/versions.yml wins over the role default (the same here).
    assert cri["sandbox_image"] == inventory_vars("homelab", "containerd_sandbox_image") == "registry.k8s.io/pause:3.10"
    assert cri["registry"] == {"config_path": "/etc/containerd/certs.d"}
    assert cri["cni"] == {"bin_dir": "/opt/cni/bin", "conf_dir": "/etc/cni/net.d"}
    assert not list(default_out.glob("hosts-*.toml"))


def test_crictl_points_at_the_containerd_socket(default_out):
    crictl = yaml.safe_load((default_out / "crictl.yaml").read_text(encoding="utf-8"))
    assert crictl["runtime-endpoint"] == crictl["image-endpoint"] == "unix:///run/containerd/containerd.sock"
    assert crictl["timeout"] == 10


def test_sandbox_image_and_mirrors_follow_the_variables(tmp_path):
    out = _render(tmp_path, {
        "containerd_sandbox_image": "mirror.lan:5000/pause:3.10",
        "containerd_registry_mirrors": {"docker.io": ["https://mirror.lan:5000", "http://cache.lan"],
                                        "ghcr.io": ["https://mirror.lan:5001"]}})
    config = tomllib.loads((out / "config.toml").read_text(encoding="utf-8"))
    assert config["plugins"][CRI]["sandbox_image"] == "mirror.lan:5000/pause:3.10"
    docker = tomllib.loads((out / "hosts-docker.io.toml").read_text(encoding="utf-8"))
    assert docker["server"] == "https://registry-1.docker.io"
    assert list(docker["host"]) == ["https://mirror.lan:5000", "http://cache.lan"]
    assert all(h["capabilities"] == ["pull", "resolve"] for h in docker["host"].values())
    ghcr = tomllib.loads((out / "hosts-ghcr.io.toml").read_text(encoding="utf-8"))
    assert ghcr["server"] == "https://ghcr.io"
    assert list(ghcr["host"]) == ["https://mirror.lan:5001"]
