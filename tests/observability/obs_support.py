"""Helpers and fixtures of the observability and runtime-security tests (roles prometheus ... falco_talon).

They read what `make render` wrote under build/<env>/ and, where a variant is needed (no Slack webhook, a
verbose run, a rerun), render again into a temporary folder with HOMELAB_BUILD_DIR.
Test modules import the fixtures they use from here (a second conftest.py would shadow tests/conftest.py,
which every test folder imports as `conftest`).
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from conftest import ENVIRONMENTS, ROOT, build_dir, tool  # tests/conftest.py

FAKE_VAULT = ROOT / "tests" / "fixtures" / "fake-vault.yml"
BUILD_ROOT = ROOT / "build"
COMPONENTS = ("prometheus", "grafana", "loki", "tempo", "alloy", "falco", "falco-talon")
# Role (tag) -> rendered component folder.
TAGS = {"prometheus": "prometheus", "grafana": "grafana", "loki": "loki", "tempo": "tempo", "alloy": "alloy",
        "falco": "falco", "falco_talon": "falco-talon"}


def system_tool(name: str) -> str:
    """Absolute path of promtool or amtool; fails (never skips) with the fix when the tool is missing."""
    path = shutil.which(name, path="/usr/bin:/usr/local/bin:" + os.environ.get("PATH", ""))
    if not path:
        pytest.fail(f"{name} is not installed: run `make deps` (Debian packages prometheus and "
                    f"prometheus-alertmanager provide promtool and amtool)", pytrace=False)
    return path


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, **kwargs)


def load_docs(path: Path):
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def values(env_dir: Path, component: str) -> dict:
    path = env_dir / "values" / f"{component}.yaml"
    assert path.is_file(), f"{path} is missing: the {component} role did not render its Helm values"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def manifests(env_dir: Path, component: str) -> list[dict]:
    folder = env_dir / "manifests" / component
    assert folder.is_dir(), f"{folder} is missing: the {component} role did not render its manifests"
    return [d for f in sorted(folder.glob("*.yaml")) for d in load_docs(f)]


def find(docs, kind, name):
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def render_command(out_dir: Path, *extra, tags="observability,security", verbose=False, check=False):
    """The ansible-playbook command rendering the homelab inventory into out_dir, and its environment."""
    command = [tool("ansible-playbook"), "-i", str(ROOT / "inventory" / "homelab"),
               str(ROOT / "playbooks" / "render.yml"), "-e", f"@{FAKE_VAULT}", "--tags", tags, *extra]
    if verbose:
        command.append("-v")
    if check:
        command += ["--check", "--diff"]
    env = {"HOMELAB_BUILD_DIR": str(out_dir), "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
           "ANSIBLE_CACHE_PLUGIN": "memory", "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
    return command, env


def render(out_dir: Path, *extra, tags="observability,security", verbose=False, check=False):
    """Render the homelab inventory into out_dir (HOMELAB_BUILD_DIR) and return the completed process."""
    command, env = render_command(out_dir, *extra, tags=tags, verbose=verbose, check=check)
    result = run(command, cwd=ROOT, env=dict(os.environ) | env)
    assert result.returncode == 0, f"render failed ({' '.join(command)}):\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    return result


def recap_changed(output: str) -> dict[str, int]:
    """changed= count per host from the PLAY RECAP."""
    counts = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[1] == ":" and any(p.startswith("changed=") for p in parts):
            counts[parts[0]] = int(next(p for p in parts if p.startswith("changed=")).split("=")[1])
    assert counts, "no PLAY RECAP in the output"
    return counts


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def env_dir(request) -> Path:
    return build_dir(request.param)


@pytest.fixture(scope="session")
def homelab_dir() -> Path:
    """build/homelab: rendered with tests/fixtures/fake-vault.yml, so the Slack webhook is set."""
    return build_dir("homelab")


@pytest.fixture(scope="session")
def fake_secrets() -> dict[str, str]:
    secrets = yaml.safe_load(FAKE_VAULT.read_text(encoding="utf-8"))
    assert secrets["vault_slack_webhook_url"] and secrets["vault_grafana_admin_password"]
    return {k: str(v) for k, v in secrets.items()}


@functools.lru_cache(maxsize=None)
def rendered_once(name: str, *extra: str) -> Path:
    """Render once per test session, whichever test modules import the fixture using it."""
    out = Path(tempfile.mkdtemp(prefix=f"homelab-{name}-"))
    atexit.register(shutil.rmtree, out, True)
    render(out, *extra)
    return out


@pytest.fixture(scope="session")
def no_webhook_dir() -> Path:
    """The observability and security layers rendered with vault_slack_webhook_url empty."""
    return rendered_once("no-webhook", "-e", "vault_slack_webhook_url=")
