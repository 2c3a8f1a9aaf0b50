"""Helpers of the delivery-layer tests: the rendered blog system, its inventory, the fake vault, playbook runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from conftest import ROOT, build_dir, tool

ENVIRONMENTS = ("lab", "homelab")
GITOPS_DIR = "blog-system"
FAKE_VAULT = ROOT / "tests" / "fixtures" / "fake-vault.yml"
DELIVERY_VARS = ROOT / "inventory" / "homelab" / "group_vars" / "all" / "delivery.yml"


def load_yaml_docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def gitops_dir(env: str) -> Path:
    return build_dir(env) / "gitops" / GITOPS_DIR


def gitops_files(env: str) -> dict[str, list[dict]]:
    """File name -> documents of build/<env>/gitops/blog-system/."""
    folder = gitops_dir(env)
    assert folder.is_dir(), f"{folder} is missing: render first (make render)"
    return {p.name: load_yaml_docs(p) for p in sorted(folder.glob("*.yaml"))}


def gitops_docs(env: str) -> list[dict]:
    return [doc for docs in gitops_files(env).values() for doc in docs]


def find(docs, kind, name):
    """The one document of that kind and name; fails the test when absent or duplicated."""
    found = [d for d in docs if d.get("kind") == kind and d.get("metadata", {}).get("name") == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def pod_spec(doc):
    """The pod spec of a workload document (Rollout, Deployment, CronJob)."""
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def containers(doc, init=True):
    spec = pod_spec(doc)
    return (list(spec.get("initContainers") or []) if init else []) + list(spec["containers"])


def container(doc, name):
    found = [c for c in containers(doc) if c["name"] == name]
    assert len(found) == 1, f"{doc['kind']}/{doc['metadata']['name']} has no container {name}"
    return found[0]


def fake_secrets() -> list[str]:
    values = yaml.safe_load(FAKE_VAULT.read_text(encoding="utf-8"))
    secrets = [str(v) for k, v in values.items() if k.startswith("vault_") and v]
    assert len(secrets) >= 4, "the fake vault lost its secrets"
    return secrets


def inventory_vars() -> dict:
    return yaml.safe_load(DELIVERY_VARS.read_text(encoding="utf-8"))


def run_playbook(build: Path, *args: str, inventory: str = "homelab", check: bool = True):
    """ansible-playbook playbooks/render.yml against inventory/<inventory>, writing under `build`."""
    command = [tool("ansible-playbook"), "-i", str(ROOT / "inventory" / inventory),
               str(ROOT / "playbooks" / "render.yml"), "-e", f"@{FAKE_VAULT}", *args]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory",
               ANSIBLE_NOCOLOR="1", HOMELAB_BUILD_DIR=str(build))
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    if check:
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result


def recap_changed(output: str) -> int:
    """Sum of changed= over the PLAY RECAP lines."""
    total, seen = 0, False
    for line in output.splitlines():
        if " changed=" in line and " ok=" in line:
            seen = True
            total += int(line.split(" changed=")[1].split()[0])
    assert seen, "no PLAY RECAP in the output:\n" + output[-2000:]
    return total
