"""metrics-server and the VPA recommender: what the seed's HPAs and Off-mode VPAs need in the cluster."""

from __future__ import annotations

import pytest
import yaml

from conftest import ENVIRONMENTS, build_dir


def _values(env, component):
    return yaml.safe_load((build_dir(env) / "values" / f"{component}.yaml").read_text())


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_metrics_server_scrapes_kubeadm_kubelets(env):
    values = _values(env, "metrics-server")
    assert "--kubelet-insecure-tls" in values["args"]
    assert values["replicas"] >= 1


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_vpa_runs_only_the_recommender_for_off_mode(env):
    values = _values(env, "vpa")
    assert values["recommender"]["enabled"] is True
    assert values["updater"]["enabled"] is False
    assert values["admissionController"]["enabled"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_vpa_the_blog_renders_is_off_mode(env):
    vpas = [d for f in (build_dir(env) / "gitops").rglob("*.yaml") for d in yaml.safe_load_all(f.read_text())
            if d and d.get("kind") == "VerticalPodAutoscaler"]
    assert vpas, "the blog renders no VPA: the vpa role would have nothing to serve"
    assert {v["spec"]["updatePolicy"]["updateMode"] for v in vpas} == {"Off"}
