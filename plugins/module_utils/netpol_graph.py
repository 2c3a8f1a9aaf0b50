# -*- coding: utf-8 -*-
# Copyright: homelab.stack developers
# Apache-2.0 (see galaxy.yml)
"""The declarative service graph: parsing and validation into an immutable model.

Shared by the policy compiler (netpol_compile) and the policy checker (netpol_check, which uses the graph
as its endpoint catalog). Pure Python, no Ansible import. Every problem is reported at once, each message
naming the path in the graph, the offending value and the fix.

Format (see docs/plugins.md):
  namespace: blog-system                # default namespace of workloads and label externals
  dns: kube-dns                         # optional: external every workload may query (DNS proxy rule)
  externals: {name: {namespace, labels} | {fqdns: [...]} | {entity: world}, optional ports}
  workloads: {name: {labels, namespace?, name?, dns?, ingress?: [{from, ports?, methods?}],
                     egress?: [{to, ports?, methods?}]}}
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Cilium's reserved entities (the enum of toEntities/fromEntities in the CiliumNetworkPolicy CRD).
ENTITIES = ("all", "world", "cluster", "host", "remote-node", "kube-apiserver", "ingress", "init", "health",
            "unmanaged", "none")
# Entities that are part of the `cluster` entity besides every pod (Cilium docs, "Entities Based").
CLUSTER_ENTITIES = frozenset(("cluster", "host", "remote-node", "kube-apiserver", "ingress", "init", "health",
                              "unmanaged"))
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH")
PROTOCOLS = ("TCP", "UDP", "SCTP")
DEFAULT_DNS_PORTS = ((53, "UDP"), (53, "TCP"))

GRAPH_KEYS = ("namespace", "dns", "externals", "workloads")
WORKLOAD_KEYS = ("labels", "namespace", "name", "dns", "ingress", "egress")
EXTERNAL_KEYS = ("namespace", "labels", "fqdns", "entity", "ports")
RULE_KEYS = {"ingress": ("from", "ports", "methods"), "egress": ("to", "ports", "methods")}
PEER_KEY = {"ingress": "from", "egress": "to"}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_FQDN = re.compile(r"^[-a-zA-Z0-9_*]+(\.[-a-zA-Z0-9_*]+)*\.?$")
_PORT = re.compile(r"^(\d+)(?:/([A-Za-z]+))?$")


class GraphError(ValueError):
    """Invalid service graph; `problems` holds one message per problem."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("invalid service graph:\n- " + "\n- ".join(self.problems))


@dataclass(frozen=True)
class Endpoint:
    """Something traffic can come from or go to.

    kind: "workload" (pods the graph writes a policy for), "pods" (label-selected pods of an external),
    "fqdn" (DNS names outside the cluster) or "entity" (a Cilium reserved entity).
    """
    name: str
    kind: str
    namespace: str | None = None
    labels: tuple = ()  # sorted (key, value) pairs
    fqdns: tuple = ()
    entity: str | None = None
    ports: tuple = ()  # ((port, protocol), ...) the endpoint listens on, when known

    @property
    def is_pod(self):
        return self.kind in ("workload", "pods")


@dataclass(frozen=True)
class Rule:
    """One ingress or egress rule: peers (endpoint names), ports ((port, proto); empty = every port), methods."""
    path: str
    peers: tuple
    ports: tuple
    methods: tuple


@dataclass(frozen=True)
class Workload:
    endpoint: Endpoint
    policy_name: str
    dns: bool
    ingress: tuple  # of Rule; empty = nothing allowed in
    egress: tuple   # of Rule; empty = nothing allowed out (besides DNS)


@dataclass(frozen=True)
class Graph:
    namespace: str
    dns: str | None
    endpoints: dict   # name -> Endpoint, workloads first then externals, in graph order
    workloads: dict   # name -> Workload

    def resolve(self, name):
        """The endpoint a reference names: a workload, an external, else a Cilium entity."""
        if name in self.endpoints:
            return self.endpoints[name]
        if name in ENTITIES:
            return Endpoint(name=name, kind="entity", entity=name)
        raise KeyError(name)


# -- small validators: each appends its problems and returns the clean value (or None) ---------------------
def _is_str(value):
    return isinstance(value, str) and value != ""


def _check_keys(data, allowed, path, problems):
    for key in data:
        if key not in allowed:
            problems.append(f"{path}: unknown key {key!r}. Fix: use only {', '.join(allowed)}.")


def _namespace(value, path, problems):
    if not _is_str(value) or len(value) > 63 or not _DNS_LABEL.match(value):
        problems.append(f"{path}={value!r} is not a namespace name. Fix: use a DNS label such as blog-system "
                        "(lower-case letters, digits and '-', at most 63 characters).")
        return None
    return value


def _label_key_ok(key):
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(_LABEL_NAME.match(name))


def _labels(value, path, problems):
    if not isinstance(value, dict) or not value:
        problems.append(f"{path}={value!r} must be a non-empty mapping of pod labels. Fix: write e.g. "
                        "labels: {app: web}.")
        return None
    clean = []
    for key, item in value.items():
        if not isinstance(key, str) or not _label_key_ok(key):
            problems.append(f"{path}: {key!r} is not a valid label key. Fix: use [prefix/]name, name made of "
                            "letters, digits, '-', '_' and '.', at most 63 characters.")
        elif not isinstance(item, str):
            problems.append(f"{path}.{key}={item!r} is a {type(item).__name__}, not a string. Fix: quote it "
                            f"(\"{item}\").")
        elif len(item) > 63 or (item and not _LABEL_NAME.match(item)):
            problems.append(f"{path}.{key}={item!r} is not a valid label value. Fix: letters, digits, '-', '_' "
                            "and '.', starting and ending with a letter or digit, at most 63 characters.")
        else:
            clean.append((key, item))
    return tuple(sorted(clean)) if len(clean) == len(value) else None


def parse_port(value, path, problems):
    """80 -> (80, 'TCP'); '53/UDP' -> (53, 'UDP'). None (with a problem) when invalid."""
    if isinstance(value, bool):
        match = None
    elif isinstance(value, int):
        match = (value, "TCP")
    elif isinstance(value, str) and _PORT.match(value.strip()):
        number, proto = _PORT.match(value.strip()).groups()
        match = (int(number), (proto or "TCP").upper())
    else:
        match = None
    if match is None or not 1 <= match[0] <= 65535 or match[1] not in PROTOCOLS:
        problems.append(f"{path}={value!r} is not a port. Fix: write a number 1-65535 (TCP) or "
                        f"\"<port>/<protocol>\" with protocol {', '.join(PROTOCOLS)}, such as \"53/UDP\".")
        return None
    return match


def _ports(value, path, problems):
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        problems.append(f"{path}={value!r} must be a non-empty list of ports. Fix: write e.g. ports: [8080], "
                        "or leave ports out to allow every port.")
        return None
    parsed = [parse_port(item, f"{path}[{i}]", problems) for i, item in enumerate(value)]
    if None in parsed:
        return None
    return tuple(dict.fromkeys(parsed))  # duplicates dropped, order kept


def _methods(value, ports, path, problems):
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        problems.append(f"{path}={value!r} must be a non-empty list of HTTP methods. Fix: write e.g. "
                        "methods: [GET, POST], or leave methods out to allow any request.")
        return None
    bad = [m for m in value if m not in HTTP_METHODS]
    for method in bad:
        problems.append(f"{path}: {method!r} is not an HTTP method. Fix: use upper-case names among "
                        f"{', '.join(HTTP_METHODS)}.")
    if ports == ():
        problems.append(f"{path}: HTTP methods need the ports they apply to. Fix: add ports: [<http port>].")
    elif ports and any(proto != "TCP" for _, proto in ports):
        problems.append(f"{path}: HTTP methods only apply to TCP ports, but ports are "
                        f"{', '.join(f'{p}/{proto}' for p, proto in ports)}. Fix: split the UDP/SCTP ports into "
                        "their own rule without methods.")
    return None if bad else tuple(dict.fromkeys(value))


def _fqdns(value, path, problems):
    if not isinstance(value, list) or not value:
        problems.append(f"{path}={value!r} must be a non-empty list of DNS names. Fix: write e.g. "
                        "fqdns: [github.com, \"*.github.com\"].")
        return None
    bad = [n for n in value if not isinstance(n, str) or len(n) > 255 or not _FQDN.match(n)]
    for name in bad:
        problems.append(f"{path}: {name!r} is not a DNS name or pattern. Fix: letters, digits, '-', '_', "
                        "'.' and '*' wildcards, such as \"*.amazonaws.com\".")
    return None if bad else tuple(dict.fromkeys(n.lower().rstrip(".") for n in value))


# -- sections -------------------------------------------------------------------------------------------------
def _external(name, data, default_ns, problems):
    path = f"externals.{name}"
    if not isinstance(data, dict):
        problems.append(f"{path}={data!r} must be a mapping. Fix: give it labels (+ namespace), fqdns or entity.")
        return None
    _check_keys(data, EXTERNAL_KEYS, path, problems)
    kinds = [key for key in ("labels", "fqdns", "entity") if key in data]
    if len(kinds) != 1:
        problems.append(f"{path} has {' and '.join(kinds) or 'none of labels, fqdns, entity'}. Fix: give exactly "
                        "one of labels (pods, with namespace), fqdns (DNS names) or entity (a Cilium entity).")
        return None
    ports = _ports(data.get("ports"), f"{path}.ports", problems)
    if "namespace" in data and kinds != ["labels"]:
        problems.append(f"{path}.namespace only applies to label externals. Fix: remove it.")
    if kinds == ["labels"]:
        namespace = _namespace(data.get("namespace", default_ns), f"{path}.namespace", problems)
        labels = _labels(data["labels"], f"{path}.labels", problems)
        if namespace and labels and ports is not None:
            return Endpoint(name, "pods", namespace=namespace, labels=labels, ports=ports)
        return None
    if kinds == ["fqdns"]:
        fqdns = _fqdns(data["fqdns"], f"{path}.fqdns", problems)
        return Endpoint(name, "fqdn", fqdns=fqdns, ports=ports) if fqdns and ports is not None else None
    if data["entity"] not in ENTITIES:
        problems.append(f"{path}.entity={data['entity']!r} is not a Cilium entity. Fix: use one of "
                        f"{', '.join(ENTITIES)}.")
        return None
    return Endpoint(name, "entity", entity=data["entity"], ports=ports or ())


def _rules(data, direction, path, problems):
    if data is None:
        return ()
    if not isinstance(data, list):
        problems.append(f"{path}={data!r} must be a list of rules. Fix: write e.g. "
                        f"{direction}: [{{{PEER_KEY[direction]}: [web], ports: [80]}}], or [] to allow nothing.")
        return None
    rules = []
    for index, item in enumerate(data):
        rule_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{rule_path}={item!r} must be a mapping with {PEER_KEY[direction]}, ports, methods.")
            continue
        _check_keys(item, RULE_KEYS[direction], rule_path, problems)
        peers = item.get(PEER_KEY[direction])
        if not isinstance(peers, list) or not peers or not all(_is_str(p) for p in peers):
            problems.append(f"{rule_path}.{PEER_KEY[direction]}={peers!r} must be a non-empty list of names. "
                            "Fix: name workloads, externals or entities (all, world, cluster, ...).")
            continue
        ports = _ports(item.get("ports"), f"{rule_path}.ports", problems)
        methods = _methods(item.get("methods"), ports, f"{rule_path}.methods", problems)
        if ports is not None and methods is not None:
            rules.append(Rule(rule_path, tuple(dict.fromkeys(peers)), ports, methods))
    return tuple(rules)


def _workload(name, data, default_ns, problems):
    path = f"workloads.{name}"
    if not isinstance(data, dict):
        problems.append(f"{path}={data!r} must be a mapping with at least labels. Fix: write e.g. "
                        f"{name}: {{labels: {{app: {name}}}}}.")
        return None
    _check_keys(data, WORKLOAD_KEYS, path, problems)
    namespace = _namespace(data.get("namespace", default_ns), f"{path}.namespace", problems)
    labels = _labels(data.get("labels"), f"{path}.labels", problems)
    policy = data.get("name", f"{name}-isolation")
    if not _is_str(policy) or len(policy) > 253 or not _DNS_SUBDOMAIN.match(policy):
        problems.append(f"{path}.name={policy!r} is not a valid policy name. Fix: lower-case letters, digits, "
                        "'-' and '.', such as web-isolation.")
    dns = data.get("dns", True)
    if not isinstance(dns, bool):
        problems.append(f"{path}.dns={dns!r} must be true or false.")
    ingress = _rules(data.get("ingress"), "ingress", f"{path}.ingress", problems)
    egress = _rules(data.get("egress"), "egress", f"{path}.egress", problems)
    if None in (namespace, labels, ingress, egress):
        return None
    return Workload(Endpoint(name, "workload", namespace=namespace, labels=labels), policy, dns is True,
                    ingress, egress)


def _check_names(names, section, problems):
    for name in names:
        if not isinstance(name, str) or len(name) > 63 or not _DNS_LABEL.match(name):
            problems.append(f"{section}: {name!r} is not a valid name. Fix: use a DNS label such as was or "
                            "mysql-exporter (it names policies and appears in reports).")


# -- cross checks ---------------------------------------------------------------------------------------------
def _check_references(graph, problems):
    for workload in graph.workloads.values():
        for direction in ("ingress", "egress"):
            for rule in getattr(workload, direction):
                for index, peer in enumerate(rule.peers):
                    _check_reference(graph, workload, direction, rule, index, peer, problems)


def _check_reference(graph, workload, direction, rule, index, peer, problems):
    path = f"{rule.path}.{PEER_KEY[direction]}[{index}]"
    try:
        endpoint = graph.resolve(peer)
    except KeyError:
        problems.append(f"{path}={peer!r} names no workload, external or entity. Fix: declare it under "
                        f"externals, or use one of the workloads ({', '.join(graph.workloads)}) or entities "
                        f"({', '.join(ENTITIES)}).")
        return
    if endpoint.kind == "fqdn" and direction == "ingress":
        problems.append(f"{path}={peer!r} is a DNS-name external; DNS names only select destinations. "
                        "Fix: allow ingress from an entity (world) or a label external instead.")
    if endpoint.kind == "fqdn" and direction == "egress" and not (graph.dns and workload.dns):
        problems.append(f"{path}={peer!r} is a DNS-name external but {workload.endpoint.name} has no DNS "
                        "rule, so Cilium never learns the addresses of those names. Fix: set the graph's dns "
                        "and keep dns: true on the workload.")


def _check_selectors(graph, problems):
    """A workload's or external's labels must select only itself in its namespace; otherwise a policy (or a
    reference) meant for one endpoint silently applies to another one too."""
    index = {}
    pods = [e for e in graph.endpoints.values() if e.is_pod]
    for position, endpoint in enumerate(pods):
        for pair in endpoint.labels:
            index.setdefault((endpoint.namespace, pair), set()).add(position)
    for position, endpoint in enumerate(pods):
        matched = set.intersection(*(index[(endpoint.namespace, pair)] for pair in endpoint.labels))
        for other in sorted(matched - {position}):
            section = "workloads" if endpoint.kind == "workload" else "externals"
            victim = pods[other]
            problems.append(
                f"{section}.{endpoint.name}.labels {dict(endpoint.labels)} also select "
                f"{'workloads' if victim.kind == 'workload' else 'externals'}.{victim.name} "
                f"(labels {dict(victim.labels)}) in namespace {endpoint.namespace}. Fix: give "
                f"{endpoint.name} a label the other one lacks (for example app: {endpoint.name}).")


def _check_policy_names(graph, problems):
    seen = {}
    for workload in graph.workloads.values():
        key = (workload.endpoint.namespace, workload.policy_name)
        if key in seen:
            problems.append(f"workloads.{workload.endpoint.name} and workloads.{seen[key]} both produce policy "
                            f"{key[0]}/{key[1]}. Fix: set a distinct name on one of them.")
        seen.setdefault(key, workload.endpoint.name)


def _check_dns(graph, problems):
    if graph.dns is None:
        return
    endpoint = graph.endpoints.get(graph.dns)
    if endpoint is None or endpoint.kind != "pods" or endpoint.name in graph.workloads:
        problems.append(f"dns={graph.dns!r} must name an external with namespace and labels (the DNS pods). "
                        "Fix: declare e.g. externals.kube-dns: {namespace: kube-system, labels: "
                        "{k8s-app: kube-dns}, ports: [\"53/UDP\", \"53/TCP\"]}.")


def _mapping(data, key, problems, required):
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{key}={value!r} must be a mapping of name to definition. Fix: write {key}: {{...}}.")
        return {}
    return value


def parse_graph(data):
    """Validate a service graph (a mapping) and return a Graph; raise GraphError listing every problem."""
    if not isinstance(data, dict):
        raise GraphError([f"the service graph must be a mapping, got {type(data).__name__}. Fix: pass a mapping "
                          "with namespace, externals and workloads."])
    problems = []
    _check_keys(data, GRAPH_KEYS, "(graph)", problems)
    namespace = _namespace(data.get("namespace"), "namespace", problems)
    dns = data.get("dns")
    if dns is not None and not _is_str(dns):
        problems.append(f"dns={dns!r} must be the name of an external. Fix: dns: kube-dns.")
    externals_data = _mapping(data, "externals", problems, required=False)
    workloads_data = _mapping(data, "workloads", problems, required=True)
    _check_names(externals_data, "externals", problems)
    _check_names(workloads_data, "workloads", problems)
    for name in set(externals_data) & set(workloads_data):
        problems.append(f"{name!r} is both workloads.{name} and externals.{name}, so references to it are "
                        "ambiguous (one name, two places or namespaces). Fix: rename one of them.")
    if problems:  # later checks would only repeat these problems in other words
        raise GraphError(problems)
    externals = {n: _external(n, d, namespace, problems) for n, d in externals_data.items()}
    workloads = {n: _workload(n, d, namespace, problems) for n, d in workloads_data.items()}
    if problems:
        raise GraphError(problems)
    endpoints = {n: w.endpoint for n, w in workloads.items()}
    endpoints.update(externals)
    graph = Graph(namespace, dns, endpoints, workloads)
    _check_dns(graph, problems)
    _check_references(graph, problems)
    _check_selectors(graph, problems)
    _check_policy_names(graph, problems)
    if problems:
        raise GraphError(problems)
    return graph


def dns_ports(graph):
    """The ports of the DNS external (53/UDP and 53/TCP unless it lists its own)."""
    endpoint = graph.endpoints.get(graph.dns) if graph.dns else None
    return (endpoint.ports or DEFAULT_DNS_PORTS) if endpoint else ()
