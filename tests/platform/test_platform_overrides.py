"""Changing an inventory variable changes the rendered platform output as documented, reruns change nothing,
check mode writes nothing, and switching a feature off leaves nothing behind.

Renders inventory/homelab (fake vault) into temporary build folders with `-e` overrides and compares with
build/homelab, the baseline `make render` wrote."""

from __future__ import annotations

import json

import pytest

from conftest import build_dir
from platform_helpers import (find, make_validator, manifests, platform_files, recap_changed, render,
                              validate_tree, values)

EMAIL = "ops@example.org"
OVERRIDES = {
    "kube_proxy_enabled": False,
    "istio_mtls_mode": "STRICT",
    "cilium_hubble_ui_enabled": True,
    "longhorn_ui_exposed": True,
    "longhorn_replica_count": 2,
    "cert_manager_enabled": True,
    "cert_manager_acme_email": EMAIL,
}


@pytest.fixture(scope="module")
def baseline():
    return build_dir("homelab")


@pytest.fixture(scope="module")
def changed(tmp_path_factory):
    """One render with every documented switch flipped, then the same folder rendered back with defaults."""
    build = tmp_path_factory.mktemp("platform-overrides")
    first = render(build, "--tags", "platform", "-e", json.dumps(OVERRIDES))
    snapshot = {relative: (build / relative).read_text(encoding="utf-8") for relative in platform_files(build)}
    return build, first, snapshot


def _docs(snapshot, relative):
    import yaml
    return [d for d in yaml.safe_load_all(snapshot[relative]) if d is not None]


def test_kube_proxy_off_makes_cilium_replace_it_with_the_api_endpoint(changed, baseline):
    _, _, snapshot = changed
    cilium = _docs(snapshot, "values/cilium.yaml")[0]
    assert values(baseline, "cilium")["kubeProxyReplacement"] == "false"
    assert cilium["kubeProxyReplacement"] == "true"
    assert (cilium["k8sServiceHost"], cilium["k8sServicePort"]) == ("192.168.1.187", 6443)


def test_hubble_ui_switch(changed, baseline):
    _, _, snapshot = changed
    assert values(baseline, "cilium")["hubble"]["ui"]["enabled"] is False
    assert _docs(snapshot, "values/cilium.yaml")[0]["hubble"]["ui"]["enabled"] is True


def test_strict_mtls_reaches_both_peer_authentications(changed):
    _, _, snapshot = changed
    modes = {d["metadata"]["namespace"]: d["spec"]["mtls"]["mode"]
             for d in _docs(snapshot, "manifests/istio/peer-authentication.yaml")}
    assert modes == {"istio-system": "STRICT", "blog-system": "STRICT"}


def test_longhorn_replicas_and_ui_route(changed, baseline):
    _, _, snapshot = changed
    longhorn = _docs(snapshot, "values/longhorn.yaml")[0]
    assert longhorn["defaultSettings"]["defaultReplicaCount"] == 2
    assert longhorn["persistence"]["defaultClassReplicaCount"] == 2
    route = [d for d in _docs(snapshot, "manifests/istio/virtual-services.yaml")
             if d["spec"]["hosts"] == ["longhorn.jiminhome.shop"]]
    assert len(route) == 1
    assert route[0]["spec"]["http"][0]["route"][0]["destination"] == {
        "host": "longhorn-frontend.longhorn-system.svc.cluster.local", "port": {"number": 80}}
    assert not [d for d in manifests(baseline, "istio") if d.get("spec", {}).get("hosts") == ["longhorn.jiminhome.shop"]]


def test_cert_manager_issues_the_gateway_certificate_and_https_opens(changed):
    _, _, snapshot = changed
    assert _docs(snapshot, "values/cert-manager.yaml")[0]["crds"]["enabled"] is True
    issuer = _docs(snapshot, "manifests/cert-manager/cluster-issuer.yaml")[0]
    assert issuer["metadata"]["name"] == "letsencrypt-staging"
    assert issuer["spec"]["acme"]["email"] == EMAIL
    assert issuer["spec"]["acme"]["server"] == "https://acme-staging-v02.api.letsencrypt.org/directory"
    assert issuer["spec"]["acme"]["solvers"] == [{"http01": {"ingress": {"class": "istio"}}}]
    certificate = _docs(snapshot, "manifests/cert-manager/certificate.yaml")[0]
    assert certificate["metadata"]["namespace"] == "istio-system"
    assert certificate["spec"]["issuerRef"]["name"] == "letsencrypt-staging"
    assert certificate["spec"]["dnsNames"] == [f"{h}.jiminhome.shop" for h in
                                               ("blog", "monitoring", "argocd", "kiali", "longhorn")]
    ingress_class = _docs(snapshot, "manifests/cert-manager/ingress-class.yaml")[0]
    assert ingress_class["spec"]["controller"] == "istio.io/ingress-controller"
    gateway = find(_docs(snapshot, "manifests/istio/gateway.yaml"), "Gateway", "blog-gateway")
    https = [s for s in gateway["spec"]["servers"] if s["port"]["number"] == 443]
    assert len(https) == 1
    assert https[0]["port"]["protocol"] == "HTTPS"
    assert https[0]["tls"] == {"mode": "SIMPLE", "credentialName": certificate["spec"]["secretName"]}


def test_overridden_render_is_schema_valid(changed, crd_location):
    build, _, _ = changed
    count, failures = validate_tree(make_validator(crd_location), build)
    assert not failures, "\n".join(failures)
    assert count == 7 + 12 + 1 + 3 + 1  # baseline + cert-manager values and 3 manifests + the longhorn route


def test_certificate_validates_against_the_generated_strict_schema(changed, crd_location):
    build, _, _ = changed
    validator = make_validator(crd_location)
    results = list(validator.validate_file(build / "manifests" / "cert-manager" / "certificate.yaml"))
    assert [errors for _, errors in results] == [[]]
    certificate = _docs({"c": (build / "manifests" / "cert-manager" / "certificate.yaml").read_text()}, "c")[0]
    certificate["spec"]["dnsName"] = certificate["spec"].pop("dnsNames")
    assert any("'dnsName' was unexpected" in error for error in validator.validate_document(certificate))


def test_back_to_defaults_reproduces_the_baseline_and_removes_cert_manager(changed, baseline):
    build, _, _ = changed
    result = render(build, "--tags", "platform")
    assert recap_changed(result.stdout)["k8s-cp"] > 0
    assert not (build / "values" / "cert-manager.yaml").exists()
    assert not list((build / "manifests" / "cert-manager").glob("*.yaml"))
    assert platform_files(build) == platform_files(baseline)
    for relative in platform_files(baseline):
        assert (build / relative).read_text() == (baseline / relative).read_text(), relative


def test_rerun_changes_nothing(changed):
    build, _, _ = changed
    render(build, "--tags", "platform")
    result = render(build, "--tags", "platform")
    assert set(recap_changed(result.stdout).values()) == {0}, result.stdout[-3000:]


def test_check_mode_reports_but_writes_nothing(tmp_path):
    result = render(tmp_path, "--tags", "platform", "--check")
    assert recap_changed(result.stdout)["k8s-cp"] > 0
    assert platform_files(tmp_path) == []
