"""The delivery layer as users run it: each tag alone, reruns change nothing, check mode writes nothing, and no
secret reaches the output (no_log, redacted diffs). Renders inventory/homelab into a temporary build folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from app_helpers import fake_secrets, recap_changed, run_playbook

GITOPS = {f"gitops/blog-system/{name}" for name in (
    "web-configmap.yaml", "web-rollout.yaml", "web-service.yaml", "was-configmap.yaml", "was-rollout.yaml",
    "was-service.yaml", "mysql-pvc.yaml", "mysql.yaml", "mysql-exporter.yaml", "mysql-backup.yaml",
    "virtualservices.yaml", "destinationrules.yaml", "authorization-policies.yaml", "network-policies.yaml",
    "hpa.yaml", "pdb.yaml", "vpa.yaml", "monitoring.yaml")}
FILES = {
    "argocd": {"values/argocd.yaml", "manifests/argocd/application.yaml", "manifests/argocd/virtualservice.yaml"},
    "argo_rollouts": {"values/argo-rollouts.yaml"},
    "blog_app": GITOPS | {"manifests/blog_app/secrets.yaml"},
}
FILES["delivery"] = set().union(*FILES.values())


def written(build: Path) -> set[str]:
    return {str(p.relative_to(build)) for p in build.rglob("*") if p.is_file()} if build.exists() else set()


@pytest.mark.parametrize("tag", ["argocd", "argo_rollouts", "blog_app"])
def test_each_tag_runs_alone_and_renders_only_its_part(tmp_path, tag):
    build = tmp_path / "build"
    result = run_playbook(build, "--tags", tag)
    assert written(build) == FILES[tag]
    assert "render-only" in result.stdout


def test_layer_tag_reruns_change_nothing_check_mode_writes_nothing_and_no_secret_is_printed(tmp_path):
    build = tmp_path / "build"
    dry = run_playbook(build, "--tags", "delivery", "--check")
    assert recap_changed(dry.stdout) >= 4, "check mode must report the renders it would do"
    assert written(build) == set(), "check mode wrote files"
    # The first real run, verbose and with diffs: the most output a user can ask for.
    first = run_playbook(build, "--tags", "delivery", "--diff", "-vv")
    assert recap_changed(first.stdout) >= 4
    assert written(build) == FILES["delivery"]
    output = first.stdout + first.stderr
    assert "secretName: mysql-secret" in output, "the diffs of the rendered files are expected in the output"
    assert not [secret for secret in fake_secrets() if secret in output], "secrets printed by the playbook"
    snapshot = {name: (build / name).read_bytes() for name in written(build)}
    assert not [name for name, data in snapshot.items() if any(s.encode() in data for s in fake_secrets())]
    second = run_playbook(build, "--tags", "delivery")
    assert recap_changed(second.stdout) == 0, second.stdout[-3000:]
    checked = run_playbook(build, "--tags", "delivery", "--check", "--diff")
    assert recap_changed(checked.stdout) == 0
    assert {name: (build / name).read_bytes() for name in written(build)} == snapshot
