"""module_utils/netpol_graph.py: every invalid graph is rejected with its path, its value and the fix."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.stack.plugins.module_utils.netpol_graph import GraphError, parse_graph
pytest_plugins = ["plugin_fixtures"]  # the seed_graph and validator fixtures


def problems_of(graph):
    with pytest.raises(GraphError) as caught:
        parse_graph(graph)
    return caught.value.problems


def test_seed_graph_parses_into_workloads_and_externals(seed_graph):
    graph = parse_graph(seed_graph)
    assert list(graph.workloads) == ["web", "was", "mysql", "mysql-exporter", "mysql-backup"]
    assert graph.endpoints["prometheus"].namespace == "monitoring"
    assert graph.endpoints["github"].fqdns == ("github.com", "*.github.com")
    assert graph.endpoints["world"].entity == "world"
    assert graph.workloads["was"].ingress[0].methods == ("GET", "POST", "PUT", "DELETE")
    assert graph.workloads["mysql-backup"].ingress == ()
    assert graph.workloads["web"].policy_name == "web-isolation"


@pytest.mark.parametrize("port, parsed", [(80, (80, "TCP")), ("53/UDP", (53, "UDP")), ("53/udp", (53, "UDP")),
                                          ("8080", (8080, "TCP")), ("132/SCTP", (132, "SCTP"))])
def test_port_forms(seed_graph, port, parsed):
    seed_graph["workloads"]["web"]["ingress"][0]["ports"] = [port]
    assert parse_graph(seed_graph).workloads["web"].ingress[0].ports == (parsed,)


def _set(graph, path, value):
    *parents, last = path
    for key in parents:
        graph = graph[key]
    graph[last] = value


CASES = {
    "unknown reference": (("workloads", "was", "ingress", 0, "from"), ["webb"],
                          ["workloads.was.ingress[0].from[0]='webb' names no workload", "Fix: declare it"]),
    "port out of range": (("workloads", "web", "ingress", 0, "ports"), [70000],
                          ["workloads.web.ingress[0].ports[0]=70000 is not a port", "1-65535"]),
    "port protocol": (("workloads", "web", "ingress", 0, "ports"), ["53/ICMP"],
                      ["ports[0]='53/ICMP' is not a port", "TCP, UDP, SCTP"]),
    "port boolean": (("workloads", "web", "ingress", 0, "ports"), [True], ["ports[0]=True is not a port"]),
    "bad method": (("workloads", "was", "ingress", 0, "methods"), ["GET", "FETCH"],
                   ["workloads.was.ingress[0].methods: 'FETCH' is not an HTTP method", "PATCH"]),
    "lower-case method": (("workloads", "was", "ingress", 0, "methods"), ["get"], ["'get' is not an HTTP method"]),
    "methods on UDP": (("workloads", "was", "ingress", 0, "ports"), ["8080/UDP"],
                       ["HTTP methods only apply to TCP ports", "8080/UDP"]),
    "duplicate labels": (("workloads", "mysql-backup", "labels"), {"app": "mysql"},
                         ["workloads.mysql.labels {'app': 'mysql'} also select workloads.mysql-backup",
                          "Fix: give mysql a label"]),
    "unknown workload key": (("workloads", "web", "ingres"), [], ["workloads.web: unknown key 'ingres'"]),
    "unknown rule key": (("workloads", "web", "egress", 0, "port"), 80,
                         ["workloads.web.egress[0]: unknown key 'port'. Fix: use only to, ports, methods"]),
    "ingress from a DNS name": (("workloads", "web", "ingress", 0, "from"), ["github"],
                                ["workloads.web.ingress[0].from[0]='github' is a DNS-name external",
                                 "DNS names only select destinations"]),
    "FQDN without DNS": (("workloads", "was", "dns"), False,
                         ["workloads.was.egress[3].to[0]='github'", "has no DNS rule", "keep dns: true"]),
    "dns is not a pod external": (("dns",), "github", ["dns='github' must name an external with namespace"]),
    "external of two kinds": (("externals", "s3", "labels"), {"app": "s3"},
                              ["externals.s3 has labels and fqdns", "exactly one of"]),
    "unknown entity": (("externals", "world", "entity"), "worl", ["externals.world.entity='worl' is not a Cilium"]),
    "label value not a string": (("workloads", "web", "labels"), {"app": "web", "version": 2},
                                 ["workloads.web.labels.version=2 is a int", "quote it"]),
    "bad namespace": (("workloads", "web", "namespace"), "Blog_System",
                      ["workloads.web.namespace='Blog_System' is not a namespace name"]),
    "bad fqdn": (("externals", "github", "fqdns"), ["git hub.com"], ["'git hub.com' is not a DNS name"]),
    "empty peers": (("workloads", "web", "egress", 0, "to"), [], ["workloads.web.egress[0].to=[] must be"]),
    "methods without ports": (("workloads", "was", "ingress", 0, "ports"), None,
                              ["HTTP methods need the ports they apply to"]),
    "rules not a list": (("workloads", "web", "ingress"), {"from": ["all"]}, ["workloads.web.ingress="]),
    "bad workload name": (("workloads", "Web_1"), {"labels": {"app": "web1"}},
                          ["workloads: 'Web_1' is not a valid name"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_graphs_name_path_value_and_fix(seed_graph, case):
    path, value, expected = CASES[case]
    _set(seed_graph, path, value)
    text = "\n".join(problems_of(seed_graph))
    for fragment in expected:
        assert fragment in text


def test_labels_that_select_another_workload_are_rejected(seed_graph):
    # {app: web} would also select the canary pods: web's policy would silently apply to them.
    seed_graph["workloads"]["web-canary"] = {"labels": {"app": "web", "track": "canary"}}
    text = "\n".join(problems_of(seed_graph))
    assert "workloads.web.labels {'app': 'web'} also select workloads.web-canary" in text


def test_same_labels_in_other_namespaces_are_fine(seed_graph):
    seed_graph["workloads"]["web-staging"] = {"labels": {"app": "web"}, "namespace": "staging"}
    assert parse_graph(seed_graph).workloads["web-staging"].endpoint.namespace == "staging"


def test_a_name_both_workload_and_external_is_ambiguous(seed_graph):
    seed_graph["externals"]["web"] = {"namespace": "other", "labels": {"app": "web"}}
    assert any("both workloads.web and externals.web" in p for p in problems_of(seed_graph))


def test_two_workloads_with_one_policy_name(seed_graph):
    seed_graph["workloads"]["web"]["name"] = "shared"
    seed_graph["workloads"]["was"]["name"] = "shared"
    assert any("both produce policy blog-system/shared" in p for p in problems_of(seed_graph))


def test_every_problem_is_reported_at_once(seed_graph):
    seed_graph["workloads"]["web"]["ingress"][0]["ports"] = [0]
    seed_graph["workloads"]["was"]["ingress"][0]["methods"] = ["FETCH"]
    seed_graph["workloads"]["mysql"]["labels"] = {"app": "mysql", "tier": 1}
    problems = problems_of(seed_graph)
    assert len(problems) == 3
    assert all("Fix:" in p or "quote it" in p for p in problems)


@pytest.mark.parametrize("graph, fragment", [
    ([], "the service graph must be a mapping"),
    ({"namespace": "a"}, "workloads=None must be a mapping"),
    ({"namespace": "a", "workloads": {}, "extra": 1}, "(graph): unknown key 'extra'"),
    ({"workloads": {}}, "namespace=None is not a namespace name"),
])
def test_top_level_problems(graph, fragment):
    assert any(fragment in p for p in problems_of(graph))


def test_error_message_lists_problems_one_per_line(seed_graph):
    seed_graph["workloads"]["web"]["ingress"][0]["ports"] = [0]
    with pytest.raises(GraphError, match=r"invalid service graph:\n- workloads.web.ingress\[0\].ports\[0\]=0"):
        parse_graph(seed_graph)
