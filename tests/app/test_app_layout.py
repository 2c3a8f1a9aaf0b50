"""The delivery layer's output: the GitOps repository laid out one file per concern, the Secrets kept out of it,
ArgoCD's and Argo Rollouts' values and manifests, and every document valid against its schema."""

from __future__ import annotations

from collections import Counter

import pytest

from app_helpers import ENVIRONMENTS, find, gitops_dir, gitops_docs, gitops_files, load_yaml_docs
from conftest import build_dir

# File -> the kinds (with counts) it must hold, exactly.
EXPECTED_GITOPS = {
    "web-configmap.yaml": {"ConfigMap": 1},
    "web-rollout.yaml": {"ServiceAccount": 1, "Rollout": 1},
    "web-service.yaml": {"Service": 1},
    "was-configmap.yaml": {"ConfigMap": 1},
    "was-rollout.yaml": {"ServiceAccount": 1, "Rollout": 1},
    "was-service.yaml": {"Service": 1},
    "mysql-pvc.yaml": {"PersistentVolumeClaim": 1},
    "mysql.yaml": {"ServiceAccount": 1, "ConfigMap": 1, "Deployment": 1, "Service": 1},
    "mysql-exporter.yaml": {"ServiceAccount": 1, "Deployment": 1, "Service": 1},
    "mysql-backup.yaml": {"ServiceAccount": 1, "CronJob": 1},
    "virtualservices.yaml": {"VirtualService": 2},
    "destinationrules.yaml": {"DestinationRule": 2},
    "authorization-policies.yaml": {"AuthorizationPolicy": 2},
    "network-policies.yaml": {"CiliumNetworkPolicy": 5},
    "hpa.yaml": {"HorizontalPodAutoscaler": 2},
    "pdb.yaml": {"PodDisruptionBudget": 3},
    "vpa.yaml": {"VerticalPodAutoscaler": 2},
    "monitoring.yaml": {"PodMonitor": 1, "ServiceMonitor": 1},
}
# Rendered by the other layers: referenced here, never rendered by the delivery roles.
OWNED_ELSEWHERE = {("Namespace", "blog-system"), ("Gateway", "blog-gateway"), ("PeerAuthentication", "default")}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_gitops_repository_is_one_file_per_concern(env):
    files = gitops_files(env)
    assert sorted(files) == sorted(EXPECTED_GITOPS), "the GitOps folder holds other files than expected"
    for name, kinds in EXPECTED_GITOPS.items():
        assert dict(Counter(d["kind"] for d in files[name])) == kinds, name


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_gitops_documents_live_in_blog_system_and_reference_what_others_own(env):
    docs = gitops_docs(env)
    names = Counter((d["kind"], d["metadata"]["name"]) for d in docs)
    assert not [n for n, count in names.items() if count > 1], "duplicate objects"
    assert all(d["metadata"].get("namespace") == "blog-system" for d in docs)
    assert not OWNED_ELSEWHERE & set(names), "the delivery layer renders an object another layer owns"
    vsvc = find(docs, "VirtualService", "web-vsvc")
    assert vsvc["spec"]["gateways"] == ["blog-system/blog-gateway"]
    assert vsvc["spec"]["hosts"] == ["blog.jiminhome.shop"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_secret_object_reaches_the_gitops_repository(env):
    kinds = {d["kind"] for d in gitops_docs(env)}
    assert "Secret" not in kinds
    # What the playbook applies from memory instead, redacted in the file.
    secrets = load_yaml_docs(build_dir(env) / "manifests" / "blog_app" / "secrets.yaml")
    assert sorted(d["metadata"]["name"] for d in secrets) == ["aws-s3-credentials", "mysql-exporter-config",
                                                               "mysql-secret"]
    assert {d["kind"] for d in secrets} == {"Secret"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_argocd_and_argo_rollouts_output(env):
    build = build_dir(env)
    argocd = {p.name: load_yaml_docs(p) for p in (build / "manifests" / "argocd").glob("*.yaml")}
    assert sorted(argocd) == ["application.yaml", "virtualservice.yaml"]
    assert [d["kind"] for d in argocd["application.yaml"]] == ["Application"]
    route = argocd["virtualservice.yaml"][0]
    assert route["kind"] == "VirtualService" and route["metadata"]["namespace"] == "argocd"
    assert route["spec"]["hosts"] == ["argocd.jiminhome.shop"]
    destination = route["spec"]["http"][0]["route"][0]["destination"]
    assert destination == {"host": "argocd-server.argocd.svc.cluster.local", "port": {"number": 80}}
    assert (build / "values" / "argocd.yaml").is_file()
    assert (build / "values" / "argo-rollouts.yaml").is_file()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_delivery_document_validates(env, crd_location):
    """The Makefile's validate target covers all of build/; this pins the delivery layer's share of it."""
    from k8s_validate import Validator, yaml_files
    validator = Validator(crd_location=crd_location)
    build = build_dir(env)
    paths = [gitops_dir(env), build / "manifests" / "argocd", build / "manifests" / "blog_app",
             build / "values" / "argocd.yaml", build / "values" / "argo-rollouts.yaml"]
    results = [(label, errors) for path in yaml_files(paths) for label, errors in validator.validate_file(path)]
    assert len(results) >= 45
    failures = {label: errors[:3] for label, errors in results if errors}
    assert not failures, failures
