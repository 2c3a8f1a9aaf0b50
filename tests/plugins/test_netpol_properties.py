"""Property-based tests: on random service graphs, the compiled policies allow a flow iff the graph declares it,
compiling is deterministic, and every compiled policy is valid against its schema.

The oracle below reads the graph directly (no compiler, no checker code) with the documented semantics:
a flow is allowed iff the source may send it (it is no workload, or one of its egress rules or its DNS rule
covers it) and the destination may receive it (it is no workload, or one of its ingress rules covers it).
"""

from __future__ import annotations

import copy
import fnmatch

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.homelab.stack.plugins.module_utils.netpol_check import PolicyChecker
from ansible_collections.homelab.stack.plugins.module_utils.netpol_compile import (
    cilium_policies, k8s_network_policies)
pytest_plugins = ["plugin_fixtures"]  # the seed_graph and validator fixtures

NAMESPACES = ("ns-a", "ns-b", "ns-c")
PORTS = (80, 8080, 443, "53/UDP", "9000/UDP")
METHODS = ("GET", "POST", "DELETE")
ENTITY_REFS = ("all", "world", "cluster", "host")
FQDNS = {"f0": ["f0.example.com"], "f1": ["*.f1.example.org"], "f2": ["f2.example.net", "www.f2.example.net"]}
ENTITY_EXTERNALS = {"e-world": "world", "e-host": "host", "e-cluster": "cluster"}
# Cilium's `cluster` entity: every pod plus these reserved identities (docs, "Entities Based").
CLUSTER_ENTITIES = {"host", "remote-node", "kube-apiserver", "ingress", "health", "init", "unmanaged", "cluster"}
QUERY_PORTS = ((80, "TCP"), (8080, "TCP"), (443, "TCP"), (53, "UDP"), (53, "TCP"), (9000, "UDP"), (7777, "TCP"))
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def rules(draw, peers):
    rule = {"peers": draw(st.lists(st.sampled_from(peers), min_size=1, max_size=3, unique=True))}
    ports = draw(st.one_of(st.none(), st.lists(st.sampled_from(PORTS), min_size=1, max_size=2, unique=True)))
    if ports is not None:
        rule["ports"] = ports
        if all(isinstance(p, int) for p in ports) and draw(st.booleans()):
            rule["methods"] = draw(st.lists(st.sampled_from(METHODS), min_size=1, max_size=2, unique=True))
    return rule


@st.composite
def graphs(draw):
    workloads = [f"w{i}" for i in range(draw(st.integers(1, 5)))]
    pods = draw(st.lists(st.sampled_from(["p0", "p1"]), unique=True))
    fqdns = draw(st.lists(st.sampled_from(sorted(FQDNS)), unique=True))
    entities = draw(st.lists(st.sampled_from(sorted(ENTITY_EXTERNALS)), unique=True))
    externals = {"dns": {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}, "ports": ["53/UDP", "53/TCP"]}}
    externals.update({p: {"namespace": draw(st.sampled_from(NAMESPACES)), "labels": {"ext": p}} for p in pods})
    externals.update({f: {"fqdns": FQDNS[f]} for f in fqdns})
    externals.update({e: {"entity": ENTITY_EXTERNALS[e]} for e in entities})
    sources = workloads + ["dns"] + pods + entities + list(ENTITY_REFS)
    graph = {"namespace": "ns-a", "dns": "dns", "externals": externals, "workloads": {}}
    for name in workloads:
        workload = {"labels": {"app": name}, "namespace": draw(st.sampled_from(NAMESPACES))}
        for direction, peers, key in (("ingress", sources, "from"), ("egress", sources + fqdns, "to")):
            drawn = draw(st.one_of(st.none(), st.lists(rules(peers), max_size=3)))
            if drawn is not None:
                workload[direction] = [dict({key: r.pop("peers")}, **r) for r in drawn]
        uses_fqdn = any(set(r["to"]) & set(fqdns) for r in workload.get("egress", []))
        if not uses_fqdn and draw(st.booleans()):
            workload["dns"] = False
        graph["workloads"][name] = workload
    return graph


# -- the oracle -----------------------------------------------------------------------------------------------
def kind_of(graph, name):
    if name in graph["workloads"]:
        return "workload"
    external = graph["externals"].get(name, {})
    return "pods" if "labels" in external else "fqdn" if "fqdns" in external else "entity"


def in_entity(graph, target, entity):
    kind = kind_of(graph, target)
    if entity == "all":
        return True
    if kind in ("workload", "pods"):
        return entity == "cluster"
    if kind == "fqdn":
        return entity == "world"
    own = graph["externals"][target]["entity"]
    return own == entity or (entity == "cluster" and own in CLUSTER_ENTITIES)


def covers(graph, peer, target):
    """Does a rule naming `peer` cover the endpoint `target`?"""
    if peer in graph["workloads"] or (peer in graph["externals"] and "labels" in graph["externals"][peer]):
        return peer == target  # the graph validator guarantees selectors do not overlap
    if peer in graph["externals"] and "fqdns" in graph["externals"][peer]:
        if kind_of(graph, target) != "fqdn":
            return False
        patterns = graph["externals"][peer]["fqdns"]
        # fnmatch's * also crosses dots; the FQDN fixtures are chosen so that makes no difference.
        return all(any(fnmatch.fnmatchcase(n.replace("*", "x"), p) for p in patterns)
                   for n in graph["externals"][target]["fqdns"])
    entity = graph["externals"][peer]["entity"] if peer in graph["externals"] else peer
    return in_entity(graph, target, entity)


def parse_port(port):
    return (port, "TCP") if isinstance(port, int) else (int(port.split("/")[0]), port.split("/")[1])


def declared(graph, rules_, key, other, port, proto, method):
    for rule in rules_ or []:
        ports = [parse_port(p) for p in rule.get("ports", [])]
        if any(covers(graph, peer, other) for peer in rule[key]) and (not ports or (port, proto) in ports) \
                and (method is None or not rule.get("methods") or method in rule["methods"]):
            return True
    return False


def graph_allows(graph, source, destination, port, proto, method):
    sender = graph["workloads"].get(source)
    receiver = graph["workloads"].get(destination)
    dns = sender is not None and sender.get("dns", True) and destination == "dns" and method is None \
        and (port, proto) in ((53, "UDP"), (53, "TCP"))
    out = sender is None or dns or declared(graph, sender.get("egress"), "to", destination, port, proto, method)
    inn = receiver is None or declared(graph, receiver.get("ingress"), "from", source, port, proto, method)
    return out and inn


# -- properties -----------------------------------------------------------------------------------------------
@PROPERTY
@given(graphs())
def test_a_flow_is_allowed_iff_the_graph_declares_it(graph):
    checker = PolicyChecker(cilium_policies(graph), graph)
    names = [e.name for e in checker.endpoints]
    for source in names:
        for destination in names:
            for port, proto in QUERY_PORTS:
                for method in (None, "GET", "PATCH") if proto == "TCP" else (None,):
                    expected = graph_allows(graph, source, destination, port, proto, method)
                    decision = checker.allows(source, destination, port, proto, method)
                    assert decision.allowed == expected, (source, destination, port, proto, method,
                                                          decision.reasons, yaml.safe_dump(graph))


@PROPERTY
@given(graphs())
def test_the_matrix_lists_exactly_the_allowed_pairs(graph):
    checker = PolicyChecker(cilium_policies(graph), graph)
    cells = checker.matrix()
    for a, source in enumerate(checker.endpoints):
        for b, destination in enumerate(checker.endpoints):
            open_ports = any(graph_allows(graph, source.name, destination.name, port, proto, None)
                             for port, proto in QUERY_PORTS)
            if open_ports:
                assert (a, b) in cells, (source.name, destination.name)
            for port, proto in QUERY_PORTS:
                in_matrix = any(g.permits(port, proto, None) for g in cells.get((a, b), ()))
                assert in_matrix == graph_allows(graph, source.name, destination.name, port, proto, None)


@PROPERTY
@given(graphs())
def test_compile_is_deterministic_and_ignores_mapping_order(graph):
    first = yaml.safe_dump_all(cilium_policies(graph), sort_keys=False)
    reordered = copy.deepcopy(graph)
    reordered["workloads"] = dict(reversed(list(reordered["workloads"].items())))
    reordered["externals"] = dict(reversed(list(reordered["externals"].items())))
    assert yaml.safe_dump_all(cilium_policies(reordered), sort_keys=False) == first
    assert yaml.safe_dump_all(cilium_policies(graph), sort_keys=False) == first


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(graphs())
def test_every_compiled_policy_is_schema_valid(validator, graph):
    for document in cilium_policies(graph) + k8s_network_policies(graph):
        assert validator.validate_document(document) == [], yaml.safe_dump(document)
