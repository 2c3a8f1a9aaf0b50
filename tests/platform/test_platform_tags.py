"""Every platform tag runs alone: preflight plus that role, writing only that component's files."""

from __future__ import annotations

import json
import re

import pytest

from platform_helpers import platform_files, render

EXPECTED = {
    "cilium": ["values/cilium.yaml"],
    "metallb": ["manifests/metallb/address-pool.yaml", "manifests/metallb/namespace.yaml", "values/metallb.yaml"],
    "istio": ["manifests/istio/gateway.yaml", "manifests/istio/namespaces.yaml",
              "manifests/istio/peer-authentication.yaml", "manifests/istio/virtual-services.yaml",
              "values/istio-base.yaml", "values/istio-ingressgateway.yaml", "values/istiod.yaml"],
    "kiali": ["values/kiali.yaml"],
    "longhorn": ["manifests/longhorn/namespace.yaml", "manifests/longhorn/recurring-jobs.yaml",
                 "values/longhorn.yaml"],
    "cert_manager": ["manifests/cert-manager/certificate.yaml", "manifests/cert-manager/cluster-issuer.yaml",
                     "manifests/cert-manager/ingress-class.yaml", "values/cert-manager.yaml"],
}
COMPONENTS = {"cilium": {"cilium"}, "metallb": {"metallb"}, "kiali": {"kiali"}, "longhorn": {"longhorn"},
              "istio": {"istio-base", "istiod", "istio-ingressgateway", "istio"}, "cert_manager": {"cert-manager"}}
CERT_MANAGER_ON = json.dumps({"cert_manager_enabled": True, "cert_manager_acme_email": "ops@example.org"})


@pytest.mark.parametrize("tag", sorted(EXPECTED))
def test_tag_renders_only_its_component(tmp_path, tag):
    extra = ["-e", CERT_MANAGER_ON] if tag == "cert_manager" else []
    result = render(tmp_path, "--tags", tag, *extra)
    assert platform_files(tmp_path) == EXPECTED[tag]
    # The play ran this role's render only: k8s_render prints one line per component it rendered.
    rendered = set(re.findall(r"^(\S+): render-only, \d+ file", result.stdout, re.M))
    assert rendered == COMPONENTS[tag], result.stdout[-3000:]


@pytest.mark.parametrize("tag", ["longhorn", "platform"])
def test_preflight_checks_the_roles_a_tag_selects(tmp_path, tag):
    result = render(tmp_path, "--tags", tag, "-e", "longhorn_replica_count=9", check=False)
    assert result.returncode != 0
    assert "longhorn_replica_count=9 but k8s_cluster has 3 node(s)" in result.stdout
    assert platform_files(tmp_path) == []


def test_preflight_leaves_out_the_roles_a_tag_does_not_run(tmp_path):
    # --tags cilium never runs Longhorn, so a bad Longhorn input does not stop it (a full run still refuses it).
    result = render(tmp_path, "--tags", "cilium", "-e", "longhorn_replica_count=9")
    assert "--tags cilium: checking the inputs of cilium (plus the inventory-wide checks)" in result.stdout
    assert platform_files(tmp_path) == EXPECTED["cilium"]


def test_inventory_wide_checks_run_under_any_tag(tmp_path):
    result = render(tmp_path, "--tags", "kiali", "-e", "kube_pod_cidr=10.0.0.0/8", check=False)
    assert result.returncode != 0
    assert "kube_pod_cidr=10.0.0.0/8 overlaps kube_service_cidr=10.96.0.0/12. Fix:" in result.stdout
    assert platform_files(tmp_path) == []
