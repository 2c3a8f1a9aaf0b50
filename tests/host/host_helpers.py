"""Helpers of the host-layer tests: run ansible-playbook against the repository's inventories, away from the
fact cache, and read what it rendered."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from conftest import ROOT, tool

FAKE_VAULT = ROOT / "tests" / "fixtures" / "fake-vault.yml"
LAB_VAULT_PASSWORD = ROOT / ".lab" / "vault-password"


def inventory_vars(env: str, name: str):
    """A variable as inventory/<env>/group_vars/all/*.yml sets it (None when unset)."""
    found = None
    for path in sorted((ROOT / "inventory" / env / "group_vars" / "all").glob("*.yml")):
        if path.name == "vault.yml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if name in data:
            found = data[name]
    return found


def role_default(role: str, name: str):
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))[name]


def hosts_of(inventory: Path) -> dict:
    """{group: {host: hostvars}} of an inventory's hosts.yml (groups with direct hosts only)."""
    data = yaml.safe_load((inventory / "hosts.yml").read_text(encoding="utf-8"))
    return {group: dict((spec or {}).get("hosts") or {})
            for group, spec in data["all"]["children"].items() if (spec or {}).get("hosts") is not None}


def copy_inventory(tmp_path: Path, env: str = "homelab", hosts: dict | None = None) -> Path:
    """A copy of inventory/<env> (no vault, no artifacts), with hosts.yml replaced when `hosts` is given."""
    inventory = tmp_path / env
    shutil.copytree(ROOT / "inventory" / env, inventory, symlinks=False,
                    ignore=shutil.ignore_patterns("artifacts", "vault.yml"))
    if hosts is not None:
        (inventory / "hosts.yml").write_text("---\n" + yaml.safe_dump(hosts), encoding="utf-8")
    return inventory


def run_playbook(playbook, inventory, tmp_path: Path, extra_vars: dict | None = None, args=(), env=None):
    """ansible-playbook with the repository's ansible.cfg, an in-memory fact cache and the right vault."""
    command = [tool("ansible-playbook"), "-i", str(inventory), str(playbook)]
    environment = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory",
                       ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    if Path(inventory).name == "lab" and Path(inventory).parent == ROOT / "inventory":
        if not LAB_VAULT_PASSWORD.is_file():
            raise RuntimeError(f"{LAB_VAULT_PASSWORD} is missing: run `make secrets` first")
        environment["ANSIBLE_VAULT_PASSWORD_FILE"] = str(LAB_VAULT_PASSWORD)
    else:
        command += ["-e", f"@{FAKE_VAULT}"]
    if extra_vars:
        path = tmp_path / f"extra-{len(list(tmp_path.glob('extra-*.json')))}.json"
        path.write_text(json.dumps(extra_vars), encoding="utf-8")
        command += ["-e", f"@{path}"]
    environment.update(env or {})
    return subprocess.run(command + list(args), cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=600, check=False)


def render_kubeadm(inventory, tmp_path: Path, extra_vars: dict | None = None, build: Path | None = None) -> Path:
    """Run the kubeadm play of playbooks/render.yml (tag control_plane) into a fresh build folder."""
    build = build or tmp_path / "build"
    result = run_playbook(ROOT / "playbooks" / "render.yml", inventory, tmp_path, extra_vars,
                          args=["--tags", "control_plane"], env={"HOMELAB_BUILD_DIR": str(build)})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return build


def documents(path: Path) -> dict:
    """{kind: document} of a rendered multi-document YAML file (each kind once)."""
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    kinds = [d["kind"] for d in docs]
    assert len(kinds) == len(set(kinds)), f"{path}: a kind appears twice: {kinds}"
    return {d["kind"]: d for d in docs}
