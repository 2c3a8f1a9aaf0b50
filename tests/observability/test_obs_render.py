"""What the observability and security roles render: the kinds, schema validity, no secret anywhere,
reruns that change nothing, check mode, and every role's tag running alone."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from obs_support import (BUILD_ROOT, COMPONENTS, TAGS, env_dir, fake_secrets, load_docs, recap_changed,  # noqa: F401
                         render, render_command)

EXPECTED_KINDS = {
    "prometheus": {"PrometheusRule", "Service", "ConfigMap", "Deployment"},
    "grafana": {"Secret", "ConfigMap"},
    "tempo": {"Service"},
    "alloy": {"ConfigMap"},
    "falco": {"Namespace"},
}
# Secrets rendered only when vault_slack_webhook_url is set (build/homelab uses the fake vault, which sets it).
WEBHOOK_KINDS = {"prometheus": {"Secret"}, "falco": {"Secret"}}


def kinds(folder: Path):
    return {d["kind"] for f in folder.glob("*.yaml") for d in load_docs(f)}


def test_expected_kinds_per_component(env_dir):
    webhook = (env_dir / "manifests" / "prometheus" / "alertmanager-slack-secret.yaml").exists()
    for component, expected in EXPECTED_KINDS.items():
        want = expected | (WEBHOOK_KINDS.get(component, set()) if webhook else set())
        assert kinds(env_dir / "manifests" / component) == want, component
    for component in COMPONENTS:
        assert (env_dir / "values" / f"{component}.yaml").is_file(), f"no Helm values for {component}"
    assert not (env_dir / "manifests" / "loki").exists() and not (env_dir / "manifests" / "falco-talon").exists()


def test_homelab_build_has_the_webhook_secrets():
    homelab = BUILD_ROOT / "homelab"
    assert kinds(homelab / "manifests" / "prometheus") >= {"Secret"}
    assert kinds(homelab / "manifests" / "falco") == {"Namespace", "Secret"}


def test_rendered_documents_validate(env_dir, crd_location):
    from k8s_validate import Validator  # tools/, on sys.path through tests/conftest.py
    validator = Validator("1.31", crd_location)
    count = 0
    for component in EXPECTED_KINDS:
        for path in sorted((env_dir / "manifests" / component).glob("*.yaml")):
            for label, errors in validator.validate_file(path):
                count += 1
                assert not errors, f"{label}: {errors}"
    assert count >= 14


@pytest.fixture(scope="session")
def verbose_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("verbose")
    return out, render(out, verbose=True)


def _leaks(text, secrets):
    return sorted(name for name, value in secrets.items() if value in text)


def test_no_secret_in_any_rendered_file(verbose_run, fake_secrets):
    out, _ = verbose_run
    folders = [out] + [BUILD_ROOT / env for env in ("lab", "homelab")]
    checked = 0
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            leaks = _leaks(path.read_text(encoding="utf-8", errors="replace"), fake_secrets)
            assert not leaks, f"{path} contains the value of {leaks}"
            checked += 1
    assert checked >= 30
    # The Secrets are there, with their values redacted.
    secret = load_docs(out / "manifests" / "grafana" / "admin-secret.yaml")[0]
    assert secret["stringData"]["admin-password"].startswith("<redacted")


def test_no_secret_in_verbose_ansible_output(verbose_run, fake_secrets):
    _, result = verbose_run
    output = result.stdout + result.stderr
    assert "grafana: render-only" in output and "Grafana | render values and manifests" in output
    assert not _leaks(output, fake_secrets), f"ansible-playbook -v printed {_leaks(output, fake_secrets)}"


def test_rerun_changes_nothing(verbose_run):
    out, first = verbose_run
    assert recap_changed(first.stdout)["k8s-cp"] > 0, "the first render wrote nothing"
    before = {p: p.read_text(encoding="utf-8") for p in out.rglob("*.yaml")}
    second = render(out)
    assert recap_changed(second.stdout) == {host: 0 for host in recap_changed(second.stdout)}
    assert {p: p.read_text(encoding="utf-8") for p in out.rglob("*.yaml")} == before


def test_check_mode_reports_changes_and_writes_nothing(tmp_path, fake_secrets):
    result = render(tmp_path / "build", check=True)
    assert recap_changed(result.stdout)["k8s-cp"] > 0
    assert not (tmp_path / "build").exists() or not any((tmp_path / "build").rglob("*.yaml"))
    assert not _leaks(result.stdout + result.stderr, fake_secrets), "a --diff printed a secret"


def test_every_tag_runs_alone(tmp_path):
    """Each role's tag renders that component and nothing else.

    The seven runs go concurrently and on the first control-plane node only (--limit: the cluster layers run
    there; preflight still sees every group), to keep the test under a few minutes.
    """
    env = dict(os.environ, ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_NOCOLOR="1")
    procs = {}
    for tag in TAGS:
        command, run_env = render_command(tmp_path / tag, "--limit", "k8s-cp", tags=tag)
        procs[tag] = subprocess.Popen(command, env=env | run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True, cwd=str(BUILD_ROOT.parent))
    for tag, proc in procs.items():
        output, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"--tags {tag} failed:\n{output[-3000:]}"
        written = {p.relative_to(tmp_path / tag).parts[1] if p.parent.name != "values" else p.stem
                   for p in (tmp_path / tag).rglob("*.yaml")}
        assert written == {TAGS[tag]}, f"--tags {tag} rendered {written}"
