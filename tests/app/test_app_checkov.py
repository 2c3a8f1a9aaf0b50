"""Security scan of the delivery layer's rendered manifests with checkov (tools/checkov.sh, its own venv).

Every finding must be fixed or waived in tests/app/checkov-waivers.yaml with a one-line reason; a waiver that no
longer matches a finding fails too, so the file cannot go stale. checkov does not know the Rollout CRD: each
Rollout is scanned as a Deployment with the same pod template (its security-relevant part), named the same.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from app_helpers import ENVIRONMENTS, GITOPS_DIR, load_yaml_docs
from conftest import ROOT, build_dir

WAIVERS = Path(__file__).with_name("checkov-waivers.yaml")


def scanned_paths(env):
    build = build_dir(env)
    return [build / "gitops" / GITOPS_DIR, build / "manifests" / "argocd", build / "manifests" / "blog_app"]


def as_scannable(doc):
    """A Rollout becomes the Deployment checkov understands; everything else is scanned as rendered."""
    if doc.get("kind") != "Rollout":
        return doc
    spec = doc["spec"]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": doc["metadata"],
            "spec": {"replicas": spec.get("replicas"), "selector": spec["selector"], "template": spec["template"]}}


def stage(env, target: Path) -> int:
    count = 0
    for folder in scanned_paths(env):
        assert folder.is_dir(), f"{folder} is missing: render first"
        for path in sorted(folder.glob("*.yaml")):
            docs = [as_scannable(d) for d in load_yaml_docs(path)]
            count += len(docs)
            out = target / folder.name / path.name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return count


def json_reports(text):
    """checkov prints one JSON report, or a list of them."""
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def run_checkov(folder: Path):
    started = time.monotonic()
    result = subprocess.run([str(ROOT / "tools" / "checkov.sh"), "--directory", str(folder), "--framework",
                             "kubernetes", "--output", "json", "--compact"],
                            cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    elapsed = time.monotonic() - started
    assert result.returncode in (0, 1), result.stdout[-2000:] + result.stderr[-3000:]
    reports = json_reports(result.stdout)
    assert [r["check_type"] for r in reports] == ["kubernetes"], "checkov scanned nothing as Kubernetes"
    return reports[0], elapsed


def load_waivers():
    waivers = yaml.safe_load(WAIVERS.read_text(encoding="utf-8"))["waivers"]
    table = {}
    for entry in waivers:
        reason = entry.get("reason", "")
        assert isinstance(reason, str) and reason.strip() and "\n" not in reason.strip(), \
            f"{entry.get('check')}: every waiver needs a one-line reason"
        assert entry["check"] not in table, f"{entry['check']} is listed twice"
        table[entry["check"]] = set(entry["resources"])
    return table


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def scan(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"checkov-{request.param}")
    documents = stage(request.param, folder)
    report, elapsed = run_checkov(folder)
    print(f"checkov {request.param}: {documents} documents, {report['summary']}, {elapsed:.1f} s")
    return report, documents


def test_checkov_scanned_every_rendered_object(scan):
    report, documents = scan
    summary = report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= documents  # checkov also counts the pods it derives from templates
    assert summary["passed"] > 100
    scanned = {check["resource"] for check in report["results"]["passed_checks"]}
    # The two Rollouts really were scanned (as Deployments).
    assert {"Deployment.blog-system.web", "Deployment.blog-system.was"} <= scanned


def test_every_finding_is_fixed_or_waived(scan):
    report, _ = scan
    waivers = load_waivers()
    findings = {(f["check_id"], f["resource"]) for f in report["results"]["failed_checks"]}
    unwaived = sorted(f"{check} {resource}" for check, resource in findings
                      if resource not in waivers.get(check, set()))
    assert not unwaived, "fix these or waive them with a reason in tests/app/checkov-waivers.yaml:\n" + \
        "\n".join(unwaived)
    stale = sorted(f"{check} {resource}" for check, resources in waivers.items() for resource in resources
                   if (check, resource) not in findings)
    assert not stale, "these waivers match no finding any more; remove them:\n" + "\n".join(stale)
