"""version_errors (plugins/module_utils/preflight.py): Kubernetes, Cilium and Istio from the support matrix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.homelab.stack.plugins.module_utils.preflight import SUPPORT_MATRIX, version_errors


def test_the_seed_versions_are_supported():
    assert version_errors("v1.31.13", "1.16.15", "1.24.6") == []
    assert version_errors("1.31.0", "1.16.0", "1.24.0") == []


@pytest.mark.parametrize("kube, cilium, istio", [
    ("v1.32.4", "1.16.15", "1.24.6"), ("v1.31.13", "1.17.0", "1.24.6"), ("v1.31.13", "1.16.15", "1.25.0"),
    ("v1.30.9", "1.16.15", "1.24.6"), ("v1.32.4", "", "")])
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



def _default(role, name):
    path = Path(__file__).resolve().parents[2] / "roles" / role / "defaults" / "main.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))[name]


def test_the_roles_default_pins_are_a_supported_row():
    # An inventory that pins no Cilium or Istio version gets the roles' defaults: they must be supported together.
    kube, cilium, istio = _default("kube", "kube_version"), _default("cilium", "cilium_version"), _default(
        "istio", "istio_version")
    assert version_errors(kube, cilium, istio) == []


def test_unset_component_versions_leave_only_the_kubernetes_minor_to_check():
    assert version_errors("v1.31.13", "", "") == []
    assert version_errors("v1.31.13", None, "1.24.6") == []
    [message] = version_errors("v1.31.13", "", "1.25.0")
    assert "istio_version=1.25.0" in message
