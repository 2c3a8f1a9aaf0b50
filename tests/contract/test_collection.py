"""The repository builds into an installable homelab.stack collection whose playbooks and plugins resolve."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile

import pytest

from conftest import ROOT, tool


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    out = tmp_path_factory.mktemp("collection")
    subprocess.run([tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", str(out)],
                   cwd=ROOT, check=True, capture_output=True, text=True)
    tarballs = list(out.glob("homelab-stack-*.tar.gz"))
    assert len(tarballs) == 1
    path = tmp_path_factory.mktemp("collections")
    # Away from the repo's ansible.cfg, whose collections path already holds homelab.stack (the symlink).
    env = dict(os.environ, ANSIBLE_CONFIG=str(path / "none.cfg"), ANSIBLE_COLLECTIONS_PATH=str(path))
    subprocess.run([tool("ansible-galaxy"), "collection", "install", "--offline", "--force", "-p", str(path),
                    str(tarballs[0])], cwd=path, env=env, check=True, capture_output=True, text=True)
    return tarballs[0], path


def test_tarball_holds_no_local_state(installed):
    names = tarfile.open(installed[0]).getnames()
    for forbidden in (".venv", ".collections", ".lab", "build", ".cache", "artifacts"):
        assert not any(n == forbidden or n.startswith(forbidden + "/") for n in names), forbidden
    assert not any(os.path.basename(n) == "vault.yml" for n in names), "a vault file would ship"
    assert "playbooks/site.yml" in names and "plugins/action/k8s_render.py" in names


def test_installed_collection_runs_its_playbooks_by_name(installed, tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(installed[1]), ANSIBLE_ROLES_PATH=str(tmp_path),
               ANSIBLE_CONFIG=str(tmp_path / "none.cfg"))
    for playbook in ("homelab.stack.site", "homelab.stack.render"):
        result = subprocess.run([tool("ansible-playbook"), "-i", str(ROOT / "inventory" / "homelab"), "--syntax-check",
                                 playbook], cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    doc = subprocess.run([tool("ansible-doc"), "--json", "homelab.stack.k8s_render"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=False)
    assert doc.returncode == 0, doc.stderr
    described = json.loads(doc.stdout)["homelab.stack.k8s_render"]["doc"]
    assert described["short_description"].startswith("Render Kubernetes manifests")
