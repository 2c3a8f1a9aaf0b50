"""Helpers for the platform layer's tests: render into a temporary build folder, read and validate output."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

from conftest import ROOT, tool

FAKE_VAULT = ROOT / "tests" / "fixtures" / "fake-vault.yml"
# Every file the platform roles write, per component folder (values/<name>.yaml, manifests/<name>/).
VALUES = ("cilium", "metallb", "istio-base", "istiod", "istio-ingressgateway", "kiali", "longhorn", "cert-manager")
MANIFESTS = ("metallb", "istio", "longhorn", "cert-manager")


def render(build_dir: Path, *args: str, inventory: str = "homelab", check: bool = True):
    """Run playbooks/render.yml for inventory/<inventory> into build_dir; extra args are passed as given."""
    command = [tool("ansible-playbook"), "-i", str(ROOT / "inventory" / inventory),
               str(ROOT / "playbooks" / "render.yml"), "-e", f"@{FAKE_VAULT}", *args]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory",
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", HOMELAB_BUILD_DIR=str(build_dir))
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    if check:
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result


def recap_changed(output: str) -> dict:
    """{host: changed count} from a PLAY RECAP."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", output, re.M)}


def docs(path: Path) -> list:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def values(build: Path, component: str) -> dict:
    return docs(build / "values" / f"{component}.yaml")[0]


def manifests(build: Path, component: str) -> list:
    folder = build / "manifests" / component
    return [d for f in sorted(folder.glob("*.yaml")) for d in docs(f)]


def find(documents, kind, name, namespace=None):
    found = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name
             and (namespace is None or d["metadata"].get("namespace") == namespace)]
    assert len(found) == 1, f"expected one {kind} {namespace}/{name}, found {len(found)}"
    return found[0]


def platform_files(build: Path) -> list:
    """Every file of the platform components under a build folder, relative paths."""
    files = [build / "values" / f"{c}.yaml" for c in VALUES]
    files += [f for c in MANIFESTS for f in sorted((build / "manifests" / c).glob("*.yaml"))]
    return sorted(str(f.relative_to(build)) for f in files if f.is_file())


def make_validator(crd_location: str):
    """tools/k8s_validate.Validator over the shared CRD schemas plus the project's schemas/ (cert-manager)."""
    import k8s_validate

    return k8s_validate.Validator("1.31", f"{crd_location} {ROOT / 'schemas'}")


def validate_tree(validator, build: Path) -> tuple[int, list]:
    """Validate every platform file under build; return (documents checked, failures)."""
    count, failures = 0, []
    for relative in platform_files(build):
        for label, errors in validator.validate_file(build / relative):
            count += 1
            if errors:
                failures.append(f"{label}: {errors[:3]}")
    return count, failures
