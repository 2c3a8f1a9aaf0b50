"""On the converged nodes: `site.yml --check --diff`, and every tag of the README's table run alone, change
nothing and fail nowhere. Each run is a fresh ansible-playbook process with molecule's environment (its
ansible.cfg, memory fact cache, roles and collection paths, HOMELAB_BUILD_DIR) and the fact subset users gather,
so a tag that needs a fact another role sets, or a fact users do not gather, fails here."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"])
sys.path.insert(0, str(ROOT / "tools"))
from site_tags import readme_tags, site_roles  # noqa: E402
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
LOGS = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "runs"
NODES = ["k8s-cp", "k8s-worker1", "k8s-worker2"]
# Runs at once (they only read the nodes): the runs are CPU-bound on 2 cores, a third one fills the SSH waits.
PARALLEL = int(os.environ.get("SITE_PARALLEL_RUNS", "3"))

ANSI = re.compile(r"\x1b\[[0-9;]*m")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)"
                   r"\s+rescued=(\d+)\s+ignored=(\d+)", re.M)
ROLE_TASK = re.compile(r"^TASK \[homelab\.stack\.(\w+) : (?!Validating arguments)", re.M)
MISSING = re.compile(r"is undefined|has no attribute|undefined variable", re.I)


def playbook_roles() -> tuple[dict[str, list[str]], set[str]]:
    """tag -> the roles it selects, from the playbooks site.yml imports; and the roles of the controller plays."""
    selected: dict[str, list[str]] = {}
    for role in site_roles(ROOT):
        for tag in role["tags"]:
            selected.setdefault(tag, []).append(role["name"])
    return selected, {role["name"] for role in site_roles(ROOT) if role["controller"]}


TAGS = readme_tags(ROOT)
ROLES, CONTROLLER_ROLES = playbook_roles()
COMPONENTS = {role for tag, roles in ROLES.items() for role in roles if tag == role}
BUILD = os.environ["HOMELAB_BUILD_DIR"]
# `cilium: render-only, 1 file(s) under <build> (nothing applied)`: one line per rendered component.
RENDERED = re.compile(r"^(\S+): render-only, \d+ file\(s\) under (\S+) \(nothing applied\)$", re.M)
# Off in the seed's settings (cert_manager_enabled: false): its tag runs, it renders nothing.
DISABLED = {"cert_manager"}


def _project_gather_subset() -> str:
    """The fact subset users gather (the project's ansible.cfg; molecule's own ansible.cfg gathers everything)."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(ROOT / "ansible.cfg")
    return config.get("defaults", "gather_subset", fallback="all")


def _run(name: str, args: list[str]) -> tuple[int, str, float]:
    # The subset users gather, so a role reading a fact they do not gather fails here too (and runs are faster).
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_GATHER_SUBSET=_project_gather_subset())
    command = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", INVENTORY, str(ROOT / "site.yml"), *args]
    start = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200, check=False)
    output = ANSI.sub("", result.stdout + result.stderr)
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / f"{name}.log").write_text(output)
    return result.returncode, output, time.monotonic() - start


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[int, str, float]]:
    # The runs that touch the nodes most first, so the slowest does not start last.
    tags = sorted(TAGS, key=lambda tag: -len(set(ROLES[tag]) - CONTROLLER_ROLES))
    jobs = {"check-diff": ["--check", "--diff"], **{f"tag-{tag}": ["--tags", tag] for tag in tags}}
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = {name: pool.submit(_run, name, args) for name, args in jobs.items()}
        results = {name: future.result() for name, future in futures.items()}
    (LOGS / "timings.txt").write_text("".join(f"{results[n][2]:6.1f} s  {n}\n" for n in sorted(results)))
    return results


def _assert_no_change_no_failure(returncode: int, output: str) -> None:
    assert returncode == 0, output[-4000:]
    recaps = {m[0]: [int(n) for n in m[1:]] for m in RECAP.findall(output)}
    assert sorted(recaps) == NODES, output[-3000:]
    for node, (_ok, changed, unreachable, failed, _skipped, _rescued, ignored) in recaps.items():
        assert (changed, unreachable, failed, ignored) == (0, 0, 0, 0), f"{node}: {output[-3000:]}"
    assert not MISSING.search(output), MISSING.search(output)


def test_readme_tags_are_the_playbooks_tags():
    layers = ["host", "cluster", "platform", "delivery", "observability", "security"]
    assert sorted(TAGS) == sorted(ROLES), "README's tags table and the playbooks' tags differ"
    assert set(layers) <= set(TAGS)
    assert len(TAGS) == len(set(TAGS))


def test_check_diff_after_converge_changes_nothing(runs):
    returncode, output, _ = runs["check-diff"]
    _assert_no_change_no_failure(returncode, output)
    # Check mode really visited every layer: the roles' own tasks ran, not only preflight.
    assert set(ROLE_TASK.findall(output.split("PLAY [Host", 1)[1])) >= COMPONENTS


@pytest.mark.parametrize("tag", TAGS)
def test_tag_alone_succeeds_and_changes_nothing(runs, tag):
    returncode, output, _ = runs[f"tag-{tag}"]
    _assert_no_change_no_failure(returncode, output)
    # The tag selected its roles and no other (os_prep's OS check runs before any node-changing role), and
    # preflight checked the inputs of those roles only.
    preflight, after_preflight = output.split("PLAY [Host", 1)
    assert set(ROLE_TASK.findall(preflight)) & COMPONENTS <= set(ROLES[tag]), preflight[-3000:]
    ran = set(ROLE_TASK.findall(after_preflight)) & COMPONENTS
    assert ran - {"os_prep"} == set(ROLES[tag]) - {"os_prep"}, after_preflight[-3000:]
    # Each controller role it selects says, in one line, that it only rendered, under this scenario's folder.
    rendered = RENDERED.findall(output)
    assert {folder for _, folder in rendered} <= {BUILD}, rendered
    components = [name.replace("-", "_") for name, _ in rendered]
    for role in set(ROLES[tag]) & CONTROLLER_ROLES - DISABLED:
        assert any(name.startswith(role) for name in components), (role, rendered)
    if not set(ROLES[tag]) & CONTROLLER_ROLES:
        assert rendered == []
