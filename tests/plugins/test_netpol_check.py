"""module_utils/netpol_check.py: what the compiled seed policies allow and deny, and Cilium's semantics."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.stack.plugins.filter.policy_allows import FilterModule as AllowsFilters
from ansible_collections.homelab.stack.plugins.filter.reachability_matrix import FilterModule as MatrixFilters
from ansible_collections.homelab.stack.plugins.module_utils.netpol_check import (
    CheckError, PolicyChecker, check_flow, fqdn_regex)
from ansible_collections.homelab.stack.plugins.module_utils.netpol_compile import cilium_policies
pytest_plugins = ["plugin_fixtures"]  # the seed_graph and validator fixtures

WORKLOADS = ("web", "was", "mysql", "mysql-exporter", "mysql-backup")

INTENDED = [  # (source, destination, port, protocol, method): the seed's flows
    ("web", "was", 8080, "TCP", None), ("web", "was", 8080, "TCP", "GET"), ("web", "was", 8080, "TCP", "DELETE"),
    ("was", "mysql", 3306, "TCP", None), ("mysql-exporter", "mysql", 3306, "TCP", None),
    ("mysql-backup", "mysql", 3306, "TCP", None), ("prometheus", "mysql-exporter", 9104, "TCP", None),
    ("ingress-gateway", "web", 80, "TCP", None), ("world", "web", 80, "TCP", None),
    ("web", "istiod", 15012, "TCP", None), ("was", "istiod", 15012, "TCP", None),
    ("was", "tempo", 4317, "TCP", None), ("was", "github", 443, "TCP", None),
    ("was", "api.github.com", 443, "TCP", None), ("mysql-backup", "s3", 443, "TCP", None),
    ("mysql-backup", "s3.amazonaws.com", 443, "TCP", None),
] + [(w, "kube-dns", 53, proto, None) for w in WORKLOADS for proto in ("UDP", "TCP")]

FORBIDDEN = [
    ("web", "mysql", 3306, "TCP", None), ("mysql-exporter", "was", 8080, "TCP", None),
    ("mysql", "world", 443, "TCP", None), ("was", "world", 443, "TCP", None), ("was", "world", 80, "TCP", None),
    ("was", "github", 80, "TCP", None), ("was", "s3", 443, "TCP", None), ("was", "evil.example.com", 443, "TCP", None),
    ("mysql-backup", "github", 443, "TCP", None), ("web", "was", 8080, "TCP", "PATCH"),
    ("web", "was", 9090, "TCP", None), ("web", "was", 8080, "UDP", None), ("ingress-gateway", "was", 8080, "TCP", None),
    ("prometheus", "mysql", 3306, "TCP", None), ("prometheus", "web", 9104, "TCP", None),
    ("world", "mysql", 3306, "TCP", None), ("mysql", "was", 8080, "TCP", None), ("was", "web", 80, "TCP", None),
    ("web", "tempo", 4317, "TCP", None), ("mysql-exporter", "prometheus", 9090, "TCP", None),
    ("web", "kube-dns", 53, "TCP", "GET"),  # the DNS proxy port carries DNS, not HTTP
    ("host", "mysql", 3306, "TCP", None), ("web", "istiod", 15010, "TCP", None),
    # Cilium's '*' stays within one DNS label: *.amazonaws.com does not cover bucket.s3.amazonaws.com.
    ("mysql-backup", "my-bucket.s3.amazonaws.com", 443, "TCP", None),
]


@pytest.fixture
def seed_checker(seed_graph):
    extra = ["api.github.com", "s3.amazonaws.com", "my-bucket.s3.amazonaws.com", "evil.example.com", "host"]
    return PolicyChecker(cilium_policies(seed_graph), seed_graph, extra)


@pytest.mark.parametrize("flow", INTENDED, ids=lambda f: f"{f[0]}->{f[1]}:{f[2]}/{f[3]}{'+' + f[4] if f[4] else ''}")
def test_intended_flows_are_allowed(seed_checker, flow):
    decision = seed_checker.allows(*flow)
    assert decision.allowed, decision.reasons


@pytest.mark.parametrize("flow", FORBIDDEN, ids=lambda f: f"{f[0]}->{f[1]}:{f[2]}/{f[3]}{'+' + f[4] if f[4] else ''}")
def test_everything_else_is_denied(seed_checker, flow):
    decision = seed_checker.allows(*flow)
    assert not decision.allowed, decision.reasons


def test_reasons_name_the_deciding_rules(seed_checker):
    decision = seed_checker.allows("web", "was", 8080, "TCP", "PATCH")
    assert decision.reasons == [
        "egress of web: allowed by blog-system/web-isolation egress[1]",
        "ingress of was: denied, no rule allows 8080/TCP PATCH (open for: 8080/TCP HTTP DELETE|GET|POST|PUT)"]
    assert seed_checker.allows("prometheus", "mysql-exporter", 9104).reasons[0] == \
        "egress of prometheus: no policy, default allow"


def test_only_the_three_clients_reach_mysql(seed_checker):
    matrix = seed_checker.matrix_by_name()
    assert sorted(source for source, row in matrix.items() if "mysql" in row) == [
        "mysql-backup", "mysql-exporter", "was"]
    assert matrix["web"] == {"was": ["8080/TCP HTTP DELETE|GET|POST|PUT"], "kube-dns": ["53/TCP DNS *", "53/UDP DNS *"],
                             "istiod": ["15012/TCP"]}
    assert matrix["prometheus"]["mysql-exporter"] == ["9104/TCP"]
    assert matrix["prometheus"]["tempo"] == ["any port"]  # no policy on either side


PORTS = [(p, proto) for p in (53, 80, 443, 3306, 4317, 8080, 9104, 15012, 15010) for proto in ("TCP", "UDP")]


def test_matrix_agrees_with_single_queries(seed_checker):
    """The matrix (pairwise intersections) and allows() (per side) are two code paths: same answers."""
    cells = seed_checker.matrix()
    for a, source in enumerate(seed_checker.endpoints):
        for b, destination in enumerate(seed_checker.endpoints):
            for port, proto in PORTS:
                for method in (None, "GET", "PATCH"):
                    expected = any(g.permits(port, proto, method) for g in cells.get((a, b), ()))
                    assert seed_checker.allows(source.name, destination.name, port, proto, method).allowed == \
                        expected, (source.name, destination.name, port, proto, method)


# -- semantics on hand-written policies ----------------------------------------------------------------------
CATALOG = {"namespace": "a", "externals": {
    "b-app": {"namespace": "b", "labels": {"app": "x"}},
    "b-other": {"namespace": "b", "labels": {"app": "y", "tier": "db"}},
    "site": {"fqdns": ["example.org"]}, "outside": {"entity": "world"}, "node": {"entity": "host"}},
    "workloads": {"x": {"labels": {"app": "x"}}, "z": {"labels": {"app": "z", "tier": "db"}}}}


def cnp(name, spec, namespace="a", kind="CiliumNetworkPolicy"):
    metadata = {"name": name} if kind.startswith("CiliumClusterwide") else {"name": name, "namespace": namespace}
    return {"apiVersion": "cilium.io/v2", "kind": kind, "metadata": metadata, "spec": spec}


def allowed(policies, source, destination, port=80, proto="TCP", method=None):
    return PolicyChecker(policies, CATALOG).allows(source, destination, port, proto, method).allowed


def test_selectors_stay_in_the_policy_namespace_unless_told():
    only_local = cnp("p", {"endpointSelector": {"matchLabels": {"app": "z"}},
                           "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "x"}}]}]})
    assert allowed([only_local], "x", "z")
    assert not allowed([only_local], "b-app", "z")  # same labels, other namespace
    cross = cnp("p", {"endpointSelector": {"matchLabels": {"app": "z"}}, "ingress": [{"fromEndpoints": [
        {"matchLabels": {"app": "x", "k8s:io.kubernetes.pod.namespace": "b"}}]}]})
    assert allowed([cross], "b-app", "z") and not allowed([cross], "x", "z")


def test_empty_rule_denies_and_empty_section_does_not_enforce():
    deny = cnp("p", {"endpointSelector": {"matchLabels": {"app": "z"}}, "ingress": [{}]})
    assert not allowed([deny], "x", "z")
    assert allowed([deny], "z", "x")  # egress untouched
    empty = cnp("p", {"endpointSelector": {"matchLabels": {"app": "z"}}, "ingress": []})
    assert allowed([empty], "x", "z")  # Cilium enables default deny only for a section with rules


def test_enable_default_deny_overrides():
    off = cnp("p", {"endpointSelector": {"matchLabels": {"app": "z"}}, "enableDefaultDeny": {"ingress": False},
                    "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "x"}}], "toPorts": [
                        {"ports": [{"port": "80"}]}]}]})
    assert allowed([off], "outside", "z", 9999)
    on = cnp("p", {"endpointSelector": {"matchLabels": {"app": "z"}}, "enableDefaultDeny": {"egress": True}})
    assert not allowed([on], "z", "x") and allowed([on], "x", "z")


def test_port_only_rule_allows_every_peer_on_its_ports_and_ranges():
    l4 = cnp("p", {"endpointSelector": {"matchLabels": {"app": "z"}}, "ingress": [{"toPorts": [
        {"ports": [{"port": "8000", "endPort": 8100, "protocol": "TCP"}]}]}]})
    assert allowed([l4], "outside", "z", 8050) and allowed([l4], "b-other", "z", 8100)
    assert not allowed([l4], "outside", "z", 8101) and not allowed([l4], "outside", "z", 8050, "UDP")


def test_rules_of_several_policies_add_up_and_l4_covers_every_method():
    http = cnp("http", {"endpointSelector": {"matchLabels": {"app": "z"}}, "ingress": [{
        "fromEndpoints": [{"matchLabels": {"app": "x"}}],
        "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{"method": "GET"}]}}]}]})
    assert allowed([http], "x", "z", method="GET") and not allowed([http], "x", "z", method="POST")
    l4 = cnp("l4", {"endpointSelector": {"matchLabels": {"app": "z"}}, "ingress": [{
        "fromEndpoints": [{"matchLabels": {"app": "x"}}], "toPorts": [{"ports": [{"port": "80"}]}]}]})
    assert allowed([http, l4], "x", "z", method="POST")


def test_http_method_is_a_regular_expression():
    regex = cnp("p", {"endpointSelector": {"matchLabels": {"app": "z"}}, "ingress": [{"toPorts": [{
        "ports": [{"port": "80"}], "rules": {"http": [{"method": "P(UT|OST)"}]}}]}]})
    assert allowed([regex], "x", "z", method="PUT") and allowed([regex], "x", "z", method="POST")
    assert not allowed([regex], "x", "z", method="PATCH")


def test_match_expressions():
    spec = {"endpointSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
            "ingress": [{"fromEndpoints": [{"matchExpressions": [
                {"key": "app", "operator": "In", "values": ["x", "q"]},
                {"key": "k8s:io.kubernetes.pod.namespace", "operator": "NotIn", "values": ["a"]}]}]}]}
    policy = cnp("p", spec)
    assert allowed([policy], "b-app", "z") and not allowed([policy], "x", "z")
    assert allowed([policy], "outside", "x")  # x has no tier label: not selected
    absent = cnp("p", {"endpointSelector": {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]},
                       "ingress": [{}]})
    assert not allowed([absent], "z", "x") and allowed([absent], "x", "z")


def test_clusterwide_policy_selects_every_namespace():
    policy = cnp("all-db", {"endpointSelector": {"matchLabels": {"tier": "db"}}, "ingress": [{}]},
                 kind="CiliumClusterwideNetworkPolicy")
    assert not allowed([policy], "x", "z") and not allowed([policy], "x", "b-other")
    assert allowed([policy], "z", "x")


def test_entities_world_cluster_host():
    policy = cnp("p", {"endpointSelector": {"matchLabels": {"app": "z"}}, "egress": [
        {"toEntities": ["cluster"], "toPorts": [{"ports": [{"port": "80"}]}]},
        {"toEntities": ["world"], "toPorts": [{"ports": [{"port": "443"}]}]}]})
    assert allowed([policy], "z", "b-app") and allowed([policy], "z", "node")  # host is part of cluster
    assert not allowed([policy], "z", "outside") and allowed([policy], "z", "outside", 443)
    assert not allowed([policy], "z", "b-app", 443)


def test_fqdn_egress_needs_the_dns_proxy():
    no_dns = cnp("p", {"endpointSelector": {"matchLabels": {"app": "z"}}, "egress": [
        {"toFQDNs": [{"matchName": "example.org"}], "toPorts": [{"ports": [{"port": "443"}]}]}]})
    checker = PolicyChecker([no_dns], CATALOG)
    assert not checker.allows("z", "site", 443).allowed
    assert any("no DNS-proxy rule" in w for w in checker.warnings)
    with_dns = cnp("dns", {"endpointSelector": {"matchLabels": {"app": "z"}}, "egress": [
        {"toEndpoints": [{"matchLabels": {"app": "x"}}], "toPorts": [
            {"ports": [{"port": "53", "protocol": "UDP"}], "rules": {"dns": [{"matchPattern": "*.org"}]}}]}]})
    assert allowed([no_dns, with_dns], "z", "site", 443)


def test_unsupported_peers_are_reported_and_never_widen():
    policy = cnp("p", {"endpointSelector": {"matchLabels": {"app": "z"}}, "egress": [
        {"toCIDR": ["0.0.0.0/0"], "toPorts": [{"ports": [{"port": "443"}]}]},
        {"toEndpoints": [{}], "toPorts": [{"ports": [{"port": "http"}]}]}],
        "egressDeny": [{"toEntities": ["world"]}]})
    checker = PolicyChecker([policy], CATALOG)
    assert not checker.allows("z", "outside", 443).allowed
    assert any("toCIDR peers are not evaluated" in w for w in checker.warnings)
    assert any("named port 'http' not evaluated" in w for w in checker.warnings)
    assert any("egressDeny rules are not evaluated" in w for w in checker.warnings)


@pytest.mark.parametrize("pattern, matches, misses", [
    ("*", ["a.b.c"], []),
    ("*.github.com", ["api.github.com"], ["github.com", "a.b.github.com"]),
    ("sub*.cilium.io", ["sub.cilium.io", "subdomain.cilium.io"], ["www.cilium.io"]),
    ("**.example.com", ["a.example.com", "a.b.example.com"], ["example.com"]),
])
def test_fqdn_patterns(pattern, matches, misses):
    regex = fqdn_regex(pattern)
    assert all(regex.fullmatch(m) for m in matches)
    assert not any(regex.fullmatch(m) for m in misses)


@pytest.mark.parametrize("query, fragment", [
    (("nobody", "x", 80), "unknown endpoint 'nobody'"),
    (("x", "z", 0), "port=0 is not a port number"),
    (("x", "z", 80, "ICMP"), "protocol='ICMP' is unknown"),
    (("x", "z", 80, "TCP", "GE T"), "is not an HTTP method"),
])
def test_bad_queries_say_what_to_fix(query, fragment):
    with pytest.raises(CheckError, match=fragment):
        check_flow([], CATALOG, *query)


def test_filters(seed_graph):
    policies = cilium_policies(seed_graph)
    allows = AllowsFilters().filters()["policy_allows"]
    assert allows(policies, seed_graph, "web", "was", 8080, method="GET") is True
    assert allows(policies, seed_graph, "web", "was", 8080, method="PATCH") is False
    explained = allows(policies, seed_graph, "web", "mysql", "3306", explain=True)
    assert explained["allowed"] is False and len(explained["reasons"]) == 2
    with pytest.raises(AnsibleFilterError, match="unknown endpoint 'nobody'"):
        allows(policies, seed_graph, "nobody", "was", 8080)
    matrix = MatrixFilters().filters()["reachability_matrix"](policies, seed_graph)
    assert matrix["was"]["github"] == ["443/TCP"] and "mysql" not in matrix["web"]
