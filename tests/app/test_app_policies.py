"""The blog system's reachability, proven from the RENDERED CiliumNetworkPolicies with the policy checker:
every intended flow is allowed, every other flow between the catalog's endpoints is denied.

The expected matrix is written out here from the seed's policy list (plus the two documented additions in
inventory/homelab/group_vars/all/delivery.yml), independently of the graph the policies are compiled from.
"""

from __future__ import annotations

import copy
import itertools

import pytest

from app_helpers import ENVIRONMENTS, gitops_dir, inventory_vars, load_yaml_docs
from ansible_collections.homelab.stack.plugins.module_utils.netpol_check import PolicyChecker

# Endpoints that are in no policy: pods of other namespaces and of blog-system, the host, outside names.
EXTRA_ENDPOINTS = {
    "intruder": {"namespace": "default", "labels": {"app": "intruder"}},
    "blog-intruder": {"namespace": "blog-system", "labels": {"app": "debug-shell"}},
    "grafana": {"namespace": "monitoring", "labels": {"app.kubernetes.io/name": "grafana"}},
    "api-github": {"fqdns": ["api.github.com"]},
    "github-objects": {"fqdns": ["objects.githubusercontent.com"]},
    "s3-bucket": {"fqdns": ["jimin-mysql-backup.s3.ap-northeast-2.amazonaws.com"]},
    "evil": {"fqdns": ["evil.example.com"]},
}
WORKLOADS = ("web", "was", "mysql", "mysql-exporter", "mysql-backup")
DNS = {("kube-dns", 53, "UDP"), ("kube-dns", 53, "TCP")}
# source -> {(destination, port, protocol)} the seed intends (DNS for every workload comes on top).
INTENDED = {
    "web": {("was", 8080, "TCP"), ("istiod", 15012, "TCP")},
    "was": {("mysql", 3306, "TCP"), ("istiod", 15012, "TCP"), ("tempo", 4317, "TCP"), ("github", 443, "TCP"),
            ("api-github", 443, "TCP"), ("github-objects", 443, "TCP")},
    "mysql": set(),
    "mysql-exporter": {("mysql", 3306, "TCP")},
    "mysql-backup": {("mysql", 3306, "TCP"), ("s3", 443, "TCP"), ("s3-bucket", 443, "TCP")},
    # Into the workloads from outside them.
    "prometheus": {("mysql-exporter", 9104, "TCP"), ("web", 9113, "TCP")},
    "ingress-gateway": {("web", 80, "TCP")},
}
PORTS = [(53, "UDP"), (53, "TCP"), (80, "TCP"), (443, "TCP"), (3306, "TCP"), (4317, "TCP"), (8080, "TCP"),
         (9104, "TCP"), (9113, "TCP"), (15012, "TCP"), (22, "TCP")]


def catalog():
    graph = copy.deepcopy(inventory_vars()["blog_app_service_graph"])
    graph["externals"].update(copy.deepcopy(EXTRA_ENDPOINTS))
    return graph


def rendered_policies(env):
    docs = load_yaml_docs(gitops_dir(env) / "network-policies.yaml")
    assert sorted(d["metadata"]["name"] for d in docs) == sorted(f"{w}-isolation" for w in WORKLOADS)
    return docs


def intended(source, destination, port, protocol):
    """Whether the seed's design allows this flow."""
    if source in WORKLOADS and (destination, port, protocol) in DNS:
        return True
    if (destination, port, protocol) in INTENDED.get(source, set()):
        return True
    # web is the public entry on port 80 (fromEntities all), from anywhere whose egress is unrestricted.
    return destination == "web" and (port, protocol) == (80, "TCP") and source not in WORKLOADS


@pytest.fixture(params=ENVIRONMENTS, scope="module")
def checker(request):
    return PolicyChecker(rendered_policies(request.param), catalog())


def test_every_intended_flow_is_allowed(checker):
    checked = 0
    for source, flows in INTENDED.items():
        for destination, port, protocol in flows:
            decision = checker.allows(source, destination, port, protocol)
            assert decision.allowed, f"{source} -> {destination}:{port}/{protocol} denied: {decision.reasons}"
            checked += 1
    for workload in WORKLOADS:
        for _, port, protocol in DNS:
            assert checker.allows(workload, "kube-dns", port, protocol).allowed, f"{workload} cannot resolve"
    assert checked == 15


def test_every_other_flow_is_denied(checker):
    """All source x destination x port combinations touching a blog workload, against the intent."""
    endpoints = [e.name for e in checker.endpoints]
    checked, wrong = 0, []
    for source, destination in itertools.permutations(endpoints, 2):
        if source not in WORKLOADS and destination not in WORKLOADS:
            continue  # neither side is governed by the blog's policies
        for port, protocol in PORTS:
            allowed = checker.allows(source, destination, port, protocol).allowed
            checked += 1
            if allowed != intended(source, destination, port, protocol):
                wrong.append(f"{source} -> {destination}:{port}/{protocol} {'allowed' if allowed else 'denied'}")
    assert checked > 1500
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("source, destination, port", [
    ("intruder", "mysql", 3306),         # lateral movement to the database from another namespace
    ("blog-intruder", "mysql", 3306),    # ... and from an unknown pod in blog-system
    ("web", "mysql", 3306),              # WEB never talks to the database
    ("blog-intruder", "was", 8080),      # only WEB reaches WAS
    ("grafana", "mysql-exporter", 9104),  # only Prometheus scrapes
    ("was", "evil", 443),                # WAS's egress stops at GitHub
    ("mysql-backup", "api-github", 443),  # the backup reaches S3 only
    ("mysql", "world", 443),             # the database has no way out
])
def test_known_attack_paths_are_denied(checker, source, destination, port):
    decision = checker.allows(source, destination, port, "TCP")
    assert not decision.allowed, decision.reasons


def test_the_checker_reads_the_policies_it_is_given(checker):
    """Guard against a vacuous pass: without the policies everything is allowed."""
    empty = PolicyChecker([], catalog())
    assert empty.allows("intruder", "mysql", 3306, "TCP").allowed
    assert not checker.allows("intruder", "mysql", 3306, "TCP").allowed
    assert checker.policy_count == 5
    assert not [w for w in checker.warnings if "not evaluated" in w], checker.warnings
