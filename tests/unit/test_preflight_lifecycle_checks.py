"""version_errors (plugins/module_utils/preflight.py): Kubernetes, Cilium and Istio from the support matrix."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.preflight import SUPPORT_MATRIX, version_errors


def test_the_seed_versions_are_supported():
    assert version_errors("v1.31.13", "1.16.15", "1.24.6") == []
    assert version_errors("1.31.0", "1.16.0", "1.24.0") == []


@pytest.mark.parametrize("kube, cilium, istio", [
    ("v1.32.4", "1.16.15", "1.24.6"), ("v1.31.13", "1.17.0", "1.24.6"), ("v1.31.13", "1.16.15", "1.25.0"),
    ("v1.30.9", "1.16.15", "1.24.6"), ("v1.31.13", "", "1.24.6")])
def test_unsupported_combinations_name_all_three_and_the_fix(kube, cilium, istio):
    [message] = version_errors(kube, cilium, istio)
    assert f"kube_version={kube}" in message and f"cilium_version={cilium}" in message
    assert f"istio_version={istio}" in message and "Fix:" in message
    assert "Kubernetes 1.31 with Cilium 1.16 and Istio 1.24" in message


@pytest.mark.parametrize("kube", ["1.31", "v1.31", "latest", "", None, "v1.31.13-rc.1"])
def test_malformed_kube_version(kube):
    [message] = version_errors(kube, "1.16.15", "1.24.6")
    assert f"kube_version={kube!r} is not a Kubernetes release" in message and "Fix: write it as v1.31.13" in message


def test_a_new_row_is_honoured():
    matrix = dict(SUPPORT_MATRIX, **{"1.32": {"cilium": ("1.17",), "istio": ("1.25",)}})
    assert version_errors("v1.32.4", "1.17.3", "1.25.1", matrix) == []

